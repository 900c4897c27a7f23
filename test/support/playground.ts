/**
 * Everything cytoskel needs, on one machine, wired like production: DynamoDB (the process's shared
 * DynamoDB Local — Java 17+ — since the store writes with transactions) with the real table, the local
 * AWS stand-in (seeded with the Access Grants instance, the bucket's location and the uploaders group),
 * the fake Slack Web API, the secret-link server, the provisioner fed by the
 * local stream stand-in, and the bot's Lambda handler behind a small node:http server on 127.0.0.1.
 * Used by `npm run dev`, the end-to-end flow test and the benchmark.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AwsClients, createAwsClients } from "../../src/aws/clients.ts";
import { ensureUploadersGroup } from "../../src/aws/iam-users.ts";
import type { BotLogger } from "../../src/bot/app.ts";
import { loadBotConfig, type ResolvedBotConfig, resolveBotConfig } from "../../src/bot/config.ts";
import { createBotHandler } from "../../src/bot/handler.ts";
import type { HttpLambdaResult, LambdaHttpHandler } from "../../src/bot/receiver.ts";
import { getTarget } from "../../src/config/targets.ts";
import { handleProvisionerEvent, type RetryPolicy } from "../../src/provisioner/handler.ts";
import { createSecretLinkHandler } from "../../src/secret-link/handler.ts";
import { startSecretLinkServer } from "../../src/secret-link/node-server.ts";
import { createConsumedNotifier } from "../../src/secret-link/notify.ts";
import { type ServiceDeps, silentLogger } from "../../src/service/deps.ts";
import { createSlackNotifier, createWebClient } from "../../src/service/notifier.ts";
import { createDynamoUserLocks } from "../../src/service/user-lock.ts";
import { createStores, type Stores } from "../../src/store/index.ts";
import { JobStore } from "../../src/store/jobs.ts";
import { type LocalDynamo, startDynamo } from "./dynamodb.ts";
import { type FakeSlack, type SlackCall, startFakeSlack } from "./fake-slack.ts";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "./local-aws/index.ts";
import { lambdaEvent } from "./slack-requests.ts";
import { type LocalStream, startLocalStream } from "./stream.ts";

export const PLAYGROUND_DEFAULTS = {
  signingSecret: "cytoskel-playground-signing-secret",
  botToken: "xoxb-cytoskel-playground",
  adminUserId: "UADMIN",
  adminChannelId: "CADMINS",
  botId: "BCYTOSKEL",
  botUserId: "UCYTOSKEL",
  teamId: "T0CYTOSKEL",
  /** Ports for `npm run dev` (0 = any free port; tests and the bench always use 0). */
  botPort: 3000,
  slackPort: 3001,
  secretLinkPort: 3002,
} as const;

export interface PlaygroundOptions {
  botPort?: number;
  slackPort?: number;
  secretLinkPort?: number;
  /** Extra admins (besides PLAYGROUND_DEFAULTS.adminUserId). */
  adminUserIds?: string[];
  onSlackCall?: (call: SlackCall) => void;
  /** Provisioner retry policy (tests shorten the backoff). */
  retry?: RetryPolicy;
  logger?: BotLogger;
  quiet?: boolean;
  /** Talk to a real Slack workspace instead of the fake (Socket Mode in `npm run dev`). */
  realSlack?: {
    apiUrl: string;
    botToken: string;
    botId: string;
    botUserId: string;
    adminUserIds: string[];
    adminChannelId: string;
  };
}

export interface Playground {
  botUrl: string;
  dynamo: LocalDynamo;
  localAws: LocalAws;
  aws: AwsClients;
  slack: FakeSlack;
  secretLinkUrl: string;
  stores: Stores;
  stream: LocalStream;
  config: ResolvedBotConfig;
  serviceDeps: ServiceDeps;
  /** Admin jobs (revoke / reissue) the bot queues and the provisioner runs from the stream. */
  jobs: JobStore;
  handler: LambdaHttpHandler;
  locationId: string;
  stop(): Promise<void>;
}

export async function startPlayground(opts: PlaygroundOptions = {}): Promise<Playground> {
  const d = PLAYGROUND_DEFAULTS;
  const target = getTarget("cpgstaging");
  const dynamo = await startDynamo({ tableName: "cytoskel-playground" });
  const localAws = await startLocalAws({});
  const seeded = seedAccessGrantsLocation(localAws, { scope: target.locationScope, region: target.region });
  const aws = createAwsClients({ env: localAws.env, region: target.region });
  await ensureUploadersGroup(aws.iam, { groupName: target.uploadersGroup, instanceArn: seeded.instanceArn });

  const slack = await startFakeSlack({
    port: opts.slackPort ?? 0,
    teamId: d.teamId,
    botId: d.botId,
    botUserId: d.botUserId,
    ...(opts.onSlackCall ? { onCall: opts.onSlackCall } : {}),
  });
  const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  const real = opts.realSlack;
  const slackApiUrl = real?.apiUrl ?? slack.apiUrl;
  const botToken = real?.botToken ?? d.botToken;
  const adminChannelId = real?.adminChannelId ?? d.adminChannelId;
  const webClient = createWebClient({ token: botToken, slackApiUrl, retries: real ? 2 : 0 });

  const secretLink = await startSecretLinkServer(
    createSecretLinkHandler({
      secrets: stores.secrets,
      onConsumed: createConsumedNotifier({ slack: webClient, audit: stores.audit }),
    }),
    { port: opts.secretLinkPort ?? 0 },
  );

  const jobs = new JobStore({ client: dynamo.doc, tableName: dynamo.tableName });
  const serviceDeps: ServiceDeps = {
    store: stores.requests,
    secrets: stores.secrets,
    iam: aws.iam,
    s3control: aws.s3control,
    accountId: localAws.accountId,
    target,
    locationId: seeded.locationId,
    notifier: createSlackNotifier(webClient, { adminChannelId }),
    locks: createDynamoUserLocks({ doc: dynamo.doc, tableName: dynamo.tableName }),
    jobs,
    secretLinkBaseUrl: secretLink.url,
    log: silentLogger,
  };

  // The provisioner Lambda, fed the same stream records Lambda would deliver.
  const stream = startLocalStream({
    client: dynamo.client,
    tableName: dynamo.tableName,
    onRecords: (event) => handleProvisionerEvent(serviceDeps, event, opts.retry ?? { backoffMs: 200 }),
    ...(opts.quiet ? { onWarning: () => {} } : {}),
  });

  const config = await resolveBotConfig(
    loadBotConfig({
      SLACK_SIGNING_SECRET: d.signingSecret,
      SLACK_BOT_TOKEN: botToken,
      SLACK_API_URL: slackApiUrl,
      SLACK_BOT_ID: real?.botId ?? d.botId,
      SLACK_BOT_USER_ID: real?.botUserId ?? d.botUserId,
      ADMIN_USER_IDS: (real?.adminUserIds ?? [d.adminUserId, ...(opts.adminUserIds ?? [])]).join(","),
      ADMIN_CHANNEL_ID: adminChannelId,
      TABLE_NAME: dynamo.tableName,
      ACCESS_GRANTS_LOCATION_ID: seeded.locationId,
      AWS_REGION: target.region,
    }),
  );
  const logger = opts.logger ?? silentLogger;
  const handler = createBotHandler({
    config,
    store: stores.requests,
    clientOptions: { retryConfig: { retries: 0 } },
    jobs,
    logger,
    receiverLogger: opts.quiet ? silentLogger : { info() {}, warn: console.warn, error: console.error },
  });
  const bot = await serveHandler(handler, opts.botPort ?? 0);

  return {
    botUrl: `${bot.url}/slack/events`,
    dynamo,
    localAws,
    aws,
    slack,
    secretLinkUrl: secretLink.url,
    stores,
    stream,
    config,
    serviceDeps,
    jobs,
    handler,
    locationId: seeded.locationId,
    stop: async () => {
      await new Promise<void>((resolve) => {
        bot.server.closeAllConnections();
        bot.server.close(() => resolve());
      });
      await stream.stop();
      await secretLink.close();
      await slack.stop();
      for (const client of Object.values(aws)) (client as { destroy(): void }).destroy();
      await localAws.stop();
      await dynamo.stop();
    },
  };
}

/**
 * The bot over HTTP: each request becomes the Function URL event Lambda would build (body base64, as
 * Function URLs send form bodies) and goes to the SAME handler the Lambda entry uses.
 */
export async function serveHandler(
  handler: LambdaHttpHandler,
  port: number,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void toEvent(req)
      .then((event) => handler(event, {}))
      .catch((err: unknown): HttpLambdaResult => {
        console.error(`bot handler threw: ${(err as Error).name}`);
        return { statusCode: 500, body: "" };
      })
      .then((result) => {
        res.writeHead(result.statusCode, result.headers ?? {});
        res.end(result.body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${actual}`, server };
}

async function toEvent(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  return lambdaEvent(Buffer.concat(chunks).toString("utf8"), headers, {
    format: "function-url",
    base64: true,
    path: url.pathname,
  });
}
