import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_CHANNEL,
  ADMIN_ID,
  type Harness,
  iamCallsSince,
  newUserId,
  startHarness,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { deleteUserCompletely } from "../../src/aws/iam-users.ts";
import type { Actor } from "../../src/rules/lifecycle.ts";
import { provisionRequest } from "../../src/service/provision.ts";
import { revokeAccess } from "../../src/service/revoke.ts";
import { iamUserNameFor } from "../../src/service/users.ts";
import { denyGetUserLikeAwsOnMissingUser, expectGetUserFaultUnused } from "./missing-user.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const admin: Actor = { kind: "admin", id: ADMIN_ID };

const activeFor = (
  userId: string,
  subPrefix: string,
  permission: "READ" | "WRITE" | "READWRITE" = "READWRITE",
) => h.active(userId, { subPrefix, permission });

const adminPosts = () => h.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === ADMIN_CHANNEL);
const statusOf = async (id: string) => (await h.stores.requests.get(id))?.status;

describe("revokeAccess", () => {
  it("revoking everything deletes grants, then keys and the IAM user; requests REVOKED; person and admins told", async () => {
    const userId = newUserId();
    const a = await activeFor(userId, "cpg0042/*");
    const b = await activeFor(userId, "cpg0043/*");
    const postsBefore = adminPosts().length;

    const result = await revokeAccess(h.deps(), { userId, actor: admin });

    expect(result.outcome).toBe("removed");
    expect(result.userDeleted).toBe(true);
    expect(result.revokedPrefixes.sort()).toEqual(["cpg0042/*", "cpg0043/*"]);
    expect(h.iamUser(userId)).toBeUndefined();
    expect(h.awsStateOf(userId).grants).toEqual([]);
    expect(await statusOf(a.id)).toBe("REVOKED");
    expect(await statusOf(b.id)).toBe("REVOKED");
    const dm = h.dmsTo(userId).at(-1);
    expect(JSON.stringify(dm?.args)).toContain("stay valid until they expire");
    expect(adminPosts()).toHaveLength(postsBefore + 1);
    expect(JSON.stringify(adminPosts().at(-1)?.args)).toContain("stay valid until they expire");
    expect(result.text).toContain("up to 12 h");
  });

  it("revoking one prefix removes only its grant; the key, the user and the other grant stay", async () => {
    const userId = newUserId();
    const a = await activeFor(userId, "cpg0042/*");
    const b = await activeFor(userId, "cpg0043/*");
    const keys = h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId);

    const result = await revokeAccess(h.deps(), {
      userId,
      // Any accepted spelling of the prefix names the same grant.
      subPrefix: "s3://staging-cellpainting-gallery/cpg0042/",
      actor: admin,
    });

    expect(result).toMatchObject({
      outcome: "removed",
      userDeleted: false,
      remainingPrefixes: ["cpg0043/*"],
    });
    expect((await h.grantsOf(userId)).map((g) => g.subPrefix)).toEqual(["cpg0043/*"]);
    expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(keys);
    expect(await statusOf(a.id)).toBe("REVOKED");
    expect(await statusOf(b.id)).toBe("ACTIVE");
    expect(JSON.stringify(h.dmsTo(userId).at(-1)?.args)).toContain("cpg0043/*");
  });

  it("revoking one of two overlapping grants leaves the other intact (either way round)", async () => {
    const userId = newUserId();
    const narrow = await activeFor(userId, "cpg0050/plates/*", "READWRITE");
    const broad = await activeFor(userId, "cpg0050/*", "READWRITE");
    expect((await h.grantsOf(userId)).map((g) => g.subPrefix).sort()).toEqual([
      "cpg0050/*",
      "cpg0050/plates/*",
    ]);

    await revokeAccess(h.deps(), { userId, subPrefix: "cpg0050/*", actor: admin });
    expect((await h.grantsOf(userId)).map((g) => g.subPrefix)).toEqual(["cpg0050/plates/*"]);
    expect(await statusOf(broad.id)).toBe("REVOKED");
    expect(await statusOf(narrow.id)).toBe("ACTIVE");
    expect(h.iamUser(userId)).toBeDefined();

    const other = newUserId();
    const n2 = await activeFor(other, "cpg0051/plates/*");
    const b2 = await activeFor(other, "cpg0051/*");
    await revokeAccess(h.deps(), { userId: other, subPrefix: "cpg0051/plates/*", actor: admin });
    expect((await h.grantsOf(other)).map((g) => g.subPrefix)).toEqual(["cpg0051/*"]);
    expect(await statusOf(n2.id)).toBe("REVOKED");
    expect(await statusOf(b2.id)).toBe("ACTIVE");
  });

  it("a narrower request that reused the revoked broader grant keeps its access through a grant of its own", async () => {
    const userId = newUserId();
    const broad = await activeFor(userId, "cpg0060/*", "READWRITE");
    const narrow = await activeFor(userId, "cpg0060/plates/*", "READ");
    expect(await h.grantsOf(userId)).toHaveLength(1);

    const result = await revokeAccess(h.deps(), { userId, subPrefix: "cpg0060/*", actor: admin });

    expect(result.regrantedRequestIds).toEqual([narrow.id]);
    const grants = await h.grantsOf(userId);
    expect(grants).toEqual([{ id: expect.any(String), subPrefix: "cpg0060/plates/*", permission: "READ" }]);
    expect(await statusOf(broad.id)).toBe("REVOKED");
    expect(await statusOf(narrow.id)).toBe("ACTIVE");
    expect((await h.stores.requests.get(narrow.id))?.progress.grant?.grantId).toBe(grants[0]?.id);
  });

  it("a second revoke is a clear no-op: nothing changes and nobody is messaged", async () => {
    const userId = newUserId();
    await activeFor(userId, "cpg0070/*");
    await revokeAccess(h.deps(), { userId, actor: admin });
    const calls = h.slack.calls.length;

    const again = await revokeAccess(h.deps(), { userId, actor: admin });

    expect(again.outcome).toBe("noop");
    expect(again.text).toMatch(/^Nothing to revoke/);
    expect(h.slack.calls.length).toBe(calls);
  });

  it("revoking a prefix that only a broader grant covers changes nothing and names that grant", async () => {
    const userId = newUserId();
    await activeFor(userId, "cpg0080/*");
    const result = await revokeAccess(h.deps(), { userId, subPrefix: "cpg0080/sub/*", actor: admin });
    expect(result.outcome).toBe("noop");
    expect(result.text).toContain("cpg0080/*");
    expect(await h.grantsOf(userId)).toHaveLength(1);
  });

  it("stops an approval that has not been provisioned yet, and the provisioner then does nothing", async () => {
    const userId = newUserId();
    const req = await h.approved(userId, { subPrefix: "cpg0090/*" });
    const result = await revokeAccess(h.deps(), { userId, actor: admin });
    expect(result.endedRequestIds).toEqual([req.id]);
    expect(await provisionRequest(h.deps(), req.id)).toMatchObject({ outcome: "skipped" });
    expect(h.iamUser(userId)).toBeUndefined();
  });

  it("updates the admin card of each revoked request", async () => {
    const userId = newUserId();
    const req = await h.approved(userId, { subPrefix: "cpg0095/*" });
    const card = await h.deps().notifier.postAdminChannel({ text: "request card" });
    await h.stores.requests.annotate(req.id, { adminMessage: card });
    await provisionRequest(h.deps(), req.id);
    await revokeAccess(h.deps(), { userId, actor: admin });
    expect(h.slack.messages.get(`${card.channel}:${card.ts}`)?.text).toContain(`Revoked by <@${ADMIN_ID}>`);
  });

  it("revoking a person whose IAM user is already gone ends the requests without asking GetUser about the missing user", async () => {
    const userId = newUserId();
    const req = await activeFor(userId, "cpg0042/*");
    const userName = iamUserNameFor(TEAM_ID, userId);
    // Deleted outside cytoskel (e.g. by hand in the console), grants and all.
    await deleteUserCompletely({ iam: h.iam, s3control: h.s3control, accountId: h.aws.accountId }, userName);
    expect(h.iamUser(userId)).toBeUndefined();
    denyGetUserLikeAwsOnMissingUser(h, userName);
    const start = h.aws.state.requests.length;

    const result = await revokeAccess(h.deps(), { userId, actor: admin });

    expect(result).toMatchObject({ outcome: "removed", endedRequestIds: [req.id], userDeleted: false });
    expect(await statusOf(req.id)).toBe("REVOKED");
    // And a second revoke is the usual no-op, not an AccessDenied.
    const again = await revokeAccess(h.deps(), { userId, actor: admin });
    expect(again.outcome).toBe("noop");
    expect(again.text).toContain("Nothing to revoke");
    const calls = iamCallsSince(h, start);
    expect(calls.filter((c) => c.startsWith("GetUser"))).toEqual([]);
    expect(calls).toContain("ListUsers:200");
    await expectGetUserFaultUnused(h);
  });
});
