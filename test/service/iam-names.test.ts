/**
 * IAM user names for Slack identities: always within IAM's 64 characters and character set, the same
 * every time, never the same for two people, unchanged for the IDs Slack really hands out, and traced
 * back to the person. Generated over every valid Slack ID shape (2-30 uppercase letters and digits).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  iamUserNameFor,
  iamUserTeamFor,
  slackIdsFromIamUserName,
  slackOrgId,
} from "../../src/service/users.ts";

const RUNS = { numRuns: 10_000 };
/** IAM: 1-64 of letters, digits and +=,.@_- (CreateUser's UserName pattern). */
const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;

const slackId = fc.stringMatching(/^[A-Z0-9]{2,30}$/);
const longId = fc.stringMatching(/^[A-Z0-9]{26,30}$/);
/** Pairs too long to spell out that share a long common start, the hard case for a shortened name. */
const lookAlikes = fc
  .tuple(
    longId,
    fc.stringMatching(/^[A-Z0-9]{20}$/),
    fc.stringMatching(/^[A-Z0-9]{6,10}$/),
    fc.stringMatching(/^[A-Z0-9]{6,10}$/),
  )
  .map(
    ([team, head, tailA, tailB]) =>
      [
        { team, user: head + tailA },
        { team, user: head + tailB },
      ] as const,
  );

describe("iamUserNameFor", () => {
  it("a 30-character team and a 30-character user fit IAM's 64 characters", () => {
    const name = iamUserNameFor("T".repeat(30), "U".repeat(30));
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(IAM_USER_NAME);
    expect(name.startsWith(`slack-${"T".repeat(30)}-UUUUUUUUUU`)).toBe(true);
  });

  it("is always a valid IAM user name of at most 64 characters, the same on every call", () => {
    fc.assert(
      fc.property(slackId, slackId, (team, user) => {
        const name = iamUserNameFor(team, user);
        expect(name).toMatch(IAM_USER_NAME);
        expect(iamUserNameFor(team, user)).toBe(name);
      }),
      RUNS,
    );
  });

  it("keeps today's slack-<TEAM>-<USER> whenever it fits, and maps it back", () => {
    fc.assert(
      fc.property(slackId, slackId, (team, user) => {
        fc.pre(team.length + user.length <= 57);
        expect(iamUserNameFor(team, user)).toBe(`slack-${team}-${user}`);
        expect(slackIdsFromIamUserName(`slack-${team}-${user}`)).toEqual({ teamId: team, userId: user });
      }),
      RUNS,
    );
  });

  it("never gives two different (team, user) pairs the same name, regardless of case", () => {
    const distinct = (a: { team: string; user: string }, b: { team: string; user: string }) => {
      fc.pre(a.team !== b.team || a.user !== b.user);
      expect(iamUserNameFor(a.team, a.user).toLowerCase()).not.toBe(
        iamUserNameFor(b.team, b.user).toLowerCase(),
      );
    };
    const pair = fc.record({ team: slackId, user: slackId });
    fc.assert(fc.property(pair, pair, distinct), RUNS);
    fc.assert(
      fc.property(lookAlikes, ([a, b]) => distinct(a, b)),
      RUNS,
    );
    // The same characters split differently between team and user.
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9]{4,60}$/), fc.nat(), (joined, at) => {
        const cut = 2 + (at % (joined.length - 3));
        const a = { team: joined.slice(0, cut), user: joined.slice(cut) };
        fc.pre(a.team.length <= 30 && a.user.length <= 30 && a.user.length >= 2);
        const b = { team: joined.slice(0, cut - 1), user: joined.slice(cut - 1) };
        fc.pre(b.team.length >= 2 && b.user.length <= 30);
        distinct(a, b);
      }),
      RUNS,
    );
  });

  it("leads back to the team for that user only, spelled-out and shortened names alike", () => {
    fc.assert(
      fc.property(slackId, slackId, slackId, (team, user, other) => {
        const name = iamUserNameFor(team, user);
        expect(iamUserTeamFor(name, user)).toBe(team);
        if (other !== user) expect(iamUserTeamFor(name, other)).toBeUndefined();
      }),
      RUNS,
    );
    fc.assert(
      fc.property(lookAlikes, ([a, b]) => {
        fc.pre(a.user !== b.user);
        expect(iamUserTeamFor(iamUserNameFor(a.team, a.user), b.user)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it("a name nobody made leads to no one", () => {
    for (const name of [
      "alice",
      "slack-T1-U1",
      "slack-T0CYTOSKEL-U012ABC.0123456789abcdef",
      "slack--U012ABC",
    ]) {
      expect(iamUserTeamFor(name, "U012ABC")).toBeUndefined();
    }
  });
});

describe("slackOrgId", () => {
  it("is the enterprise when the payload names one (Enterprise Grid), else the team", () => {
    expect(slackOrgId({ teamId: "T0CYTOSKEL", enterpriseId: "E0GRID" })).toBe("E0GRID");
    expect(slackOrgId({ teamId: "T0CYTOSKEL" })).toBe("T0CYTOSKEL");
    expect(slackOrgId({ teamId: "T0CYTOSKEL", enterpriseId: "" })).toBe("T0CYTOSKEL");
    expect(slackOrgId({ teamId: "T0CYTOSKEL", enterpriseId: null })).toBe("T0CYTOSKEL");
  });
});
