/**
 * Everything cytoskel needs, on one machine, wired like production: DynamoDB (the process's shared
 * DynamoDB Local — Java 17+ — since the store writes with transactions) with the real table, the local
 * AWS stand-in (seeded with the Access Grants instance, the bucket's location, the uploaders group, the
 * Slack secrets and each function's synthesized role), the fake Slack Web API, the secret-link server,
 * the provisioner fed by the local stream stand-in, and the bot's Lambda handler behind a small
 * node:http server on 127.0.0.1. Every function runs as itself: the bot, the provisioner and the
 * secret-link handler sign their AWS calls (DynamoDB included, served through the stand-in, which
 * judges them) with their own role's session, so a call cdk/ does not allow fails here as on AWS.
 * `stores` and `aws` are the admin's (the account root), for tests and scripts to seed and inspect.
 * Used by `npm run dev`, the end-to-end flow test and the benchmark.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AwsClients, createAwsClients } from "../src/aws/clients.ts";
import type { BotLogger } from "../src/bot/app.ts";
import { loadBotConfig, type ResolvedBotConfig, resolveBotConfig } from "../src/bot/config.ts";
import { createBotHandler } from "../src/bot/handler.ts";
import type { HttpLambdaResult, LambdaHttpHandler } from "../src/bot/receiver.ts";
import { secretsManagerFetcher } from "../src/config/secrets.ts";
import { getTarget } from "../src/config/targets.ts";
import { handleProvisionerEvent, type RetryPolicy } from "../src/provisioner/handler.ts";
import { createSecretLinkHandler } from "../src/secret-link/handler.ts";
import { startSecretLinkServer } from "../src/secret-link/node-server.ts";
import { createConsumedNotifier } from "../src/secret-link/notify.ts";
import { type ServiceDeps, silentLogger } from "../src/service/deps.ts";
import { createSlackNotifier, createWebClient } from "../src/service/notifier.ts";
import { createDynamoUserLocks } from "../src/service/user-lock.ts";
import { createStores, type Stores } from "../src/store/index.ts";
import { JobStore } from "../src/store/jobs.ts";
import {
  type DeployedRoles,
  type DeployOptions,
  deployRoles,
  FUNCTION_NAMES,
  type FunctionName,
  seedUploadersGroup,
} from "./deployed-roles.ts";
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
  /** The admin's (account root) SDK clients, for seeding and inspecting; the functions use `roles`. */
  aws: AwsClients;
  slack: FakeSlack;
  secretLinkUrl: string;
  /** The admin's stores (straight to the engine), for seeding and inspecting. */
  stores: Stores;
  stream: LocalStream;
  config: ResolvedBotConfig;
  /** The provisioner's deps: its role's IAM / S3 Control clients, stores, locks and job store. */
  serviceDeps: ServiceDeps;
  /** Admin jobs (revoke / reissue) the bot queues (as the bot's role) and the provisioner runs from the stream. */
  jobs: JobStore;
  handler: LambdaHttpHandler;
  locationId: string;
  /** Each function's synthesized role as seeded in `localAws`, with clients signing as it. */
  roles: DeployedRoles;
  /**
   * What the deployed Lambda function `fn` would get as its environment: its role's session
   * credentials and the stand-ins' endpoints, plus the settings the stack gives it (table, Slack
   * secrets' ARNs in the stand-in's Secrets Manager, admin channel, …), pointed at this playground.
   * For scripts that run a Lambda entry (src/<fn>/lambda.ts) against it.
   */
  functionEnv(fn: FunctionName): Record<string, string>;
  stop(): Promise<void>;
}

export async function startPlayground(opts: PlaygroundOptions = {}): Promise<Playground> {
  const d = PLAYGROUND_DEFAULTS;
  const target = getTarget("cpgstaging");
  const dynamo = await startDynamo({ tableName: "cytoskel-playground" });
  // DynamoDB goes through the local AWS, which judges each call by the caller's role.
  const localAws = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint, region: target.region });
  const seeded = seedAccessGrantsLocation(localAws, { scope: target.locationScope, region: target.region });
  // The admin's (root) clients: seeding and inspecting, never the functions.
  const aws = createAwsClients({ env: localAws.env, region: target.region });

  const real = opts.realSlack;
  const botToken = real?.botToken ?? d.botToken;
  const adminChannelId = real?.adminChannelId ?? d.adminChannelId;
  const adminUserIds = real?.adminUserIds ?? [d.adminUserId, ...(opts.adminUserIds ?? [])];
  // The Slack secrets live in (local) Secrets Manager, as deployed; the roles' policies name them.
  const secrets = {
    signingSecretArn: localAws.putSecret("cytoskel-playground/slack-signing-secret", d.signingSecret, {
      region: target.region,
    }),
    botTokenArn: localAws.putSecret("cytoskel-playground/slack-bot-token", botToken, {
      region: target.region,
    }),
  };
  // What the grants stack creates in a real account, then each function's synthesized role.
  const deployment: DeployOptions = {
    tableName: dynamo.tableName,
    instanceArn: seeded.instanceArn,
    locationId: seeded.locationId,
    bucketName: target.bucket,
    uploadersGroupName: target.uploadersGroup,
    region: target.region,
    secrets,
  };
  await seedUploadersGroup(aws.iam, localAws, deployment);
  const roles = await deployRoles(localAws, deployment);

  const slack = await startFakeSlack({
    port: opts.slackPort ?? 0,
    teamId: d.teamId,
    botId: d.botId,
    botUserId: d.botUserId,
    ...(opts.onSlackCall ? { onCall: opts.onSlackCall } : {}),
  });
  const slackApiUrl = real?.apiUrl ?? slack.apiUrl;
  const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  const webClient = createWebClient({ token: botToken, slackApiUrl, retries: real ? 2 : 0 });

  // The secret-link function: reads and consumes secrets, appends the audit event, as its own role.
  const linkStores = createStores({ client: roles.doc("secretLink"), tableName: dynamo.tableName });
  const secretLink = await startSecretLinkServer(
    createSecretLinkHandler({
      secrets: linkStores.secrets,
      onConsumed: createConsumedNotifier({ slack: webClient, audit: linkStores.audit }),
    }),
    { port: opts.secretLinkPort ?? 0 },
  );

  // The provisioner, as its own role: stores, locks and jobs on its DynamoDB client, IAM / S3 Control.
  const provisionerDoc = roles.doc("provisioner");
  const provisionerStores = createStores({ client: provisionerDoc, tableName: dynamo.tableName });
  const provisionerClients = roles.aws("provisioner");
  const serviceDeps: ServiceDeps = {
    store: provisionerStores.requests,
    secrets: provisionerStores.secrets,
    iam: provisionerClients.iam,
    s3control: provisionerClients.s3control,
    accountId: localAws.accountId,
    target,
    locationId: seeded.locationId,
    notifier: createSlackNotifier(webClient, { adminChannelId }),
    locks: createDynamoUserLocks({ doc: provisionerDoc, tableName: dynamo.tableName }),
    jobs: new JobStore({ client: provisionerDoc, tableName: dynamo.tableName }),
    secretLinkBaseUrl: secretLink.url,
    log: silentLogger,
  };

  // The provisioner Lambda, fed the same stream records Lambda would deliver: every write to the table
  // (the admin's seeding, the bot's and the provisioner's own) becomes a record. The secret-link
  // function's writes (consumed secrets, audit events) never trigger the provisioner, so are not captured.
  const stream = startLocalStream({
    client: dynamo.client,
    tableName: dynamo.tableName,
    onRecords: (event) => handleProvisionerEvent(serviceDeps, event, opts.retry ?? { backoffMs: 200 }),
    ...(opts.quiet ? { onWarning: () => {} } : {}),
  });
  stream.attach(roles.aws("bot").dynamodb);
  stream.attach(provisionerClients.dynamodb);

  const envs = functionEnvs(roles, {
    common: {
      TABLE_NAME: dynamo.tableName,
      SLACK_BOT_TOKEN_ARN: secrets.botTokenArn,
      SLACK_API_URL: slackApiUrl,
      ADMIN_CHANNEL_ID: adminChannelId,
      AWS_REGION: target.region,
    },
    bot: {
      SLACK_SIGNING_SECRET_ARN: secrets.signingSecretArn,
      SLACK_BOT_ID: real?.botId ?? d.botId,
      SLACK_BOT_USER_ID: real?.botUserId ?? d.botUserId,
      ADMIN_USER_IDS: adminUserIds.join(","),
      ACCESS_GRANTS_LOCATION_ID: seeded.locationId,
      BUCKET: target.bucket,
    },
    service: {
      AWS_ACCOUNT_ID: localAws.accountId,
      BUCKET: target.bucket,
      ACCESS_GRANTS_LOCATION_ID: seeded.locationId,
      UPLOADERS_GROUP: target.uploadersGroup,
      IAM_PATH: target.iamPath,
      SECRET_LINK_BASE_URL: secretLink.url,
    },
  });

  // The bot reads its Slack secrets from Secrets Manager as its role, like its Lambda's cold start.
  const config = await resolveBotConfig(
    loadBotConfig(envs.bot),
    secretsManagerFetcher(roles.aws("bot").secretsManager),
  );
  const botDoc = roles.doc("bot");
  const jobs = new JobStore({ client: botDoc, tableName: dynamo.tableName });
  const logger = opts.logger ?? silentLogger;
  const handler = createBotHandler({
    config,
    store: createStores({ client: botDoc, tableName: dynamo.tableName }).requests,
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
    roles,
    functionEnv: (fn) => ({ ...envs[fn] }),
    stop: async () => {
      await new Promise<void>((resolve) => {
        bot.server.closeAllConnections();
        bot.server.close(() => resolve());
      });
      await stream.stop();
      await secretLink.close();
      await slack.stop();
      roles.close();
      for (const client of Object.values(aws)) (client as { destroy(): void }).destroy();
      await localAws.stop();
      await dynamo.stop();
    },
  };
}

/** Each function's Lambda environment: its role's env, the settings all get, and its own (as in cdk/). */
function functionEnvs(
  roles: DeployedRoles,
  settings: {
    common: Record<string, string>;
    bot: Record<string, string>;
    /** What src/service/runtime.ts reads (provisioner and expiry job). */
    service: Record<string, string>;
  },
): Record<FunctionName, Record<string, string>> {
  const own: Record<FunctionName, Record<string, string>> = {
    bot: settings.bot,
    provisioner: settings.service,
    secretLink: {},
    expiry: settings.service,
  };
  return Object.fromEntries(
    FUNCTION_NAMES.map((fn) => [fn, { ...roles.functions[fn].env, ...settings.common, ...own[fn] }]),
  ) as Record<FunctionName, Record<string, string>>;
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
