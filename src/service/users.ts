/**
 * IAM identity for a Slack person: one IAM user per (org, user), named deterministically so every
 * provision, revoke and retry finds the same user without a lookup table.
 *
 * The org part is the Enterprise Grid org ID when the signed payload carries one (an org-wide install,
 * or any workspace of a Grid org: user IDs there are the same person in every workspace), else the
 * workspace's team ID (slackOrgId). Records made before this rule (team ID under Grid) keep their
 * names; revoke and expiry find every IAM user of a person whatever the org part (iamUserTeamFor).
 */
import { createHash } from "node:crypto";

/** Slack team/enterprise and user IDs: uppercase letters and digits (T…, E…, U…, W…). */
const SLACK_ID = /^[A-Z0-9]{2,30}$/;

export class InvalidSlackIdError extends Error {
  override readonly name = "InvalidSlackIdError";
  constructor(
    readonly field: "teamId" | "userId",
    readonly value: string,
  ) {
    super(`${field} is not a Slack ID (expected 2-30 uppercase letters and digits)`);
  }
}

export const IAM_USER_PREFIX = "slack-";
/** IAM's limit on a user name. */
export const IAM_USER_NAME_MAX = 64;
/** Hex digits of SHA-256 of the pair at the end of a name too long to spell out (64 bits). */
const HASH_CHARS = 16;
/** Before the hash; "." never occurs in a spelled-out name, so the two forms never collide. */
const HASH_MARK = ".";

/**
 * The org part of a Slack identity from a signed payload: the enterprise ID when there is one (slash
 * commands carry `enterprise_id`; block_actions `team.enterprise_id` / `enterprise.id`), else `team_id`.
 */
export function slackOrgId(payload: { teamId: string; enterpriseId?: string | null | undefined }): string {
  return payload.enterpriseId ? payload.enterpriseId : payload.teamId;
}

/**
 * `slack-<ORG>-<USER>` while that fits IAM's 64 characters (every real Slack ID does, and existing
 * users keep their names); a longer pair keeps the first 47 characters of that spelling (the whole
 * org part and at least 10 of the user's) and ends `.<16 hex of SHA-256("<ORG>-<USER>")>`.
 */
export function iamUserNameFor(teamId: string, userId: string): string {
  if (!SLACK_ID.test(teamId)) throw new InvalidSlackIdError("teamId", teamId);
  if (!SLACK_ID.test(userId)) throw new InvalidSlackIdError("userId", userId);
  const spelled = `${IAM_USER_PREFIX}${teamId}-${userId}`;
  if (spelled.length <= IAM_USER_NAME_MAX) return spelled;
  const hash = createHash("sha256").update(`${teamId}-${userId}`).digest("hex").slice(0, HASH_CHARS);
  return `${spelled.slice(0, IAM_USER_NAME_MAX - HASH_CHARS - HASH_MARK.length)}${HASH_MARK}${hash}`;
}

const SPELLED = /^slack-([A-Z0-9]{2,30})-([A-Z0-9]{2,30})$/;
const HASHED = /^slack-([A-Z0-9]{2,30})-[A-Z0-9]+\.[0-9a-f]{16}$/;

/**
 * The Slack IDs back from a spelled-out name made by iamUserNameFor; undefined for any other user,
 * and for a hashed name, which does not hold the whole user ID: ask iamUserTeamFor with a candidate
 * user ID (the deterministic way back; the user's `cytoskel:slack-*` tags also name both IDs).
 */
export function slackIdsFromIamUserName(name: string): { teamId: string; userId: string } | undefined {
  const m = SPELLED.exec(name);
  return m?.[1] && m[2] ? { teamId: m[1], userId: m[2] } : undefined;
}

/**
 * The org part when `name` is iamUserNameFor(org, userId) for some org, else undefined: how revoke and
 * expiry find every IAM user of one person across orgs, hashed names included, without reading tags.
 */
export function iamUserTeamFor(name: string, userId: string): string | undefined {
  const teamId = (SPELLED.exec(name) ?? HASHED.exec(name))?.[1];
  if (!teamId || !SLACK_ID.test(userId)) return undefined;
  return iamUserNameFor(teamId, userId) === name ? teamId : undefined;
}
