/**
 * "Approve shorter…" on a change request's card: the admin picks a shorter duration (counted from the
 * ask, like the asked one) and that choice is the approval — PENDING → APPROVED with the shortened
 * terms in the same conditional write (src/rules/change.ts shortenChange decides what is allowed). One
 * read (the choice carries no copy of the request), one transaction, then the card as for Approve.
 */

import type { App, BlockAction, StaticSelectAction } from "@slack/bolt";
import { refusalText } from "../../rules/authorization.ts";
import { recordedChange, shortenChange } from "../../rules/change.ts";
import { APPROVE_SHORTER_ACTION_ID } from "../../slack/action-ids.ts";
import { TransitionConflictError } from "../../store/errors.ts";
import { decodeShorterValue } from "../change-views.ts";
import type { BotContext } from "../context.ts";
import { userTextFor } from "../errors.ts";
import { clickedCard } from "../payloads.ts";
import { firstDelivery } from "../replay.ts";
import { showDecision, tellClicker } from "../replies.ts";
import { MALFORMED_BUTTON_TEXT } from "../views.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<StaticSelectAction>>(
    APPROVE_SHORTER_ACTION_ID,
    async ({ ack, body, action, client, context }) => {
      await ack();
      if (!(await firstDelivery(ctx, body, context, "approve-shorter"))) return;
      const value = decodeShorterValue(action.selected_option?.value);
      if (!value) return tellClicker(ctx, client, body, MALFORMED_BUTTON_TEXT);
      const actorId = body.user.id;
      const request = await ctx.store.get(value.id);
      const change = request ? recordedChange(request) : undefined;
      if (!request || !change || !request.durationDays || request.requesterUserId !== value.requester)
        return tellClicker(ctx, client, body, MALFORMED_BUTTON_TEXT);
      // Judged on the stored requester (the write below is conditioned on it), never the choice's copy.
      const verdict = await ctx.authorize("approve", actorId, client, request.requesterUserId);
      if (!verdict.allowed) return tellClicker(ctx, client, body, refusalText(verdict.refusal, "approve"));
      const shorter = shortenChange(
        change,
        { askedAt: new Date(request.createdAt), durationDays: request.durationDays },
        value.days,
      );
      if (!shorter.ok) return tellClicker(ctx, client, body, `${shorter.message} Nothing was changed.`);
      const card = clickedCard(body);
      try {
        const updated = await ctx.store.transition(request.id, {
          from: "PENDING",
          to: "APPROVED",
          actor: { kind: "admin", id: actorId },
          reason: `approved for ${shorter.durationDays} days (asked ${request.durationDays})`,
          patch: {
            changeTo: shorter.change.to,
            durationDays: shorter.durationDays,
            ...(card ? { adminMessage: card } : {}),
          },
          current: request,
        });
        ctx.log.info("decided", { requestId: updated.id, to: updated.status, by: actorId, days: value.days });
        if (card) await showDecision(ctx, client, card, updated);
      } catch (err) {
        if (!(err instanceof TransitionConflictError)) ctx.log.error("decision_failed", { error: err });
        return tellClicker(ctx, client, body, userTextFor(err));
      }
    },
  );
}
