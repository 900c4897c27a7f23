import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_CHANNEL,
  ADMIN_ID,
  type Harness,
  newUserId,
  startHarness,
  TARGET,
} from "../../dev/service-harness.ts";
import { createGrant, listGrants } from "../../src/aws/access-grants.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";
import type { Actor } from "../../src/rules/lifecycle.ts";
import { InvalidPrefixError } from "../../src/rules/prefix.ts";
import { closePrefix } from "../../src/service/close.ts";
import { grantLocation } from "../../src/service/deps.ts";
import { revokeAccess } from "../../src/service/revoke.ts";

// The service code runs as the provisioner's synthesized role: the stand-in answers AccessDenied to any
// call that role may not make, so these tests also prove the role allows exactly what closing needs.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const admin: Actor = { kind: "admin", id: ADMIN_ID };
const NOW = new Date("2026-12-01T12:00:00.000Z");
const deps = () => h.deps({ now: () => NOW });

const activeFor = (userId: string, subPrefix: string) =>
  h.active(userId, { subPrefix, permission: "READWRITE" }, deps());
const statusOf = async (id: string) => (await h.stores.requests.get(id))?.status;
const adminPosts = () => h.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === ADMIN_CHANNEL);
/** Calls the stand-in judged against the caller's role and refused since `start`. */
const deniedSince = (start: number) => h.aws.state.authorizations.slice(start).filter((a) => !a.allowed);

/** A grant made by hand (root's client), to a role no request knows of. */
async function handMadeGrant(prefix: string) {
  return createGrant(h.s3control, {
    accountId: h.aws.accountId,
    location: grantLocation(deps()),
    scope: GrantScope.of(TARGET.bucket, prefix),
    permission: "READ",
    granteeArn: `arn:aws:iam::${h.aws.accountId}:role/hand-made-reader`,
  });
}
const liveGrantIds = async () =>
  new Set((await listGrants(h.s3control, { accountId: h.aws.accountId })).map((g) => g.id));

describe("closePrefix", () => {
  it("revokes every grant at or under the prefix for each person, spares a sibling prefix, and posts who had access", async () => {
    const alice = newUserId();
    const bob = newUserId();
    const aBroad = await activeFor(alice, "cpg0042/*");
    const aNarrow = await activeFor(alice, "cpg0042/a/*");
    const bSibling = await activeFor(bob, "cpg00421/*");
    const bInside = await activeFor(bob, "cpg0042/b/*");
    const hand = await handMadeGrant("cpg0042/manual/*");
    const postsBefore = adminPosts().length;
    const judgedBefore = h.aws.state.authorizations.length;

    const result = await closePrefix(deps(), {
      prefix: "cpg0042",
      actor: admin,
      reason: "dataset <done> & public",
    });

    expect(deniedSince(judgedBefore)).toEqual([]);
    // Judged as the provisioner: the instance-wide listing and the deletes were allowed by its role.
    const judged = h.aws.state.authorizations.slice(judgedBefore).map((a) => a.action);
    expect(judged).toContain("s3:ListAccessGrants");
    expect(judged).toContain("dynamodb:Query");
    expect(result.prefix).toBe("cpg0042/*");
    expect(result.failures).toEqual([]);
    expect(await statusOf(aBroad.id)).toBe("REVOKED");
    expect(await statusOf(aNarrow.id)).toBe("REVOKED");
    expect(await statusOf(bInside.id)).toBe("REVOKED");
    expect(await statusOf(bSibling.id)).toBe("ACTIVE");
    // Alice had nothing else: keys and IAM user gone. Bob keeps cpg00421/* and his keys.
    expect(h.iamUser(alice)).toBeUndefined();
    expect((await h.grantsOf(bob)).map((g) => g.subPrefix)).toEqual(["cpg00421/*"]);
    expect(h.iamUser(bob)?.accessKeys).toHaveLength(1);
    // The hand-made grant went too, and is named in the post.
    expect((await liveGrantIds()).has(hand.id)).toBe(false);
    expect(result.otherGrants).toMatchObject([
      { grantId: hand.id, scope: "cpg0042/manual/*", deleted: true },
    ]);

    const byPerson = Object.fromEntries(result.people.map((p) => [p.userId, p]));
    expect(byPerson[alice]?.revoked).toEqual(["cpg0042/a/*", "cpg0042/*"]);
    expect(byPerson[bob]?.revoked).toEqual(["cpg0042/b/*"]);
    expect(result.people.map((p) => p.userId).sort()).toEqual([alice, bob].sort());

    // The reason is on each ended request's audit trail, and in every DM (escaped).
    const events = await h.stores.audit.listForRequest(aNarrow.id);
    expect(events.items.some((e) => e.reason === "dataset <done> & public")).toBe(true);
    const aliceDms = h.dmsTo(alice).map((c) => JSON.stringify(c.args));
    expect(aliceDms.at(-1)).toContain("revoked by <@UADMIN0001>");
    expect(aliceDms.at(-1)).toContain("dataset &lt;done&gt; &amp; public");
    expect(JSON.stringify(h.dmsTo(bob).at(-1)?.args)).toContain("cpg0042/b/*");

    // The revoke path posts per person; the close adds ONE summary naming everyone and every scope.
    const closing = adminPosts()
      .slice(postsBefore)
      .filter((c) => String(c.args.text).includes("closed"));
    expect(closing).toHaveLength(1);
    const summary = JSON.stringify(closing[0]?.args);
    for (const s of [`<@${alice}>`, `<@${bob}>`, "cpg0042/a/*", "cpg0042/b/*", hand.id, "hand-made-reader"])
      expect(summary).toContain(s);
    expect(summary).not.toContain("cpg00421");
    expect(summary).toContain("dataset &lt;done&gt; &amp; public");
    expect(summary).not.toContain("<done>");
  });

  it("a second run finds nothing left: no DM, no revoke, one post saying nobody had access", async () => {
    const carol = newUserId();
    const req = await activeFor(carol, "cpg0077/*");
    await closePrefix(deps(), { prefix: "cpg0077/", actor: admin });
    expect(await statusOf(req.id)).toBe("REVOKED");
    const dms = h.dmsTo(carol).length;
    const posts = adminPosts().length;

    const again = await closePrefix(deps(), { prefix: "cpg0077/*", actor: admin });

    expect(again.people).toEqual([]);
    expect(again.otherGrants).toEqual([]);
    expect(h.dmsTo(carol)).toHaveLength(dms);
    expect(adminPosts()).toHaveLength(posts + 1);
    expect(String(adminPosts().at(-1)?.args.text)).toContain("nobody had access");
  });

  it("after a run that died part way, the next run finishes what is left and does not DM anyone twice", async () => {
    const dave = newUserId();
    const erin = newUserId();
    const d = await activeFor(dave, "cpg0078/*");
    const e = await activeFor(erin, "cpg0078/x/*");
    // The first run died after dave's revoke (the same revokeAccess the close calls) and before erin's.
    await revokeAccess(deps(), { userId: dave, subPrefix: "cpg0078/*", actor: admin, reason: "closing" });
    const daveDms = h.dmsTo(dave).length;
    const erinDms = h.dmsTo(erin).length;

    const again = await closePrefix(deps(), { prefix: "cpg0078/*", actor: admin, reason: "closing" });

    expect(again.people.map((p) => p.userId)).toEqual([erin]);
    expect(await statusOf(d.id)).toBe("REVOKED");
    expect(await statusOf(e.id)).toBe("REVOKED");
    expect(h.dmsTo(dave)).toHaveLength(daveDms);
    expect(h.dmsTo(erin)).toHaveLength(erinDms + 1);
  });

  it("refuses the whole bucket and anything that is not a prefix, before any call", async () => {
    const start = h.aws.state.requests.length;
    for (const p of ["*", "", "s3://staging-cellpainting-gallery/", "cpg0042*", "../x"]) {
      await expect(closePrefix(deps(), { prefix: p, actor: admin })).rejects.toBeInstanceOf(
        InvalidPrefixError,
      );
    }
    await expect(closePrefix(deps(), { prefix: "*", actor: admin })).rejects.toThrow(/whole bucket/);
    expect(h.aws.state.requests.length).toBe(start);
  });
});
