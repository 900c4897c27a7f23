// Slack's ID formats, checked where an ID enters (a filed request, a mention, a signed payload). Pure.
// Slack documents the leading letter (users U… or W… for Enterprise Grid, teams T…, enterprises E…) and
// upper-case letters and digits (e.g. U1234ABCD, T0123456789); it documents no maximum length — IDs seen
// are 9–11 characters and Slack has said they may grow, so up to 21 are accepted (not confirmed by Slack).

export type SlackIdKind = "user" | "team" | "enterprise";

const FORMATS: Record<SlackIdKind, { pattern: RegExp; what: string }> = {
  user: {
    pattern: /^[UW][A-Z0-9]{2,20}$/,
    what: "a user ID: U or W then 2–20 capital letters or digits, like U012AB3CD",
  },
  team: {
    pattern: /^T[A-Z0-9]{2,20}$/,
    what: "a team ID: T then 2–20 capital letters or digits, like T0123456789",
  },
  enterprise: {
    pattern: /^E[A-Z0-9]{2,20}$/,
    what: "an enterprise ID: E then 2–20 capital letters or digits, like E0123456789",
  },
};

/** Our request IDs (and the CLI's adopted ones), as a button, a modal or `cancel <id>` names them. */
export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{4,64}$/.test(value);
}

/** The user-ID pattern without anchors, for finding one inside a mention (`<@U123|name>`). */
export const USER_ID_SOURCE = "[UW][A-Z0-9]{2,20}";

export function isSlackId(kind: SlackIdKind, value: string): boolean {
  return FORMATS[kind].pattern.test(value);
}

/** Why `value` is not a Slack ID of this kind (naming what is allowed), or undefined when it is one. */
export function slackIdProblem(kind: SlackIdKind, value: string | undefined): string | undefined {
  if (value !== undefined && isSlackId(kind, value)) return undefined;
  const shown = value === undefined || value === "" ? "nothing" : JSON.stringify(value.slice(0, 40));
  return `the ${kind} ID is ${shown}, not ${FORMATS[kind].what}`;
}
