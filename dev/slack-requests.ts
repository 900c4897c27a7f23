/**
 * Builders for what Slack sends the bot: slash commands, button clicks, modal submissions,
 * and the Lambda events (API Gateway HTTP API v2 / Function URL) that carry them.
 * Shared by the bot tests, the benchmark and `npm run slack`.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { HttpLambdaResult } from "../src/bot/receiver.ts";
import { signSlackRequest } from "./slack-signing.ts";

export const FORM = "application/x-www-form-urlencoded";

export interface Who {
  userId: string;
  userName?: string;
  teamId?: string;
}

export function slashCommandBody(
  opts: Who & {
    text: string;
    command?: string;
    channelId?: string;
    responseUrl: string;
    /** An Enterprise Grid org-wide install: Slack adds enterprise_id and is_enterprise_install=true. */
    enterpriseId?: string;
  },
): string {
  return new URLSearchParams({
    token: "deprecated-verification-token",
    team_id: opts.teamId ?? "T0CYTOSKEL",
    team_domain: "cytoskel",
    channel_id: opts.channelId ?? "CGENERAL",
    channel_name: "general",
    user_id: opts.userId,
    user_name: opts.userName ?? opts.userId.toLowerCase(),
    command: opts.command ?? "/cytoskel",
    text: opts.text,
    api_app_id: "ACYTOSKEL",
    ...(opts.enterpriseId ? { enterprise_id: opts.enterpriseId, enterprise_name: "Grid" } : {}),
    is_enterprise_install: opts.enterpriseId ? "true" : "false",
    response_url: opts.responseUrl,
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
  }).toString();
}

/** One clicked element, as Slack sends it in `actions`. */
function clicked(actionId: string, value: string, blockId: string, select = false) {
  const at = { action_id: actionId, block_id: blockId, action_ts: `${Date.now() / 1000}` };
  return select
    ? {
        type: "static_select",
        ...at,
        selected_option: { text: { type: "plain_text", text: "chosen" }, value },
      }
    : { type: "button", ...at, value };
}

/** A block_actions body: the fields every surface sends, the surface's own, and the one action. */
function blockActions(opts: Who, surface: Record<string, unknown>, action: object): string {
  const teamId = opts.teamId ?? "T0CYTOSKEL";
  const payload = {
    type: "block_actions",
    user: { id: opts.userId, username: opts.userName ?? opts.userId.toLowerCase(), team_id: teamId },
    api_app_id: "ACYTOSKEL",
    token: "deprecated-verification-token",
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
    team: { id: teamId, domain: "cytoskel" },
    ...surface,
    actions: [action],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A button click on the App Home tab: Slack sends the view (container type "view") and no channel,
 * message or response_url (docs.slack.dev "block_actions payload": fields differ by source surface).
 */
export function homeActionBody(opts: Who & { actionId: string; value: string; viewId?: string }): string {
  const viewId = opts.viewId ?? "VHOME0001";
  const teamId = opts.teamId ?? "T0CYTOSKEL";
  return blockActions(
    opts,
    {
      container: { type: "view", view_id: viewId },
      view: { id: viewId, type: "home", team_id: teamId, blocks: [], private_metadata: "", callback_id: "" },
    },
    clicked(opts.actionId, opts.value, "home"),
  );
}

export function blockActionBody(
  opts: Who & {
    actionId: string;
    value: string;
    channelId: string;
    messageTs: string;
    responseUrl: string;
    /** A static_select's choice instead of a button: `value` is then the chosen option's value. */
    select?: boolean;
  },
): string {
  return blockActions(
    opts,
    {
      container: {
        type: "message",
        message_ts: opts.messageTs,
        channel_id: opts.channelId,
        is_ephemeral: false,
      },
      channel: { id: opts.channelId, name: "cytoskel-admins" },
      message: { type: "message", ts: opts.messageTs, text: "" },
      response_url: opts.responseUrl,
    },
    clicked(opts.actionId, opts.value, "decision", opts.select),
  );
}

export function viewSubmissionBody(
  opts: Who & {
    callbackId: string;
    privateMetadata: string;
    values: Record<string, Record<string, unknown>>;
  },
): string {
  const teamId = opts.teamId ?? "T0CYTOSKEL";
  const payload = {
    type: "view_submission",
    team: { id: teamId, domain: "cytoskel" },
    user: { id: opts.userId, username: opts.userName ?? opts.userId.toLowerCase(), team_id: teamId },
    api_app_id: "ACYTOSKEL",
    token: "deprecated-verification-token",
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
    view: {
      id: "VDENYMODAL",
      team_id: teamId,
      type: "modal",
      callback_id: opts.callbackId,
      private_metadata: opts.privateMetadata,
      state: { values: opts.values },
      hash: "1.abc",
    },
    response_urls: [],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export type EventFormat = "http-api-v2" | "function-url";

/** Wrap a raw body + headers as the event Lambda receives from API Gateway HTTP API v2 or a Function URL. */
export function lambdaEvent(
  body: string,
  headers: Record<string, string>,
  opts: { format?: EventFormat; base64?: boolean; path?: string } = {},
): APIGatewayProxyEventV2 {
  const format = opts.format ?? "http-api-v2";
  const path = opts.path ?? "/slack/events";
  const now = Date.now();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const domain =
    format === "function-url"
      ? "abc123.lambda-url.us-east-1.on.aws"
      : "abc123.execute-api.us-east-1.amazonaws.com";
  return {
    version: "2.0",
    routeKey: format === "function-url" ? "$default" : `POST ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { host: domain, "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)", ...lower },
    requestContext: {
      accountId: format === "function-url" ? "anonymous" : "123456789012",
      apiId: "abc123",
      domainName: domain,
      domainPrefix: "abc123",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "Slackbot 1.0" },
      requestId: randomUUID(),
      routeKey: format === "function-url" ? "$default" : `POST ${path}`,
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    // Function URLs always base64 form bodies; API Gateway does for non-text content types.
    body: opts.base64 ? Buffer.from(body, "utf8").toString("base64") : body,
    isBase64Encoded: opts.base64 ?? false,
  };
}

/** A signed Lambda event for `body`. */
export function signedEvent(
  secret: string,
  body: string,
  opts: { contentType?: string; timestamp?: number; format?: EventFormat; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const headers = {
    "content-type": opts.contentType ?? FORM,
    ...signSlackRequest(secret, body, opts.timestamp),
  };
  const eventOpts: { format?: EventFormat; base64?: boolean } = {};
  if (opts.format) eventOpts.format = opts.format;
  if (opts.base64 !== undefined) eventOpts.base64 = opts.base64;
  return lambdaEvent(body, headers, eventOpts);
}

/** A Lambda HTTP answer as a test reads it: status and the parsed JSON body (or its text). */
export interface Reply {
  status: number;
  /** Parsed JSON body, or the raw text. */
  json: {
    text?: string;
    response_type?: string;
    response_action?: string;
    errors?: Record<string, string>;
  } & Record<string, unknown>;
  raw: HttpLambdaResult;
}

export function toReply(raw: HttpLambdaResult): Reply {
  let json: Reply["json"] = {};
  try {
    json = raw.body ? JSON.parse(raw.body) : {};
  } catch {
    json = { text: raw.body };
  }
  return { status: raw.statusCode, json, raw };
}
