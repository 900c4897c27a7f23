/**
 * One Slack user ID with requests filed under two org parts (two workspaces of an Enterprise Grid org
 * before the enterprise became the org part, or an org-wide install): two IAM users. Revoke and expiry
 * must take access away from both, and say truthfully what is left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ID, type Harness, newUserId, startHarness, TEAM_ID } from "../../dev/service-harness.ts";
import type { Actor } from "../../src/rules/lifecycle.ts";
import { runExpiry } from "../../src/service/expiry.ts";
import { revokeAccess } from "../../src/service/revoke.ts";
import { iamUserNameFor } from "../../src/service/users.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const OTHER_TEAM = "T0SECONDWS";
const admin: Actor = { kind: "admin", id: ADMIN_ID };
const DAY = 86_400_000;
const at = (days: number) => () => new Date(Date.now() + days * DAY);
const statusOf = async (id: string) => (await h.stores.requests.get(id))?.status;

/** What is live in the AWS stand-in for the IAM user of (team, user): the user, its keys and grants. */
function live(teamId: string, userId: string) {
  const user = h.aws.state.iam.users.get(iamUserNameFor(teamId, userId).toLowerCase());
  if (!user) return { exists: false, keys: 0, grants: [] as string[] };
  const grants = [...(h.aws.state.accessGrants.get("us-east-1")?.grants.values() ?? [])]
    .filter((g) => g.granteeIdentifier === user.arn)
    .map((g) => `${g.subPrefix} ${g.permission}`)
    .sort();
  return { exists: true, keys: user.accessKeys.length, grants };
}

/** READ on cpg0042 under the first team; WRITE on cpg0042 and READWRITE on cpg0043 under the second. */
async function underTwoTeams(userId: string, durationDays = 30) {
  const a = await h.active(userId, { subPrefix: "cpg0042/*", permission: "READ", durationDays });
  const b = await h.active(userId, {
    requesterTeamId: OTHER_TEAM,
    subPrefix: "cpg0042/*",
    permission: "WRITE",
    durationDays,
  });
  const c = await h.active(userId, {
    requesterTeamId: OTHER_TEAM,
    subPrefix: "cpg0043/*",
    permission: "READWRITE",
    durationDays,
  });
  expect(live(TEAM_ID, userId)).toMatchObject({ exists: true, keys: 1 });
  expect(live(OTHER_TEAM, userId)).toMatchObject({ exists: true, keys: 1 });
  return { a, b, c };
}

describe("a person with IAM users under two teams", () => {
  it("revoking everything deletes both IAM users, their keys and grants, and says both went", async () => {
    const userId = newUserId();
    const { a, b, c } = await underTwoTeams(userId);

    const result = await revokeAccess(h.deps(), { userId, actor: admin });

    expect(live(TEAM_ID, userId)).toEqual({ exists: false, keys: 0, grants: [] });
    expect(live(OTHER_TEAM, userId)).toEqual({ exists: false, keys: 0, grants: [] });
    for (const r of [a, b, c]) expect(await statusOf(r.id)).toBe("REVOKED");
    expect(result.userDeleted).toBe(true);
    expect(result.deletedIamUsers.sort()).toEqual(
      [iamUserNameFor(OTHER_TEAM, userId), iamUserNameFor(TEAM_ID, userId)].sort(),
    );
    expect(result.text).toContain("No grant left: keys and 2 IAM users deleted.");
  });

  it("revoking one prefix takes it from both IAM users; the one still granted keeps its key, and the message says so", async () => {
    const userId = newUserId();
    const { a, b, c } = await underTwoTeams(userId);

    const result = await revokeAccess(h.deps(), { userId, subPrefix: "cpg0042/*", actor: admin });

    expect(live(TEAM_ID, userId)).toEqual({ exists: false, keys: 0, grants: [] });
    expect(live(OTHER_TEAM, userId)).toEqual({ exists: true, keys: 1, grants: ["cpg0043/* READWRITE"] });
    expect(await statusOf(a.id)).toBe("REVOKED");
    expect(await statusOf(b.id)).toBe("REVOKED");
    expect(await statusOf(c.id)).toBe("ACTIVE");
    expect(result.userDeleted).toBe(false);
    expect(result.deletedIamUsers).toEqual([iamUserNameFor(TEAM_ID, userId)]);
    expect(result.remainingPrefixes).toEqual(["cpg0043/*"]);
    expect(result.text).not.toContain("IAM user deleted");
    expect(result.text).toContain("Still granted: `cpg0043/*`");
  });

  it("expiry ends every due request under both teams and leaves no user, key or grant", async () => {
    const userId = newUserId();
    const { a, b, c } = await underTwoTeams(userId, 7);

    const report = await runExpiry(h.deps({ now: at(8) }, "expiry"), {
      reminderDays: 0,
      pendingExpiryDays: 14,
    });

    expect(report.errors).toEqual([]);
    expect(report.expired).toEqual(expect.arrayContaining([a.id, b.id, c.id]));
    for (const r of [a, b, c]) expect(await statusOf(r.id)).toBe("EXPIRED");
    expect(live(TEAM_ID, userId)).toEqual({ exists: false, keys: 0, grants: [] });
    expect(live(OTHER_TEAM, userId)).toEqual({ exists: false, keys: 0, grants: [] });
  });

  it("expiry under one team keeps the other team's grant for the same scope that is not due", async () => {
    const userId = newUserId();
    const due = await h.active(userId, { subPrefix: "cpg0044/*", permission: "READ", durationDays: 7 });
    const kept = await h.active(userId, {
      requesterTeamId: OTHER_TEAM,
      subPrefix: "cpg0044/*",
      permission: "WRITE",
      durationDays: 30,
    });

    await runExpiry(h.deps({ now: at(8) }, "expiry"), { reminderDays: 0, pendingExpiryDays: 14 });

    expect(await statusOf(due.id)).toBe("EXPIRED");
    expect(await statusOf(kept.id)).toBe("ACTIVE");
    expect(live(TEAM_ID, userId)).toEqual({ exists: false, keys: 0, grants: [] });
    expect(live(OTHER_TEAM, userId)).toEqual({ exists: true, keys: 1, grants: ["cpg0044/* WRITE"] });
  });
});
