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

/**
 * THE way text a person typed (reasons, IDs from a click or command, words a refusal quotes) or text
 * that may echo it (AWS and Slack error text) reaches mrkdwn, `text` fallbacks included: `&`, `<` and
 * `>` escaped as Slack asks, so no mention, ping, channel link or disguised `<url|label>` survives.
 * Builders call it where they interpolate such text; test/slack/hostile-text.test.ts renders every
 * builder with hostile text. Not for plain_text fields, which render nothing (modal titles, buttons):
 * there the entities would, as far as we could tell (not confirmed in Slack's docs), show literally.
 * Its inverse, for text Slack escaped on the way in, is unescapeSlack (src/bot/commands.ts).
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text as inline code, inert (a backtick in it would end the span early, so it becomes '). */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``;
}

/** A person's text as a block quote: escaped, each of its lines kept inside the quote. */
export function quote(text: string): string {
  return `>${escapeMrkdwn(text).replace(/\n/g, "\n>")}`;
}

/** Slack renders `<!date^…>` in the reader's timezone, with the ISO text as fallback. */
export function slackDate(iso: string): string {
  const epoch = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(epoch) ? `<!date^${epoch}^{date_short_pretty} {time}|${iso}>` : iso;
}
