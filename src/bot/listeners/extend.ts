/**
 * The expiry reminder's "Request extension" (posted by the expiry job, value = request ID). Only the
 * requester may ask, and only for access still ACTIVE. It files the same change request as
 * `/cytoskel request` for a held scope (src/bot/change-request.ts: the default duration, the same
 * permission), whose one Slack call is the admin card; the clicker is told with an ephemeral. A second
 * click while that change is open answers "already asked" and posts nothing to the admins.
 */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { EXTEND_ACTION_ID } from "../../slack/action-ids.ts";
import { askForChange } from "../change-request.ts";
import type { BotContext } from "../context.ts";
import { userTextFor } from "../errors.ts";
import { firstDelivery } from "../replay.ts";
import { tellClicker } from "../replies.ts";
import { decodeButtonValue } from "../views.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(EXTEND_ACTION_ID, async ({ ack, body, action, client, context }) => {
    await ack();
    if (!(await firstDelivery(ctx, body, context, "extend"))) return;
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
      const asked = await askForChange(ctx, client, {
        held: request,
        permission: request.permission,
        durationDays: ctx.config.durations.defaultDays,
      });
      ctx.log.info("extension_asked", { requestId: request.id, outcome: asked.outcome });
      await tellClicker(ctx, client, body, asked.text);
    } catch (err) {
      ctx.log.warn("extension_ask_failed", { requestId: request.id, error: err });
      await tellClicker(ctx, client, body, userTextFor(err));
    }
  });
}
