// Driving the playground as Slack would: signed slash commands and button clicks to the bot's handler,
// and the admin card a request was announced with. Shared by the flow, contract and bench code.

import { PLAYGROUND_DEFAULTS, type Playground } from "./playground.ts";
import { blockActionBody, signedEvent, slashCommandBody, toReply } from "./slack-requests.ts";

export interface AdminCard {
  channel: string;
  ts: string;
  /** The Approve button's value (the filed request, as the card carries it). */
  value: string;
  msg: { channel: string; ts: string; blocks?: unknown };
}

export function playgroundSlack(p: Playground) {
  const d = PLAYGROUND_DEFAULTS;
  // Slack signs at the playground's time (its clock may have been moved).
  const send = async (body: string) =>
    toReply(
      await p.handler(
        signedEvent(d.signingSecret, body, { timestamp: Math.floor(p.now().getTime() / 1000) }),
        {},
      ),
    );
  const slash = (user: string, text: string) =>
    send(slashCommandBody({ userId: user, text, teamId: d.teamId, responseUrl: p.slack.responseUrl() }));
  /** The admin-channel card that names `needle` (a request ID, or `<@USER>`). */
  const card = (needle: string): AdminCard => {
    const msg = [...p.slack.messages.values()].find(
      (m) => m.channel === d.adminChannelId && JSON.stringify(m.blocks).includes(needle),
    );
    if (!msg) throw new Error(`no admin card for ${needle}`);
    const blocks = (msg.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
    const value =
      blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === "cytoskel_approve")?.value ?? "";
    return { channel: msg.channel, ts: msg.ts, value, msg };
  };
  const click = (
    user: string,
    actionId: string,
    value: string,
    c: { channel: string; ts: string },
    opts: { select?: boolean } = {},
  ) =>
    send(
      blockActionBody({
        userId: user,
        teamId: d.teamId,
        actionId,
        value,
        channelId: c.channel,
        messageTs: c.ts,
        responseUrl: p.slack.responseUrl(),
        ...(opts.select ? { select: true } : {}),
      }),
    );
  return { send, slash, card, click };
}
