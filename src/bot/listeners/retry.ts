/** Retry on the provisioner's FAILED card (value = request ID): FAILED → APPROVED (src/bot/decision.ts). */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { RETRY_ACTION_ID } from "../../slack/action-ids.ts";
import type { BotContext } from "../context.ts";
import { decideFromCard } from "../decision.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(RETRY_ACTION_ID, (args) =>
    decideFromCard(ctx, args, "retry", { from: "FAILED", to: "APPROVED" }),
  );
}
