/**
 * Replay protection for what changes state (filing, cancelling, deciding, asking for more time, admin
 * jobs): Slack's signature only proves a body is Slack's and under 5 minutes old, so a captured body
 * could be sent again inside that window. Each such delivery is claimed once (one conditional PutItem,
 * kept a little past the window and then aged out by TTL) before it is acted on.
 *
 * The key is Slack's trigger_id (every slash command, block_actions and view_submission carries one, and
 * a body cannot be changed without breaking the signature), else the request's signature. Events API
 * retries (X-Slack-Retry-Num) come re-signed; the only event here (app_home_opened) changes nothing.
 * Slack does not document retrying slash commands or interactions; if it did, the same trigger_id would
 * be found too (not confirmed).
 */

import type { BotContext } from "./context.ts";
import { REPLAY_WINDOW_SECONDS, SIGNATURE_PROPERTY } from "./receiver.ts";

/** Longer than the signature window, so a replay cannot outlive its claim. */
const KEEP_SECONDS = 2 * REPLAY_WINDOW_SECONDS;

/** What a slash command that was already acted on answers (its ack body; no Slack call). */
export const REPLAYED_COMMAND_TEXT =
  "I already received this exact command and acted on it once; nothing was done again. Run the command again if you meant a second one.";

/** True the first time this delivery is seen (act on it); false for a replay (answer, don't act). */
export async function firstDelivery(
  ctx: BotContext,
  body: unknown,
  context: Record<string, unknown>,
  what: string,
): Promise<boolean> {
  const trigger = (body as { trigger_id?: unknown } | undefined)?.trigger_id;
  const signature = context[SIGNATURE_PROPERTY];
  const key =
    typeof trigger === "string" && trigger
      ? `trigger#${trigger}`
      : typeof signature === "string"
        ? `sig#${signature}`
        : undefined;
  if (key === undefined) return true; // not through our receiver (nothing signed to replay)
  const first = await ctx.store.claimDelivery(key, KEEP_SECONDS);
  if (!first) ctx.log.warn("replay_refused", { what });
  return first;
}
