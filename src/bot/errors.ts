/**
 * The one place that turns errors into what a Slack user reads. Internal messages (SDK text, table
 * names, stack traces) never reach Slack; unknown errors get a neutral line and are logged by name.
 */
import { RefusedError } from "../rules/authorization.ts";
import { IllegalTransitionError } from "../rules/lifecycle.ts";
import { slackRetryAfterMs } from "../runtime/slack-client.ts";
import { escapeMrkdwn } from "../slack/blocks.ts";
import { InvalidCursorError, NoSuchRequestError, TransitionConflictError } from "../store/errors.ts";
import { unescapeSlack } from "./commands.ts";
import { alreadyDecidedText } from "./views.ts";

export function userTextFor(err: unknown): string {
  if (err instanceof RefusedError) return err.message;
  if (err instanceof TransitionConflictError)
    return alreadyDecidedText(err.requestId, err.current, err.winner);
  if (err instanceof NoSuchRequestError)
    return `There is no request \`${escapeMrkdwn(err.requestId)}\`. Check the ID with \`/cytoskel status\`.`;
  if (err instanceof InvalidCursorError)
    return "That page of the audit trail can't be read any more; run `/cytoskel audit …` again.";
  const retryAfterMs = slackRetryAfterMs(err);
  if (retryAfterMs !== undefined) {
    return `Slack is rate-limiting cytoskel right now; please try again in ${Math.ceil(retryAfterMs / 1000)} seconds. If you filed something, \`/cytoskel status\` shows whether it was recorded.`;
  }
  if (err instanceof IllegalTransitionError) {
    return `That request is ${err.current.toLowerCase()}, so it can't become ${err.attempted.toLowerCase()}; nothing was changed.`;
  }
  return "Sorry — something went wrong on our side and your action may not have been recorded. Please try again in a minute; if it keeps failing, tell the cytoskel admins.";
}

/** Plain text (no mrkdwn, no mentions) for places that render it literally, like modal field errors. */
export function plainTextFor(err: unknown): string {
  if (err instanceof TransitionConflictError) {
    const w = err.winner;
    return w
      ? `Already ${w.to.toLowerCase()} by ${w.actor.kind === "system" ? w.actor.id : `user ${w.actor.id}`} at ${w.at} (now ${err.current}). Nothing was changed.`
      : `This request is already ${err.current}. Nothing was changed.`;
  }
  // Plain text shows `&lt;` literally: the mrkdwn escaping undone, so a typed ID reads as typed.
  return unescapeSlack(userTextFor(err)).replace(/`/g, "");
}
