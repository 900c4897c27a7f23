/**
 * One bot wired to real edges for a test file: a table on the run's DynamoDB Local, the local fake
 * Slack Web API, and the Lambda handler that verifies real HMAC signatures.
 */

import type { JobQueue } from "../../src/bot/app.ts";
import { loadBotConfig, type ResolvedBotConfig, resolveBotConfig } from "../../src/bot/config.ts";
import { createBotHandler } from "../../src/bot/handler.ts";
import type { HttpLambdaResult, LambdaHttpHandler } from "../../src/bot/receiver.ts";
import { silentLogger } from "../../src/log.ts";
import { createStores, type Stores } from "../../src/store/index.ts";
import { type LocalDynamo, startDynamo } from "../support/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import {
  blockActionBody,
  type EventFormat,
  signedEvent,
  slashCommandBody,
  viewSubmissionBody,
} from "../support/slack-requests.ts";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const ADMIN = "UADMIN1";
export const ADMIN2 = "UADMIN2";
export const GROUP_ADMIN = "UGROUPADM";
export const ADMIN_CHANNEL = "CADMINS";
export const USERGROUP = "SADMINS";

export interface Harness {
  dynamo: LocalDynamo;
  slack: FakeSlack;
  stores: Stores;
  config: ResolvedBotConfig;
  handler: LambdaHttpHandler;
  slash(userId: string, text: string, opts?: { format?: EventFormat; base64?: boolean }): Promise<Reply>;
  click(
    userId: string,
    actionId: string,
    value: string,
    card?: { channel: string; ts: string },
  ): Promise<Reply>;
  submitDeny(userId: string, metadata: string, reason?: string): Promise<Reply>;
  stop(): Promise<void>;
}

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

export async function startHarness(
  opts: { env?: Record<string, string>; jobs?: JobQueue } = {},
): Promise<Harness> {
  const dynamo = await startDynamo();
  const slack = await startFakeSlack({ usergroups: { [USERGROUP]: [GROUP_ADMIN] } });
  const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  const config = await resolveBotConfig(
    loadBotConfig({
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-test-token",
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_ID: "BBOTCYTO",
      SLACK_BOT_USER_ID: "UBOTCYTO",
      ADMIN_USER_IDS: `${ADMIN},${ADMIN2}`,
      ADMIN_USERGROUP_ID: USERGROUP,
      ADMIN_CHANNEL_ID: ADMIN_CHANNEL,
      TABLE_NAME: dynamo.tableName,
      ...opts.env,
    }),
  );
  const handler = createBotHandler({
    config,
    store: stores.requests,
    clientOptions: { retryConfig: { retries: 0 } },
    logger: silentLogger,
    receiverLogger: silentLogger,
    ...(opts.jobs ? { jobs: opts.jobs } : {}),
  });
  const post = async (body: string, eventOpts: { format?: EventFormat; base64?: boolean } = {}) =>
    toReply(await handler(signedEvent(SIGNING_SECRET, body, eventOpts)));
  return {
    dynamo,
    slack,
    stores,
    config,
    handler,
    slash: (userId, text, eventOpts) =>
      post(slashCommandBody({ userId, text, responseUrl: slack.responseUrl() }), eventOpts),
    click: (userId, actionId, value, card) =>
      post(
        blockActionBody({
          userId,
          actionId,
          value,
          channelId: card?.channel ?? ADMIN_CHANNEL,
          messageTs: card?.ts ?? "1700000000.000001",
          responseUrl: slack.responseUrl(),
        }),
      ),
    submitDeny: (userId, metadata, reason) =>
      post(
        viewSubmissionBody({
          userId,
          callbackId: "cytoskel_deny_modal",
          privateMetadata: metadata,
          values: { reason: { reason_input: { type: "plain_text_input", value: reason ?? null } } },
        }),
      ),
    stop: async () => {
      await slack.stop();
      await dynamo.stop();
    },
  };
}

/** The request ID in a receipt. */
export function requestIdIn(text: string | undefined): string {
  const m = /Request `([^`]+)` filed/.exec(text ?? "");
  if (!m?.[1]) throw new Error(`no request ID in: ${text}`);
  return m[1];
}
