/**
 * An admin's Approve or Retry click on a card: one conditional transition (exactly one winner), then
 * the card updated in place; a refusal or a lost race is one ephemeral to the clicker. The listeners
 * `listeners/approve.ts` and `listeners/retry.ts` register it for their button.
 */

import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { authorize, RefusedError, refusalText } from "../rules/authorization.ts";
import { TransitionConflictError } from "../store/errors.ts";
import type { AccessRequest } from "../store/types.ts";
import type { BotContext } from "./context.ts";
import { userTextFor } from "./errors.ts";
import { refreshHomeAfter } from "./listeners/app-home.ts";
import { clickedCard } from "./payloads.ts";
import { firstDelivery } from "./replay.ts";
import { showDecision, tellClicker } from "./replies.ts";
import { alreadyDecidedText, decodeButtonValue, MALFORMED_BUTTON_TEXT } from "./views.ts";

export type ButtonClickArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

export async function decideFromCard(
  ctx: BotContext,
  { ack, body, action, client, context }: ButtonClickArgs,
  kind: "approve" | "retry",
  move: { from: "PENDING" | "FAILED"; to: "APPROVED" },
): Promise<void> {
  await ack();
  if (!(await firstDelivery(ctx, body, context, kind))) return;
  const value = decodeButtonValue(action.value);
  if (!value) return tellClicker(ctx, client, body, MALFORMED_BUTTON_TEXT);
  const actorId = body.user.id;
  // The button's copy answers an honest self-click early; the stored request decides, in `guard`.
  const verdict = await ctx.authorize(kind, actorId, client, value.request?.requesterUserId);
  if (!verdict.allowed) return tellClicker(ctx, client, body, refusalText(verdict.refusal, kind));
  const guard = (stored: AccessRequest) => {
    const onStored = authorize({
      action: kind,
      actorUserId: actorId,
      actorIsAdmin: true, // established above
      requesterUserId: stored.requesterUserId,
      allowSelfApproval: ctx.config.admins.allowSelfApproval,
    });
    if (!onStored.allowed) throw new RefusedError(onStored.refusal, kind);
  };
  const card = clickedCard(body);
  let updated: AccessRequest;
  try {
    updated = await ctx.store.transition(value.id, {
      ...move,
      actor: { kind: "admin", id: actorId },
      guard,
      ...(card ? { patch: { adminMessage: card } } : {}),
      // The card's copy of the request: the store then needs no read (one DynamoDB call).
      ...(value.request ? { current: value.request } : {}),
    });
  } catch (err) {
    if (err instanceof RefusedError) return tellClicker(ctx, client, body, err.message);
    if (!(err instanceof TransitionConflictError)) {
      ctx.log.error("decision_failed", { kind, error: err });
      return tellClicker(ctx, client, body, userTextFor(err));
    }
    return tellClicker(ctx, client, body, await conflictText(ctx, err));
  }
  ctx.log.info("decided", { requestId: updated.id, to: updated.status, by: actorId });
  // From the App Home there is no clicked card: the stored one is updated instead.
  const shown = card ?? updated.adminMessage;
  if (shown) await showDecision(ctx, client, shown, updated);
  await refreshHomeAfter(ctx, client, body);
}

/** The loser's answer; when later transitions followed the decision, one read finds who decided. */
async function conflictText(ctx: BotContext, err: TransitionConflictError): Promise<string> {
  if (err.winner?.from === err.expected) return userTextFor(err);
  const request = await ctx.store.get(err.requestId).catch(() => undefined);
  if (request?.decidedBy && request.decidedAt) {
    const to = request.status === "DENIED" ? "DENIED" : "APPROVED";
    return alreadyDecidedText(err.requestId, request.status, err.winner, {
      by: request.decidedBy,
      at: request.decidedAt,
      to,
    });
  }
  return userTextFor(err);
}
