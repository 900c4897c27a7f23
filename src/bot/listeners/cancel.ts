/** The App Home's Cancel beside an open request: the same path as `/cytoskel cancel <id>` (src/bot/cancel.ts). */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { CANCEL_ACTION_ID } from "../../slack/action-ids.ts";
import { cancelRequest } from "../cancel.ts";
import type { BotContext } from "../context.ts";
import { userTextFor } from "../errors.ts";
import { firstDelivery } from "../replay.ts";
import { tellClicker } from "../replies.ts";
import { decodeButtonValue, MALFORMED_BUTTON_TEXT } from "../views.ts";
import { refreshHomeAfter } from "./app-home.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(CANCEL_ACTION_ID, async ({ ack, body, action, client, context }) => {
    await ack();
    if (!(await firstDelivery(ctx, body, context, "cancel"))) return;
    const value = decodeButtonValue(action.value);
    if (!value) return tellClicker(ctx, client, body, MALFORMED_BUTTON_TEXT);
    let text: string;
    try {
      text = await cancelRequest(ctx, value.id, body.user.id, client);
    } catch (err) {
      ctx.log.warn("cancel_failed", { requestId: value.id, error: err });
      text = userTextFor(err);
    }
    await tellClicker(ctx, client, body, text);
    await refreshHomeAfter(ctx, client, body);
  });
}
