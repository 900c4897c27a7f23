/**
 * The expiry reminder's "Request extension" (posted by the expiry job, value = request ID). Only the
 * requester may ask, once: one conditional UpdateItem records the ask (requester, ACTIVE, not asked
 * yet; no read first), and only the click that wins it tells the admin channel — a repeated click, or
 * the same reminder clicked from two devices, gets an ephemeral "already asked". Granting an
 * extension needs a store operation that moves expiresAt on an ACTIVE request, which does not exist
 * yet (see README).
 */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { EXTEND_ACTION_ID } from "../../slack/action-ids.ts";
import { slackDate } from "../../slack/blocks.ts";
import type { BotContext } from "../context.ts";
import { cardPayload } from "../payloads.ts";
import { tellClicker } from "../replies.ts";
import { decodeButtonValue, extensionAskedNote } from "../views.ts";

const NOTHING_TO_EXTEND = "There is no active access of yours to extend here; see `/cytoskel status`.";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(EXTEND_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const value = decodeButtonValue(action.value);
    if (!value) return tellClicker(ctx, client, body, NOTHING_TO_EXTEND);
    const { asked, request } = await ctx.store.recordExtensionAsk(value.id, body.user.id);
    if (!asked) {
      const mine = request?.requesterUserId === body.user.id && request.status === "ACTIVE";
      return tellClicker(
        ctx,
        client,
        body,
        mine && request.extensionAskedAt
          ? `You already asked to extend request \`${request.id}\` (${slackDate(request.extensionAskedAt)}); the admins were told then, nothing was sent again.`
          : NOTHING_TO_EXTEND,
      );
    }
    if (!request) return;
    try {
      await client.chat.postMessage({
        channel: ctx.config.admins.channelId,
        ...cardPayload(extensionAskedNote(ctx.bucket, request)),
      });
    } catch (err) {
      ctx.log.warn("extension_notice_failed", { requestId: request.id, error: err });
      // Nobody was told: give the ask back so the next click tries again.
      if (request.extensionAskedAt)
        await ctx.store
          .withdrawExtensionAsk(request.id, request.extensionAskedAt)
          .catch((e: unknown) =>
            ctx.log.warn("extension_ask_not_withdrawn", { requestId: request.id, error: e }),
          );
    }
  });
}
