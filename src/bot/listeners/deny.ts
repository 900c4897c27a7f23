/**
 * Deny on the admin card: no write; the one Slack call opens the reason modal, whose submission
 * (deny-submit.ts) makes the transition. The modal carries the card's channel and ts.
 */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { refusalText } from "../../rules/authorization.ts";
import { DENY_ACTION_ID } from "../../slack/action-ids.ts";
import type { BotContext } from "../context.ts";
import { clickedCard } from "../payloads.ts";
import { tellClicker } from "../replies.ts";
import { decodeButtonValue, denyModal, MALFORMED_BUTTON_TEXT } from "../views.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(DENY_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const value = decodeButtonValue(action.value);
    if (!value) return tellClicker(ctx, client, body, MALFORMED_BUTTON_TEXT);
    const verdict = await ctx.authorize("deny", body.user.id, client);
    if (!verdict.allowed) return tellClicker(ctx, client, body, refusalText(verdict.refusal, "deny"));
    const card = clickedCard(body);
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: denyModal(value, { id: value.id, ...(card ?? {}) }),
      });
    } catch (err) {
      ctx.log.warn("deny_modal_failed", { requestId: value.id, error: err });
    }
  });
}
