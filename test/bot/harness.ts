/**
 * One bot wired to real edges for a test file: a table on the run's DynamoDB Local, served through the
 * local AWS stand-in (which judges each call by the caller's IAM policies), the local fake Slack Web
 * API, and the Lambda handler that verifies real HMAC signatures. The handler's store signs as the
 * bot's synthesized role (dev/deployed-roles.ts), so a DynamoDB call cdk/ does not grant the
 * bot fails here as on AWS; `stores` is the admin's, for the tests' seeding and inspecting.
 */

import { type DeployedRoles, deployRoles } from "../../dev/deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "../../dev/local-aws/index.ts";
import {
  blockActionBody,
  type EventFormat,
  type Reply,
  signedEvent,
  slashCommandBody,
  toReply,
  viewSubmissionBody,
} from "../../dev/slack-requests.ts";
import type { JobQueue } from "../../src/bot/app.ts";
import { loadBotConfig, type ResolvedBotConfig, resolveBotConfig } from "../../src/bot/config.ts";
import { createBotHandler } from "../../src/bot/handler.ts";
import type { LambdaHttpHandler } from "../../src/bot/receiver.ts";
import { silentLogger } from "../../src/log.ts";
import { createStores, type Stores } from "../../src/store/index.ts";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const ADMIN = "UADMIN1";
export const ADMIN2 = "UADMIN2";
export const GROUP_ADMIN = "UGROUPADM";
export const ADMIN_CHANNEL = "CADMINS";
export const USERGROUP = "SADMINS";

export interface Harness {
  dynamo: LocalDynamo;
  /** The local AWS the bot's DynamoDB calls go through (and are judged by). */
  aws: LocalAws;
  /** Each function's synthesized role; the handler's store signs as `roles.doc("bot")`. */
  roles: DeployedRoles;
  slack: FakeSlack;
  /** The admin's stores (straight to the engine): seeding and inspecting, never the code under test. */
  stores: Stores;
  config: ResolvedBotConfig;
  handler: LambdaHttpHandler;
  slash(
    userId: string,
    text: string,
    opts?: { format?: EventFormat; base64?: boolean; teamId?: string; enterpriseId?: string },
  ): Promise<Reply>;
  click(
    userId: string,
    actionId: string,
    value: string,
    card?: { channel: string; ts: string },
  ): Promise<Reply>;
  submitDeny(userId: string, metadata: string, reason?: string): Promise<Reply>;
  /** Any body, signed now (what a listener gets when the other helpers' shapes are not enough). */
  post(body: string, opts?: { format?: EventFormat; base64?: boolean }): Promise<Reply>;
  stop(): Promise<void>;
}

export async function startHarness(
  opts: { env?: Record<string, string>; jobs?: JobQueue } = {},
): Promise<Harness> {
  const dynamo = await startDynamo();
  const slack = await startFakeSlack({ usergroups: { [USERGROUP]: [GROUP_ADMIN] } });
  const aws = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint });
  const { locationId, instanceArn } = seedAccessGrantsLocation(aws);
  const roles = await deployRoles(aws, { tableName: dynamo.tableName, instanceArn, locationId });
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
    store: createStores({ client: roles.doc("bot"), tableName: dynamo.tableName }).requests,
    clientOptions: { retryConfig: { retries: 0 } },
    logger: silentLogger,
    receiverLogger: silentLogger,
    ...(opts.jobs ? { jobs: opts.jobs } : {}),
  });
  const post = async (body: string, eventOpts: { format?: EventFormat; base64?: boolean } = {}) =>
    toReply(await handler(signedEvent(SIGNING_SECRET, body, eventOpts)));
  return {
    dynamo,
    aws,
    roles,
    slack,
    stores,
    config,
    handler,
    post,
    slash: (userId, text, { teamId, enterpriseId, ...eventOpts } = {}) =>
      post(
        slashCommandBody({
          userId,
          text,
          responseUrl: slack.responseUrl(),
          ...(teamId ? { teamId } : {}),
          ...(enterpriseId ? { enterpriseId } : {}),
        }),
        eventOpts,
      ),
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
      roles.close();
      await slack.stop();
      await aws.stop();
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
