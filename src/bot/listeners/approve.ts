/** Approve on the admin card: PENDING → APPROVED (src/bot/decision.ts). */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { APPROVE_ACTION_ID } from "../../slack/action-ids.ts";
import type { BotContext } from "../context.ts";
import { decideFromCard } from "../decision.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION_ID, (args) =>
    decideFromCard(ctx, args, "approve", { from: "PENDING", to: "APPROVED" }),
  );
}
