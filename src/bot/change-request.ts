/**
 * Filing an extension / change of access the person holds: the slash command's `request` for a scope
 * already ACTIVE and the expiry reminder's "Request extension" button both come here, so they file
 * the same request the same way. The rule (src/rules/change.ts) decides what changes or refuses; the
 * store files it (one open change per held scope: a second ask returns the open one); the admin card is
 * the one Slack call. Returns the requester's answer.
 */
import type { webApi } from "@slack/bolt";
import { planChange } from "../rules/change.ts";
import type { Permission } from "../rules/permission.ts";
import type { AccessRequest } from "../store/types.ts";
import { recordCard } from "./card-ref.ts";
import { changeAlreadyAskedText, changeReceiptText, changeRequestCard } from "./change-views.ts";
import type { BotContext } from "./context.ts";
import { cardPayload } from "./payloads.ts";

export interface ChangeAskInput {
  /** The person's ACTIVE request for the scope. */
  held: AccessRequest;
  permission: Permission;
  durationDays: number;
  reason?: string;
}

export type ChangeAskResult =
  | { outcome: "filed"; request: AccessRequest; text: string }
  | { outcome: "already-asked"; request: AccessRequest; text: string }
  | { outcome: "refused"; text: string };

export async function askForChange(
  ctx: BotContext,
  client: webApi.WebClient,
  input: ChangeAskInput,
): Promise<ChangeAskResult> {
  const { held } = input;
  const verdict = planChange(
    held,
    { permission: input.permission, durationDays: input.durationDays, askedAt: ctx.clock() },
    ctx.config.durations.maxDays,
  );
  if (!verdict.ok) return { outcome: "refused", text: verdict.message };
  const { change } = verdict;
  const { request, created } = await ctx.store.create({
    requesterUserId: held.requesterUserId,
    requesterTeamId: held.requesterTeamId,
    subPrefix: held.subPrefix,
    permission: change.to.permission,
    durationDays: input.durationDays,
    ...(input.reason ? { reason: input.reason } : {}),
    change: { of: held.id, from: change.from, to: change.to },
  });
  if (!created)
    return { outcome: "already-asked", request, text: changeAlreadyAskedText(ctx.bucket, request) };
  let text = changeReceiptText(ctx.bucket, request);
  try {
    const posted = await client.chat.postMessage({
      channel: ctx.config.admins.channelId,
      ...cardPayload(changeRequestCard(ctx.bucket, request)),
      unfurl_links: false,
      unfurl_media: false,
    });
    // As for a new request: cancel, pending expiry and a failure then update this card, not a new post.
    await recordCard(ctx, request.id, posted);
  } catch (err) {
    ctx.log.error("admin_card_failed", { requestId: request.id, error: err });
    text += `\n:warning: I couldn't post it to the admin channel; admins still see it with \`${ctx.config.slack.commandName} pending\`.`;
  }
  return { outcome: "filed", request, text };
}
