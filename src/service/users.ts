/**
 * IAM identity for a Slack user: one IAM user per (team, user), named deterministically so every
 * provision, revoke and retry finds the same user without a lookup table.
 */

/** Slack team/enterprise and user IDs: uppercase letters and digits (T…, E…, U…, W…). */
const SLACK_ID = /^[A-Z0-9]{2,30}$/;

export class InvalidSlackIdError extends Error {
  override readonly name = "InvalidSlackIdError";
  constructor(
    readonly field: "teamId" | "userId",
    readonly value: string,
  ) {
    super(`${field} is not a Slack ID (expected uppercase letters and digits)`);
  }
}

export const IAM_USER_PREFIX = "slack-";

/** `slack-<TEAM>-<USER>`: valid IAM user name characters, well under the 64-character limit. */
export function iamUserNameFor(teamId: string, userId: string): string {
  if (!SLACK_ID.test(teamId)) throw new InvalidSlackIdError("teamId", teamId);
  if (!SLACK_ID.test(userId)) throw new InvalidSlackIdError("userId", userId);
  return `${IAM_USER_PREFIX}${teamId}-${userId}`;
}

/** The Slack IDs back from a name made by iamUserNameFor, or undefined for any other user. */
export function slackIdsFromIamUserName(name: string): { teamId: string; userId: string } | undefined {
  const m = /^slack-([A-Z0-9]{2,30})-([A-Z0-9]{2,30})$/.exec(name);
  return m?.[1] && m[2] ? { teamId: m[1], userId: m[2] } : undefined;
}
