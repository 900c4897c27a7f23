/** Recording where a request's admin card was posted (new requests and change requests alike). */
import type { BotContext } from "./context.ts";

/**
 * Where the card is, so the expiry job can link it in reminders and take its buttons away when the
 * request expires undecided (no click ever told us). Its own UpdateItem leaves `updatedAt` alone, so
 * the copy the Approve button carries stays current. Best effort: without it the reminder has no link.
 */
export async function recordCard(
  ctx: BotContext,
  requestId: string,
  posted: { channel?: string; ts?: string },
): Promise<void> {
  if (!posted.channel || !posted.ts) return;
  try {
    await ctx.store.recordAdminCard(requestId, { channel: posted.channel, ts: posted.ts });
  } catch (err) {
    ctx.log.warn("admin_card_not_recorded", { requestId, error: err });
  }
}
