// findDrift, the pure rule behind `sync`: which ACTIVE requests and grants disagree, with no I/O.
import { describe, expect, it } from "vitest";
import type { Grant } from "../../src/aws/access-grants.ts";
import { findDrift } from "../../src/cli/commands/sync.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";
import type { AccessRequest } from "../../src/store/types.ts";

const BUCKET = "staging-cellpainting-gallery";
const BOT = "arn:aws:iam::123456789012:user/cytoskel/slack-T0001-UALICE";

const grant = (id: string, prefix: string, granteeArn = BOT, granteeType = "IAM"): Grant => ({
  id,
  arn: `arn:aws:s3:us-east-1:123456789012:access-grants/default/grant/${id}`,
  granteeType,
  granteeArn,
  locationId: "default",
  scope: GrantScope.of(BUCKET, prefix),
  locationSubPrefix: prefix,
  permission: "READWRITE",
});
const active = (id: string, prefix: string, grantId?: string): AccessRequest => ({
  id,
  requesterUserId: "UALICE",
  requesterTeamId: "T0001",
  subPrefix: prefix,
  permission: "READWRITE",
  status: "ACTIVE",
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  progress: grantId ? { grant: { grantId, at: "2026-01-01T00:00:00.000Z" } } : {},
  attempts: 0,
});

describe("findDrift", () => {
  it("no drift when every ACTIVE request's grant exists and every bot-made user's grant is recorded (a reused grant counts once)", () => {
    const drift = findDrift(
      [active("r1", "cpg0042/*", "g1"), active("r2", "cpg0042/a/*", "g1")],
      [grant("g1", "cpg0042/*")],
      "/cytoskel/",
    );
    expect(drift).toEqual({ recordsWithoutGrant: [], grantsWithoutRecord: [], handMadeGrants: [] });
  });

  it("a request whose grant is gone, or that records none, is a record without grant", () => {
    const drift = findDrift([active("r1", "cpg0042/*", "gone"), active("r2", "cpg0043/*")], [], "/cytoskel/");
    expect(drift.recordsWithoutGrant).toEqual([
      { requestId: "r1", userId: "UALICE", scope: "cpg0042/*", grantId: "gone" },
      { requestId: "r2", userId: "UALICE", scope: "cpg0043/*" },
    ]);
  });

  it("a bot-made user's grant no request records is a grant without record; anyone else's is hand-made, never drift", () => {
    const drift = findDrift(
      [],
      [
        grant("g1", "cpg0042/*"),
        grant("g2", "cpg0043/*", "arn:aws:iam::123456789012:role/hand-made"),
        grant("g3", "cpg0044/*", "arn:aws:iam::123456789012:user/cytoskel/carol"),
        // The bot's name outside its path is not the bot's user.
        grant("g4", "cpg0045/*", "arn:aws:iam::123456789012:user/slack-T0001-UALICE"),
        grant("g5", "cpg0046/*", "11111111-2222-3333-4444-555555555555", "DIRECTORY_USER"),
      ],
      "/cytoskel/",
    );
    expect(drift.grantsWithoutRecord).toEqual([
      { grantId: "g1", granteeArn: BOT, scope: "cpg0042/*", permission: "READWRITE", userId: "UALICE" },
    ]);
    expect(drift.handMadeGrants.map((g) => g.grantId)).toEqual(["g2", "g3", "g4", "g5"]);
  });
});
