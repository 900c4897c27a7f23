/**
 * The requester withdraws a pending request, from `/cytoskel cancel <id>` or the App Home's Cancel
 * button: one ownership check, store.transition, and the admin card updated (or a note posted).
 */

import type { webApi } from "@slack/bolt";
import { authorize } from "../rules/authorization.ts";
import { escapeMrkdwn } from "../slack/blocks.ts";
import type { BotContext } from "./context.ts";
import { cardPayload } from "./payloads.ts";
import { cancelledNote, decidedCard } from "./views.ts";

/** The answer for the requester (ephemeral or DM). */
export async function cancelRequest(
  ctx: BotContext,
  requestId: string,
  userId: string,
  client: webApi.WebClient,
): Promise<string> {
  const { bucket, config, store } = ctx;
  const request = await store.get(requestId);
  const verdict = authorize({
    action: "cancel",
    actorUserId: userId,
    actorIsAdmin: false,
    allowSelfApproval: false,
    ...(request ? { requesterUserId: request.requesterUserId } : {}),
  });
  // Someone else's request reads the same as a missing one: IDs are not an oracle.
  if (!request || !verdict.allowed)
    return `You have no request \`${escapeMrkdwn(requestId)}\` to cancel. See \`${config.slack.commandName} status\`.`;
  const updated = await store.transition(request.id, {
    from: "PENDING",
    to: "CANCELLED",
    actor: { kind: "requester", id: userId },
    current: request, // already read for the ownership check: the store need not read again
  });
  try {
    if (updated.adminMessage) {
      await client.chat.update({
        ...updated.adminMessage,
        ...cardPayload(decidedCard(bucket, updated)),
      });
    } else {
      await client.chat.postMessage({
        channel: config.admins.channelId,
        ...cardPayload(cancelledNote(bucket, updated)),
      });
    }
  } catch (err) {
    ctx.log.warn("cancel_notice_failed", { requestId: request.id, error: err });
  }
  return `Request \`${request.id}\` is cancelled. Nothing was granted.`;
}
