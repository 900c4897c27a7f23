/**
 * Everything cytoskel needs, on one machine, deployed like production: DynamoDB (the process's shared
 * DynamoDB Local — Java 17+ — since the store writes with transactions) with the real table, the local
 * AWS stand-in seeded with what the stacks create (dev/deployed-roles.ts: deployLocally), the fake
 * Slack Web API, and the four functions built by their Lambda entries' own factories
 * (createBotHandlerFromEnv, createProvisionerHandlerFromEnv, createExpiryHandlerFromEnv,
 * createSecretLinkHandleFromEnv) from the environment each would get in Lambda: its role's session
 * credentials, the stand-ins' endpoints and the settings cdk/ gives it. Only the transports are the
 * playground's: node:http servers on 127.0.0.1 for the bot and the secret link, and the local stream
 * stand-in feeding the provisioner. Every function signs its AWS calls (DynamoDB included) as its own
 * role, so a call cdk/ does not allow fails here as on AWS. `stores` and `aws` are the admin's (the
 * account root), for tests and scripts to seed and inspect. Used by `npm run dev`, the end-to-end flow
 * test and the benchmark.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FUNCTION_SPECS } from "../cdk/lib/bot-functions.ts";
import { type AwsClients, createAwsClients } from "../src/aws/clients.ts";
import type { BotLogger } from "../src/bot/app.ts";
import { type BOT_ENV, loadBotConfig, type ResolvedBotConfig, resolveBotConfig } from "../src/bot/config.ts";
import { createBotHandlerFromEnv } from "../src/bot/lambda.ts";
import type { HttpLambdaResult, LambdaHttpHandler } from "../src/bot/receiver.ts";
import { definedEnv, type EnvOf } from "../src/config/env.ts";
import { getTarget } from "../src/config/targets.ts";
import { createExpiryHandlerFromEnv, type ExpiryHandler } from "../src/expiry/lambda.ts";
import { createProvisionerHandlerFromEnv } from "../src/provisioner/lambda.ts";
import { closeServer, limitServer, readBodyWithin, stopOnce } from "../src/runtime/local-http.ts";
import { secretsManagerFetcher } from "../src/runtime/secrets.ts";
import type { SECRET_LINK_ENV } from "../src/secret-link/config.ts";
import type { HttpRequest, HttpResponse } from "../src/secret-link/handler.ts";
import { createSecretLinkHandleFromEnv } from "../src/secret-link/lambda.ts";
import { startSecretLinkServer } from "../src/secret-link/node-server.ts";
import { silentLogger } from "../src/service/deps.ts";
import type { SERVICE_ENV } from "../src/service/runtime.ts";
import { createStores, type Stores } from "../src/store/index.ts";
import { JobStore } from "../src/store/jobs.ts";
import { type DeployedRoles, deployLocally, FUNCTION_NAMES, type FunctionName } from "./deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "./dynamodb.ts";
import { type FakeSlack, type SlackCall, startFakeSlack } from "./fake-slack.ts";
import { lambdaContext } from "./lambda-context.ts";
import { type LocalAws, startLocalAws } from "./local-aws/index.ts";
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
  /** The provisioner's in-process tries (PROVISION_MAX_ATTEMPTS / PROVISION_BACKOFF_MS; tests shorten them). */
  retry?: { maxAttempts?: number; backoffMs?: number };
  logger?: BotLogger;
  quiet?: boolean;
  /** The time every function sees (dev/playground-clock.ts: `npm run slack -- clock +3d`); default real. */
  clock?: () => Date;
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
  /** Admin jobs (revoke / reissue) the bot queues (as the bot's role) and the provisioner runs from the stream. */
  jobs: JobStore;
  /** The bot function, built by its Lambda entry's factory from its environment (as on a cold start). */
  handler: LambdaHttpHandler;
  /** The expiry function, built the same way; `clock` (default: the playground's) runs the sweep at another time. */
  expiry(clock?: () => Date): ExpiryHandler;
  /** The playground's time (its clock option, else the real time). */
  now(): Date;
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
  const now = opts.clock ?? (() => new Date());
  // Passed only when set, so without it every factory keeps its own default (the real time).
  const timed = opts.clock ? { clock: opts.clock } : {};
  const target = getTarget("cpgstaging");
  const dynamo = await startDynamo({ tableName: "cytoskel-playground" });
  // DynamoDB goes through the local AWS, which judges each call by the caller's role.
  const localAws = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint, region: target.region });
  // The admin's (root) clients: seeding and inspecting, never the functions.
  const aws = createAwsClients({ env: localAws.env, region: target.region });

  const real = opts.realSlack;
  const botToken = real?.botToken ?? d.botToken;
  const adminChannelId = real?.adminChannelId ?? d.adminChannelId;
  const adminUserIds = real?.adminUserIds ?? [d.adminUserId, ...(opts.adminUserIds ?? [])];
  // What the two stacks create; the Slack secrets live in (local) Secrets Manager, as deployed.
  const deployed = await deployLocally(localAws, aws.iam, {
    tableName: dynamo.tableName,
    region: target.region,
    locationScope: target.locationScope,
    slack: { signingSecret: d.signingSecret, botToken },
    secretPrefix: "cytoskel-playground",
  });
  const { roles, locationId } = deployed;

  const slack = await startFakeSlack({
    port: opts.slackPort ?? 0,
    teamId: d.teamId,
    botId: d.botId,
    botUserId: d.botUserId,
    ...(opts.onSlackCall ? { onCall: opts.onSlackCall } : {}),
  });
  const slackApiUrl = real?.apiUrl ?? slack.apiUrl;
  const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });

  // The secret-link function behind a node:http server; its handle is made once the environments
  // (which name the server's own URL) are known.
  let linkHandle: (req: HttpRequest) => Promise<HttpResponse> = async () => ({
    status: 503,
    headers: {},
    body: "",
  });
  const secretLink = await startSecretLinkServer((req) => linkHandle(req), {
    port: opts.secretLinkPort ?? 0,
  });

  const envs = functionEnvs(roles, {
    common: {
      TABLE_NAME: dynamo.tableName,
      SLACK_BOT_TOKEN_ARN: deployed.secrets.botTokenArn,
      SLACK_API_URL: slackApiUrl,
      // The fake Slack never fails unless a test makes it; a real workspace gets the default.
      ...(real ? {} : { SLACK_MAX_RETRIES: "0" }),
      AWS_REGION: target.region,
    },
    bot: {
      SLACK_SIGNING_SECRET_ARN: deployed.secrets.signingSecretArn,
      SLACK_BOT_ID: real?.botId ?? d.botId,
      SLACK_BOT_USER_ID: real?.botUserId ?? d.botUserId,
      ADMIN_USER_IDS: adminUserIds.join(","),
      ADMIN_CHANNEL_ID: adminChannelId,
      BUCKET: target.bucket,
    },
    service: {
      ADMIN_CHANNEL_ID: adminChannelId,
      AWS_ACCOUNT_ID: localAws.accountId,
      BUCKET: target.bucket,
      ACCESS_GRANTS_LOCATION_ID: locationId,
      UPLOADERS_GROUP: target.uploadersGroup,
      IAM_PATH: target.iamPath,
      SECRET_LINK_BASE_URL: secretLink.url,
      PROVISION_BACKOFF_MS: String(opts.retry?.backoffMs ?? 200),
      ...(opts.retry?.maxAttempts ? { PROVISION_MAX_ATTEMPTS: String(opts.retry.maxAttempts) } : {}),
    },
    secretLink: {},
  });
  linkHandle = createSecretLinkHandleFromEnv(envs.secretLink, timed);

  // The provisioner Lambda, fed the stream records Lambda would deliver: every write the local AWS
  // forwards (any function's) becomes a record, and so does the admin's seeding (straight to the engine).
  const provisioner = createProvisionerHandlerFromEnv(envs.provisioner, { log: silentLogger, ...timed });
  const stream = startLocalStream({
    client: dynamo.client,
    tableName: dynamo.tableName,
    localAws,
    onRecords: (event) => provisioner(event, lambdaContext("provisioner", PROVISIONER_TIMEOUT_MS)),
    ...(opts.quiet ? { onWarning: () => {} } : {}),
  });

  const logger = opts.logger ?? silentLogger;
  const handler = createBotHandlerFromEnv(envs.bot, {
    ...timed,
    logger,
    receiverLogger: opts.quiet ? silentLogger : { info() {}, warn: console.warn, error: console.error },
  });
  // The bot's config as its cold start reads it (with its role), for scripts that print or reuse it.
  const config = await resolveBotConfig(
    loadBotConfig(envs.bot),
    secretsManagerFetcher(roles.aws("bot").secretsManager),
  );
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
    jobs: new JobStore({ client: roles.doc("bot"), tableName: dynamo.tableName }),
    handler,
    expiry: (clock) =>
      createExpiryHandlerFromEnv(envs.expiry, { log: silentLogger, ...(clock ? { clock } : timed) }),
    now,
    locationId,
    roles,
    functionEnv: (fn) => ({ ...envs[fn] }),
    // Once: Ctrl-C during a stop (or a test's second stop) waits for the first instead of closing twice.
    stop: stopOnce(async () => {
      await closeServer(bot.server);
      await stream.stop();
      await secretLink.close();
      await slack.stop();
      roles.close();
      for (const client of Object.values(aws)) (client as { destroy(): void }).destroy();
      await localAws.stop();
      await dynamo.stop();
    }),
  };
}

/** The provisioner's timeout as cdk/ sets it (its locks' lease and retry deadline follow the time left). */
const PROVISIONER_TIMEOUT_MS = FUNCTION_SPECS.provisioner.timeout.toMilliseconds();

/**
 * Each function's Lambda environment: its role's env (credentials, the stand-ins' endpoints), the
 * settings all get, and its own — typed by each loader's contract, as cdk/ fills them in.
 */
function functionEnvs(
  roles: DeployedRoles,
  settings: {
    common: EnvOf<typeof SECRET_LINK_ENV>;
    bot: EnvOf<typeof BOT_ENV>;
    service: EnvOf<typeof SERVICE_ENV>;
    secretLink: EnvOf<typeof SECRET_LINK_ENV>;
  },
): Record<FunctionName, Record<string, string>> {
  const own: Record<FunctionName, Record<string, string | undefined>> = {
    bot: settings.bot,
    provisioner: settings.service,
    secretLink: settings.secretLink,
    expiry: settings.service,
  };
  return Object.fromEntries(
    FUNCTION_NAMES.map((fn) => [
      fn,
      definedEnv({ ...roles.functions[fn].env, ...settings.common, ...own[fn] }),
    ]),
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
  const server = limitServer(
    createServer((req, res) => {
      void toEvent(req, res)
        .then((event) => (event ? handler(event, {}) : undefined))
        .catch((err: unknown): HttpLambdaResult => {
          console.error(`bot handler threw: ${(err as Error).name}`);
          return { statusCode: 500, body: "" };
        })
        .then((result) => {
          // undefined: the body was over the limit and has been answered 413.
          if (!result) return;
          res.writeHead(result.statusCode, result.headers ?? {});
          res.end(result.body);
        });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${actual}`, server };
}

async function toEvent(req: IncomingMessage, res: ServerResponse) {
  const body = await readBodyWithin(req, res);
  if (!body) return undefined;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  return lambdaEvent(body.toString("utf8"), headers, {
    format: "function-url",
    base64: true,
    path: url.pathname,
  });
}
