/**
 * The deny modal's submission: PENDING → DENIED with the optional reason, then the card updated. A
 * refusal or a lost race is answered inside the modal (response_action "errors"), with no other call.
 */

import type { App, ViewSubmitAction } from "@slack/bolt";
import { refusalText } from "../../rules/authorization.ts";
import { TransitionConflictError } from "../../store/errors.ts";
import type { AccessRequest } from "../../store/types.ts";
import type { BotContext } from "../context.ts";
import { plainTextFor } from "../errors.ts";
import { denyReason } from "../payloads.ts";
import { firstDelivery } from "../replay.ts";
import { showDecision } from "../replies.ts";
import { DENY_MODAL_CALLBACK_ID, DENY_REASON_BLOCK, parseDenyMetadata } from "../views.ts";

export function register(app: App, ctx: BotContext): void {
  app.view<ViewSubmitAction>(DENY_MODAL_CALLBACK_ID, async ({ ack, body, view, client, context }) => {
    const meta = parseDenyMetadata(view.private_metadata);
    const fieldError = (text: string) =>
      ack({ response_action: "errors", errors: { [DENY_REASON_BLOCK]: text } });
    if (!meta) return fieldError("This form is malformed; nothing was changed.");
    if (!(await firstDelivery(ctx, body, context, "deny"))) return ack();
    const actorId = body.user.id;
    const verdict = await ctx.authorize("deny", actorId, client);
    if (!verdict.allowed) return fieldError(refusalText(verdict.refusal, "deny"));
    const reason = denyReason(view);
    const card = meta.channel && meta.ts ? { channel: meta.channel, ts: meta.ts } : undefined;
    let updated: AccessRequest;
    try {
      updated = await ctx.store.transition(meta.id, {
        from: "PENDING",
        to: "DENIED",
        actor: { kind: "admin", id: actorId },
        ...(card ? { patch: { adminMessage: card } } : {}),
        ...(reason ? { reason: reason.slice(0, 500) } : {}),
      });
    } catch (err) {
      if (!(err instanceof TransitionConflictError)) ctx.log.error("deny_failed", { error: err });
      return fieldError(plainTextFor(err));
    }
    ctx.log.info("decided", { requestId: updated.id, to: updated.status, by: actorId });
    await ack();
    // Denied from the App Home, the modal knows no card: the stored one is updated instead.
    const shown = card ?? updated.adminMessage;
    if (shown) await showDecision(ctx, client, shown, updated);
  });
}
