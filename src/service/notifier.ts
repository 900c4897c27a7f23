/**
 * Slack side effects of the service layer behind one small interface, so the provisioner, revoke and
 * expiry code never touch a Slack client directly. The real implementation is a WebClient made by
 * src/runtime/slack-client.ts, whose API URL tests point at the local fake Slack API.
 */
import type { webApi } from "@slack/bolt";
import type { SlackMessage } from "./messages.ts";

export interface MessageRef {
  channel: string;
  ts: string;
}

export interface Notifier {
  /** Direct message to a Slack user (the app's DM with them). Link unfurling is always off. */
  dmUser(userId: string, message: SlackMessage): Promise<MessageRef>;
  /** Replace an admin-channel message in place (e.g. the request card after a decision). */
  updateAdminMessage(ref: MessageRef, message: SlackMessage): Promise<void>;
  /** New message in the admin channel. */
  postAdminChannel(message: SlackMessage): Promise<MessageRef>;
  /** Ephemeral answer through a slash command's response_url (queued admin jobs report back here). */
  respond?(responseUrl: string, message: SlackMessage): Promise<void>;
  /** A link to a posted message (chat.getPermalink; needs no scope). */
  permalink?(ref: MessageRef): Promise<string>;
}

export class SlackNotifyError extends Error {
  override readonly name = "SlackNotifyError";
  constructor(
    readonly operation: "dmUser" | "updateAdminMessage" | "postAdminChannel" | "respond" | "permalink",
    readonly slackError: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`Slack ${operation} failed${slackError ? `: ${slackError}` : ""}`, options);
  }
}

function slackErrorCode(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  if (data && typeof data.error === "string") return data.error;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * response_urls come from Slack's signed payload via our own table; still, only Slack's hooks host (or a
 * loopback stand-in in tests and the playground) is ever posted to.
 */
export function isAllowedResponseUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === "https:" && url.hostname === "hooks.slack.com") return true;
  return (
    (url.protocol === "http:" || url.protocol === "https:") &&
    ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)
  );
}

/** Notifier over a WebClient; adminChannelId is the channel admins decide in. */
export function createSlackNotifier(client: webApi.WebClient, opts: { adminChannelId: string }): Notifier {
  return {
    async dmUser(userId, message) {
      try {
        // Posting to a user ID lands in the app's DM with that user (no conversations.open round trip).
        const res = await client.chat.postMessage({
          channel: userId,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          unfurl_links: false,
          unfurl_media: false,
        });
        return { channel: res.channel ?? userId, ts: res.ts ?? "" };
      } catch (err) {
        throw new SlackNotifyError("dmUser", slackErrorCode(err), { cause: err });
      }
    },
    async updateAdminMessage(ref, message) {
      try {
        await client.chat.update({
          channel: ref.channel,
          ts: ref.ts,
          text: message.text,
          blocks: message.blocks ?? [],
        });
      } catch (err) {
        throw new SlackNotifyError("updateAdminMessage", slackErrorCode(err), { cause: err });
      }
    },
    async postAdminChannel(message) {
      try {
        const res = await client.chat.postMessage({
          channel: opts.adminChannelId,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          unfurl_links: false,
          unfurl_media: false,
        });
        return { channel: res.channel ?? opts.adminChannelId, ts: res.ts ?? "" };
      } catch (err) {
        throw new SlackNotifyError("postAdminChannel", slackErrorCode(err), { cause: err });
      }
    },
    async permalink(ref) {
      try {
        const res = await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
        if (!res.permalink) throw new SlackNotifyError("permalink", "no_permalink");
        return res.permalink;
      } catch (err) {
        if (err instanceof SlackNotifyError) throw err;
        throw new SlackNotifyError("permalink", slackErrorCode(err), { cause: err });
      }
    },
    async respond(responseUrl, message) {
      if (!isAllowedResponseUrl(responseUrl)) throw new SlackNotifyError("respond", "response_url_not_slack");
      let res: Response;
      try {
        res = await fetch(responseUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            response_type: "ephemeral",
            replace_original: false,
            text: message.text,
            ...(message.blocks ? { blocks: message.blocks } : {}),
          }),
          signal: AbortSignal.timeout(5_000),
        });
      } catch (err) {
        throw new SlackNotifyError("respond", (err as Error).name, { cause: err });
      }
      // Slack answers 404 "expired_url" after 30 minutes or five uses.
      if (!res.ok) throw new SlackNotifyError("respond", `http_${res.status}`);
    },
  };
}
