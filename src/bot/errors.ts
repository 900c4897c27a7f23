/**
 * The one place that turns errors into what a Slack user reads. Internal messages (SDK text, table
 * names, stack traces) never reach Slack; unknown errors get a neutral line and are logged by name.
 */
import { RefusedError } from "../rules/authorization.ts";
import { IllegalTransitionError } from "../rules/lifecycle.ts";
import { InvalidCursorError, NoSuchRequestError, TransitionConflictError } from "../store/errors.ts";
import { alreadyDecidedText } from "./views.ts";

export function userTextFor(err: unknown): string {
  if (err instanceof RefusedError) return err.message;
  if (err instanceof TransitionConflictError)
    return alreadyDecidedText(err.requestId, err.current, err.winner);
  if (err instanceof NoSuchRequestError)
    return `There is no request \`${err.requestId}\`. Check the ID with \`/cytoskel status\`.`;
  if (err instanceof InvalidCursorError)
    return "That page of the audit trail can't be read any more; run `/cytoskel audit …` again.";
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
  return userTextFor(err).replace(/`/g, "");
}
