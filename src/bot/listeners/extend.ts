/**
 * The expiry reminder's "Request extension" (posted by the expiry job, value = request ID). Only the
 * requester may ask; the one Slack call tells the admin channel. Granting an extension needs a store
 * operation that moves expiresAt on an ACTIVE request, which does not exist yet (see README).
 */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { EXTEND_ACTION_ID } from "../../slack/action-ids.ts";
import type { BotContext } from "../context.ts";
import { cardPayload } from "../payloads.ts";
import { tellClicker } from "../replies.ts";
import { decodeButtonValue, extensionAskedNote } from "../views.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(EXTEND_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const value = decodeButtonValue(action.value);
    const request = value ? await ctx.store.get(value.id) : undefined;
    if (!request || request.requesterUserId !== body.user.id || request.status !== "ACTIVE") {
      return tellClicker(
        ctx,
        client,
        body,
        "There is no active access of yours to extend here; see `/cytoskel status`.",
      );
    }
    try {
      await client.chat.postMessage({
        channel: ctx.config.admins.channelId,
        ...cardPayload(extensionAskedNote(ctx.bucket, request)),
      });
    } catch (err) {
      ctx.log.warn("extension_notice_failed", { requestId: request.id, error: err });
    }
  });
}
