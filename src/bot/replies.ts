/**
 * The Slack calls several listeners make. Each is the listener's one Slack call, and none throws: the
 * state change already happened (or was refused), so a failed call is logged and the listener returns.
 */

import type { BlockAction, webApi } from "@slack/bolt";
import type { AccessRequest, SlackMessageRef } from "../store/types.ts";
import type { BotContext } from "./context.ts";
import { cardPayload, clickChannel } from "./payloads.ts";
import { decidedCard } from "./views.ts";

/**
 * An ephemeral message to whoever clicked, in the channel of the clicked message; a click on the App
 * Home has no channel, so there it is a message in the app's DM with them (chat.postMessage accepts a
 * user ID as the channel and posts to the app's Messages tab).
 */
export async function tellClicker(
  ctx: BotContext,
  client: webApi.WebClient,
  body: BlockAction,
  text: string,
): Promise<void> {
  const channel = clickChannel(body);
  try {
    if (channel) await client.chat.postEphemeral({ channel, user: body.user.id, text });
    else if (body.view?.type === "home") await client.chat.postMessage({ channel: body.user.id, text });
  } catch (err) {
    ctx.log.warn("ephemeral_failed", { error: err });
  }
}

/** The admin card turned into its decided form (who, when, outcome; no buttons). */
export async function showDecision(
  ctx: BotContext,
  client: webApi.WebClient,
  card: SlackMessageRef,
  request: AccessRequest,
): Promise<void> {
  try {
    await client.chat.update({ ...card, ...cardPayload(decidedCard(ctx.bucket, request)) });
  } catch (err) {
    ctx.log.warn("card_update_failed", { requestId: request.id, error: err });
  }
}
