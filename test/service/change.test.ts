/**
 * An approved extension / change of access held (src/service/change.ts), against the local AWS judging
 * every call with the provisioner's synthesized role: the end moves and/or the grant is replaced, never
 * a new key or a second grant for the scope; a denial leaves access as it was; a crash after each new
 * step, then a retry, converges.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_ID,
  type Harness,
  iamCallsSince,
  newUserId,
  startHarness,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { provisionWithRetries, tellDenied } from "../../src/provisioner/handler.ts";
import { DAY_MS, planChange } from "../../src/rules/change.ts";
import type { Permission } from "../../src/rules/permission.ts";
import type { CrashPoint } from "../../src/service/deps.ts";
import { provisionRequest } from "../../src/service/provision.ts";
import type { AccessRequest } from "../../src/store/types.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const T0 = new Date("2026-12-01T12:00:00.000Z");
/** The change is asked 25 days into a 30-day grant (around the reminder). */
const ASKED = new Date(T0.getTime() + 25 * DAY_MS);
const day = (d: Date | string) => new Date(d).toISOString().slice(0, 10);

class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}
const crashAt = (point: CrashPoint) => ({
  at: (p: CrashPoint) => {
    if (p === point) throw new SimulatedCrash(`crash after ${p}`);
  },
});

async function activeHeld(userId: string, permission: Permission): Promise<AccessRequest> {
  const req = await h.approved(userId, { permission, durationDays: 30 });
  await provisionRequest(h.deps({ now: () => T0 }), req.id);
  const held = await h.stores.requests.require(req.id);
  expect(held.status).toBe("ACTIVE");
  return held;
}

/** Files the change as the bot does (the rule, then store.create with `change`), PENDING. */
async function fileChange(held: AccessRequest, permission: Permission, durationDays: number) {
  const v = planChange(held, { permission, durationDays, askedAt: ASKED }, 90);
  if (!v.ok) throw new Error(v.message);
  return h.stores.requests.create({
    requesterUserId: held.requesterUserId,
    requesterTeamId: TEAM_ID,
    subPrefix: held.subPrefix,
    permission: v.change.to.permission,
    durationDays,
    change: { of: held.id, from: v.change.from, to: v.change.to },
  });
}

async function approvedChange(held: AccessRequest, permission: Permission, durationDays: number) {
  const { request } = await fileChange(held, permission, durationDays);
  return h.stores.requests.transition(request.id, {
    from: "PENDING",
    to: "APPROVED",
    actor: { kind: "admin", id: ADMIN_ID },
  });
}

function snapshot(userId: string) {
  return { keys: h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId), dms: h.dmsTo(userId).length };
}

describe("an approved change is applied to the held request", () => {
  it("extension: the end moves, no new key, no new grant, one DM, no IAM or S3 Control call", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "WRITE");
    await h.stores.requests.annotate(held.id, { reminderSentAt: ASKED.toISOString() });
    const grantsBefore = await h.grantsOf(userId);
    const before = snapshot(userId);
    const change = await approvedChange(held, "WRITE", 30);
    const calls = h.aws.state.requests.length;

    const out = await provisionRequest(h.deps(), change.id);

    expect(out.outcome).toBe("changed");
    expect(h.aws.state.requests.slice(calls).filter((r) => r.service !== "dynamodb")).toEqual([]);
    const after = await h.stores.requests.require(held.id);
    expect(after).toMatchObject({ status: "ACTIVE", permission: "WRITE" });
    expect(day(after.expiresAt ?? "")).toBe(day(new Date(ASKED.getTime() + 30 * DAY_MS)));
    expect(after.reminderSentAt).toBeUndefined(); // the next reminder is about the new end
    expect((await h.stores.requests.require(change.id)).status).toBe("APPLIED");
    expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(before.keys);
    expect(await h.grantsOf(userId)).toEqual(grantsBefore);
    const dms = h.dmsTo(userId);
    expect(dms).toHaveLength(before.dms + 1);
    expect(String(dms.at(-1)?.args.text)).toContain(
      `end ${day(held.expiresAt ?? "")} → ${day(after.expiresAt ?? "")}`,
    );
    expect(JSON.stringify(dms.at(-1)?.args.blocks)).not.toContain("/s/"); // no secret link
    const active = await h.stores.requests.listActiveByUser(userId);
    expect(active.items.map((r) => r.id)).toEqual([held.id]);
  });

  it("upgrade WRITE → READWRITE: the wider grant replaces the old one, no new key, end unchanged", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "WRITE");
    const [oldGrant] = await h.grantsOf(userId);
    const before = snapshot(userId);
    // 3 days from the ask ends before the held end: no extension, only the permission.
    const change = await approvedChange(held, "READWRITE", 3);

    await provisionRequest(h.deps(), change.id);

    const grants = await h.grantsOf(userId);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ subPrefix: "cpg0042/*", permission: "READWRITE" });
    expect(grants[0]?.id).not.toBe(oldGrant?.id);
    const after = await h.stores.requests.require(held.id);
    expect(after).toMatchObject({ status: "ACTIVE", permission: "READWRITE", expiresAt: held.expiresAt });
    expect(after.progress.grant?.grantId).toBe(grants[0]?.id);
    expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(before.keys);
    expect(h.dmsTo(userId)).toHaveLength(before.dms + 1);
    expect(String(h.dmsTo(userId).at(-1)?.args.text)).toContain("WRITE → READWRITE");
  });

  it("both: a later end and a wider grant in one change", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "READ");
    const change = await approvedChange(held, "READWRITE", 60);
    const iamStart = h.aws.state.requests.length;

    await provisionRequest(h.deps(), change.id);

    expect(iamCallsSince(h, iamStart)).toEqual([]); // grants only; the IAM user and keys are untouched
    const after = await h.stores.requests.require(held.id);
    expect(after.permission).toBe("READWRITE");
    expect(day(after.expiresAt ?? "")).toBe(day(new Date(ASKED.getTime() + 60 * DAY_MS)));
    expect((await h.grantsOf(userId)).map((g) => g.permission)).toEqual(["READWRITE"]);
  });

  it("READ → WRITE replaces the grant (asked exactly that, not the union)", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "READ");
    const change = await approvedChange(held, "WRITE", 3);
    await provisionRequest(h.deps(), change.id);
    expect((await h.grantsOf(userId)).map((g) => g.permission)).toEqual(["WRITE"]);
    expect((await h.stores.requests.require(held.id)).permission).toBe("WRITE");
  });

  it("a change whose held access ended meanwhile fails with that reason, changing nothing", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "WRITE");
    const change = await approvedChange(held, "READWRITE", 30);
    await h.stores.requests.transition(held.id, {
      from: "ACTIVE",
      to: "EXPIRED",
      actor: { kind: "system", id: "expiry" },
    });
    const grants = await h.grantsOf(userId);

    const out = await provisionWithRetries(h.deps(), change.id, { maxAttempts: 1, sleep: async () => {} });

    expect(out).toMatchObject({
      outcome: "failed",
      reason: expect.stringContaining("is expired, not active"),
    });
    expect((await h.stores.requests.require(change.id)).status).toBe("FAILED");
    expect(await h.grantsOf(userId)).toEqual(grants);
  });
});

describe("a write to the held request while the change is applied", () => {
  it("a reminder annotated between the read and the apply: the apply reads again and commits, the reminder mark cleared", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "WRITE");
    const change = await approvedChange(held, "WRITE", 30);
    // The expiry job's reminder (no person lock) writes the held request after it was read.
    const remindMeanwhile = {
      at: async (p: CrashPoint) => {
        if (p === "changeDmPosted")
          await h.stores.requests.annotate(held.id, { reminderSentAt: ASKED.toISOString() });
      },
    };

    const out = await provisionRequest(h.deps({ hooks: remindMeanwhile }), change.id);

    expect(out.outcome).toBe("changed");
    const after = await h.stores.requests.require(held.id);
    expect(day(after.expiresAt ?? "")).toBe(day(new Date(ASKED.getTime() + 30 * DAY_MS)));
    expect(after.reminderSentAt).toBeUndefined();
    expect((await h.stores.requests.require(change.id)).status).toBe("APPLIED");
  });
});

describe("one open change per held scope", () => {
  it("a second ask while the change is pending returns the open one; after it applied, a new one can be filed", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "WRITE");
    const first = await fileChange(held, "READWRITE", 30);
    const second = await fileChange(held, "WRITE", 60);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, request: { id: first.request.id } });

    await h.stores.requests.transition(first.request.id, {
      from: "PENDING",
      to: "APPROVED",
      actor: { kind: "admin", id: ADMIN_ID },
    });
    await provisionRequest(h.deps(), first.request.id);
    const third = await fileChange(await h.stores.requests.require(held.id), "READWRITE", 60);
    expect(third.created).toBe(true);
    expect(third.request.changeFrom).toMatchObject({ permission: "READWRITE" });
  });
});

describe("a denied change", () => {
  it("leaves the current access as it is and tells the person so", async () => {
    const userId = newUserId();
    const held = await activeHeld(userId, "WRITE");
    const grants = await h.grantsOf(userId);
    const { request } = await fileChange(held, "READWRITE", 30);
    const denied = await h.stores.requests.transition(request.id, {
      from: "PENDING",
      to: "DENIED",
      actor: { kind: "admin", id: ADMIN_ID },
      reason: "<!channel> not this dataset",
    });

    await tellDenied(h.deps(), denied);

    expect(await h.stores.requests.require(held.id)).toMatchObject({
      status: "ACTIVE",
      permission: "WRITE",
      expiresAt: held.expiresAt,
    });
    expect(await h.grantsOf(userId)).toEqual(grants);
    const dm = h.dmsTo(userId).at(-1);
    expect(String(dm?.args.text)).toContain(
      `Your current access is unchanged: WRITE until ${day(held.expiresAt ?? "")}`,
    );
    expect(JSON.stringify(dm?.args.blocks)).toContain("&lt;!channel&gt;");
  });
});

describe("a crash after each step of an upgrade, then a retry", () => {
  const POINTS: CrashPoint[] = ["changeGrantCreated", "changeGrant", "changeDmPosted", "changeApplied"];
  it.each(POINTS)(
    "crash after %s: one grant (the wider one), the same key, the change applied",
    async (point) => {
      const userId = newUserId();
      const held = await activeHeld(userId, "WRITE");
      const before = snapshot(userId);
      const change = await approvedChange(held, "READWRITE", 30);

      await expect(provisionRequest(h.deps({ hooks: crashAt(point) }), change.id)).rejects.toBeInstanceOf(
        SimulatedCrash,
      );
      const retry = await provisionRequest(h.deps(), change.id);

      expect(retry.outcome).toBe(point === "changeApplied" ? "skipped" : "changed");
      const grants = await h.grantsOf(userId);
      expect(grants).toEqual([expect.objectContaining({ subPrefix: "cpg0042/*", permission: "READWRITE" })]);
      const after = await h.stores.requests.require(held.id);
      expect(after).toMatchObject({ status: "ACTIVE", permission: "READWRITE" });
      expect(after.progress.grant?.grantId).toBe(grants[0]?.id);
      expect((await h.stores.requests.require(change.id)).status).toBe("APPLIED");
      expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(before.keys);
      // One DM, one more only in the documented window (Slack accepted it, the apply did not commit).
      expect(h.dmsTo(userId)).toHaveLength(before.dms + (point === "changeDmPosted" ? 2 : 1));
    },
  );
});
