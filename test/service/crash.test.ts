/**
 * A crash after each provisioning step, then a retry: no orphan key, no duplicate grant, exactly one
 * DM (one more only in the documented window between Slack accepting the DM and DynamoDB recording
 * it), and the link that reached the person opens to the key IAM actually holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall } from "../../dev/fake-slack.ts";
import { type Harness, newUserId, startHarness } from "../../dev/service-harness.ts";
import { open } from "../../src/secret-link/crypto.ts";
import type { CredentialsPayload } from "../../src/secret-link/issue.ts";
import type { CrashPoint } from "../../src/service/deps.ts";
import { provisionRequest } from "../../src/service/provision.ts";
import { TransitionConflictError } from "../../src/store/errors.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

const crashAt = (point: CrashPoint) => ({
  at: (p: CrashPoint) => {
    if (p === point) throw new SimulatedCrash(`crash after ${p}`);
  },
});

const LINK = /\/s\/([A-Za-z0-9_-]{22})#([A-Za-z0-9_-]{43})/;

function linkIn(call: SlackCall | undefined): { id: string; key: string } | undefined {
  const m = LINK.exec(JSON.stringify(call?.args.blocks ?? ""));
  return m?.[1] && m[2] ? { id: m[1], key: m[2] } : undefined;
}

/** Open the one-time link the way the browser would (consumes it). */
async function openLink(link: { id: string; key: string }): Promise<CredentialsPayload | undefined> {
  const record = await h.stores.secrets.consume(link.id, Math.floor(Date.now() / 1000));
  if (!record) return undefined;
  return JSON.parse(await open(record, link.key, link.id)) as CredentialsPayload;
}

// Every point but dmPosted (its own test below: the documented window). Provisioning writes twice, at
// "secret" and "active"; before the first, the retry rediscovers the user and grant and deletes the
// undelivered key (src/service/deps.ts, CrashPoint).
const NEW_KEY_POINTS: CrashPoint[] = ["iamUser", "accessKey", "grant", "secret", "active"];

describe("provisioner crash after each step, then retry (new keys)", () => {
  it.each(NEW_KEY_POINTS)("crash after %s: one key (the delivered one), one grant, one DM", async (point) => {
    const userId = newUserId();
    const req = await h.approved(userId, { subPrefix: "cpg0042/*" });

    await expect(provisionRequest(h.deps({ hooks: crashAt(point) }), req.id)).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    const retry = await provisionRequest(h.deps(), req.id);
    expect(retry.outcome).toBe(point === "active" ? "skipped" : "activated");

    const done = await h.stores.requests.get(req.id);
    expect(done?.status).toBe("ACTIVE");
    const iamUser = h.iamUser(userId);
    expect(iamUser?.accessKeys.map((k) => k.accessKeyId)).toEqual([done?.progress.accessKey?.accessKeyId]);
    expect(await h.grantsOf(userId)).toHaveLength(1);

    const dms = h.dmsTo(userId);
    expect(dms).toHaveLength(1);
    const payload = await openLink(linkIn(dms[0]) ?? { id: "", key: "" });
    expect(payload?.accessKeyId).toBe(iamUser?.accessKeys[0]?.accessKeyId);
    expect(payload?.secretAccessKey).toBe(iamUser?.accessKeys[0]?.secretAccessKey);
  });

  it("crash between Slack accepting the DM and recording it: a second DM supersedes the first, whose link is dead", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    await expect(provisionRequest(h.deps({ hooks: crashAt("dmPosted") }), req.id)).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    await provisionRequest(h.deps(), req.id);

    const dms = h.dmsTo(userId);
    expect(dms).toHaveLength(2);
    expect(JSON.stringify(dms[1]?.args.blocks)).toContain("its link no longer works; use this one");
    expect(await openLink(linkIn(dms[0]) ?? { id: "", key: "" })).toBeUndefined();
    const iamUser = h.iamUser(userId);
    expect(iamUser?.accessKeys).toHaveLength(1);
    expect((await openLink(linkIn(dms[1]) ?? { id: "", key: "" }))?.accessKeyId).toBe(
      iamUser?.accessKeys[0]?.accessKeyId,
    );
    expect(await h.grantsOf(userId)).toHaveLength(1);
  });

  it("two crashes in a row still converge to one key and one grant", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    await expect(provisionRequest(h.deps({ hooks: crashAt("accessKey") }), req.id)).rejects.toThrow();
    await expect(provisionRequest(h.deps({ hooks: crashAt("secret") }), req.id)).rejects.toThrow();
    await provisionRequest(h.deps(), req.id);
    expect(h.iamUser(userId)?.accessKeys).toHaveLength(1);
    expect(await h.grantsOf(userId)).toHaveLength(1);
    expect(h.dmsTo(userId)).toHaveLength(1);
  });
});

describe("provisioner crash after each step, then retry (existing keys)", () => {
  // A held key makes no link, so "secret" does not fire; the one write is the one with → ACTIVE.
  it.each(["iamUser", "accessKey", "grant", "active"] as CrashPoint[])(
    "crash after %s: the delivered key stays, the new prefix gets one grant and one note",
    async (point) => {
      const userId = newUserId();
      const first = await h.approved(userId, { subPrefix: "cpg0042/*" });
      await provisionRequest(h.deps(), first.id);
      const keys = h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId);

      const second = await h.approved(userId, { subPrefix: "cpg0077/*" });
      await expect(provisionRequest(h.deps({ hooks: crashAt(point) }), second.id)).rejects.toThrow();
      await provisionRequest(h.deps(), second.id);

      expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(keys);
      expect((await h.grantsOf(userId)).map((g) => g.subPrefix).sort()).toEqual(["cpg0042/*", "cpg0077/*"]);
      const dms = h.dmsTo(userId);
      expect(dms).toHaveLength(2);
      expect(linkIn(dms[1])).toBeUndefined();
      expect((await h.stores.requests.get(second.id))?.status).toBe("ACTIVE");
    },
  );
});

describe("a DM recorded without ACTIVE", () => {
  it("resumes at → ACTIVE: no second DM, the delivered key stays (a transition refused after the DM, or an earlier version's crash)", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    await expect(provisionRequest(h.deps({ hooks: crashAt("dmPosted") }), req.id)).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    // What the old separate write of the DM (or the fallback after a refused transition) leaves.
    await h.stores.requests.recordProgress(req.id, "dm", { channel: userId, ts: "1700000000.000100" });
    const keys = h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId);

    const retry = await provisionRequest(h.deps(), req.id);

    expect(retry.outcome).toBe("activated");
    expect((await h.stores.requests.get(req.id))?.status).toBe("ACTIVE");
    expect(h.dmsTo(userId)).toHaveLength(1);
    expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(keys);
    const payload = await openLink(linkIn(h.dmsTo(userId)[0]) ?? { id: "", key: "" });
    expect(payload?.accessKeyId).toBe(keys?.[0]);
    expect(await h.grantsOf(userId)).toHaveLength(1);
  });
});

describe("→ ACTIVE refused after the DM", () => {
  it("the DM is still recorded, so its key counts as delivered", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    // An admin revokes the APPROVED request between the DM and → ACTIVE.
    const revokeAfterDm = {
      at: async (p: CrashPoint) => {
        if (p === "dmPosted")
          await h.stores.requests.transition(req.id, {
            from: "APPROVED",
            to: "REVOKED",
            actor: { kind: "admin", id: "UADMIN0001" },
          });
      },
    };
    await expect(provisionRequest(h.deps({ hooks: revokeAfterDm }), req.id)).rejects.toBeInstanceOf(
      TransitionConflictError,
    );
    const after = await h.stores.requests.get(req.id);
    expect(after?.status).toBe("REVOKED");
    expect(after?.progress.dm).toMatchObject({ channel: expect.any(String), ts: expect.any(String) });
    expect(after?.progress.accessKey?.accessKeyId).toBe(h.iamUser(userId)?.accessKeys[0]?.accessKeyId);
  });
});

describe("concurrent provisioning", () => {
  it("the same request provisioned twice at once (a redelivered record): one user, one key, one grant, one DM", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    const results = await Promise.all([
      provisionRequest(h.deps(), req.id),
      provisionRequest(h.deps(), req.id),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(["activated", "skipped"]);
    expect(h.iamUser(userId)?.accessKeys).toHaveLength(1);
    expect(await h.grantsOf(userId)).toHaveLength(1);
    expect(h.dmsTo(userId)).toHaveLength(1);
  });

  it("two prefixes of one person approved at once: one key (sent once), two grants", async () => {
    const userId = newUserId();
    const a = await h.approved(userId, { subPrefix: "cpg0100/*" });
    const b = await h.approved(userId, { subPrefix: "cpg0200/*" });
    const results = await Promise.all([provisionRequest(h.deps(), a.id), provisionRequest(h.deps(), b.id)]);
    expect(results.every((r) => r.outcome === "activated")).toBe(true);
    expect(results.filter((r) => r.outcome === "activated" && r.newKey)).toHaveLength(1);
    expect(h.iamUser(userId)?.accessKeys).toHaveLength(1);
    expect(await h.grantsOf(userId)).toHaveLength(2);
    const dms = h.dmsTo(userId);
    expect(dms).toHaveLength(2);
    expect(dms.filter((d) => linkIn(d) !== undefined)).toHaveLength(1);
  });
});
