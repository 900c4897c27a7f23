// The Block Kit pieces every cytoskel message is made of, for the bot (src/bot/views.ts) and the
// service (src/service/messages.ts). Pure; nothing here knows about requests.
import type { types } from "@slack/bolt";

/** A message as posted: `text` is the notification fallback, `blocks` what Slack shows. */
export interface SlackMessage {
  text: string;
  blocks?: types.KnownBlock[];
}

/** A section of mrkdwn text. */
export function section(text: string): types.SectionBlock {
  return { type: "section", text: { type: "mrkdwn", text } };
}

/** The small grey line under a message. */
export function context(text: string): types.ContextBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text }] };
}

/** A button; `value` comes back with the click (at most 2,000 characters). */
export function button(
  actionId: string,
  label: string,
  value: string,
  style?: "primary" | "danger",
): types.Button {
  return {
    type: "button",
    action_id: actionId,
    text: { type: "plain_text", text: label },
    ...(style ? { style } : {}),
    value,
  };
}

export function actions(blockId: string, elements: types.Button[]): types.ActionsBlock {
  return { type: "actions", block_id: blockId, elements };
}

/** User-supplied text made inert in mrkdwn (no mentions, links or formatting tricks). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Slack renders `<!date^…>` in the reader's timezone, with the ISO text as fallback. */
export function slackDate(iso: string): string {
  const epoch = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(epoch) ? `<!date^${epoch}^{date_short_pretty} {time}|${iso}>` : iso;
}
