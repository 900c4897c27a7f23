/**
 * Pure readings of what Slack hands a listener, and the shapes a listener answers with. No Slack call,
 * no store: the listeners (src/bot/listeners/*) call these.
 */

import type { BlockAction, ViewOutput } from "@slack/bolt";
import type { SlackMessage } from "../slack/blocks.ts";
import type { SlackMessageRef } from "../store/types.ts";
import { DENY_REASON_ACTION, DENY_REASON_BLOCK } from "./views.ts";

/** A slash command's answer, seen only by the person who typed it. */
export function ephemeral(text: string): { response_type: "ephemeral"; text: string } {
  return { response_type: "ephemeral", text };
}

/** A message as chat.postMessage / chat.update take it (blocks always present, so an update clears old ones). */
export function cardPayload(message: SlackMessage): {
  text: string;
  blocks: NonNullable<SlackMessage["blocks"]>;
} {
  return { text: message.text, blocks: message.blocks ?? [] };
}

/** The channel the clicked message is in. */
export function clickChannel(body: BlockAction): string | undefined {
  return body.channel?.id ?? body.container?.channel_id;
}

/** The clicked message itself (the admin card): Slack sends its channel and ts with every click. */
export function clickedCard(body: BlockAction): SlackMessageRef | undefined {
  const channel = clickChannel(body);
  const ts = body.message?.ts ?? body.container?.message_ts;
  return channel && ts ? { channel, ts } : undefined;
}

/** The deny modal's optional reason, trimmed ("" when none was typed). */
export function denyReason(view: ViewOutput): string {
  return view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value?.trim() ?? "";
}
