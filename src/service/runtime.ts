/**
 * Building the service layer for a Lambda entry (provisioner, expiry job): one fail-fast config
 * loader and one factory that makes the clients. Environment variables (all read here):
 *
 *   TABLE_NAME                    requests table (required)
 *   ADMIN_CHANNEL_ID              admin channel, C…/G… (required)
 *   SLACK_BOT_TOKEN | SLACK_BOT_TOKEN_ARN   bot token, or the Secrets Manager secret holding it (one required)
 *   SLACK_API_URL                 default https://slack.com/api/ (tests/playground: the local stand-in)
 *   SECRET_LINK_BASE_URL          origin of the secret-link service (required)
 *   SECRET_LINK_TTL_HOURS         lifetime of a one-time link, default 24 (1..168)
 *   TARGET, BUCKET                default cpgstaging and its bucket
 *   UPLOADERS_GROUP, IAM_PATH     default the target's (staging_cpg_uploaders, /cytoskel/)
 *   ACCESS_GRANTS_LOCATION_ID     required: the stack sets it, and the roles may not list locations
 *   AWS_ACCOUNT_ID                optional; else STS GetCallerIdentity once per cold start
 *   PROVISION_MAX_ATTEMPTS        in-process tries before FAILED, default 3 (1..10)
 *   PROVISION_BACKOFF_MS          first backoff, default 1000
 *   REMINDER_DAYS                 expiry reminder lead time, default 3 (0 = no reminders)
 *   PENDING_EXPIRY_DAYS           undecided requests expire after this, default 14
 *   AWS_REGION (or AWS_DEFAULT_REGION)  the region of the deployment, which Lambda always sets: the
 *                                 clients and the target's region (what DMs, secret links and the
 *                                 get-data-access instructions name); default the target's us-east-1
 *   plus the standard AWS_PROFILE / AWS_ENDPOINT_URL_* variables.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { getAccountId } from "../aws/account.ts";
import { type AwsClients, createAwsClients } from "../aws/clients.ts";
import { type Env, EnvReader } from "../config/env.ts";
import { readSlackSecret, secretsManagerFetcher } from "../config/secrets.ts";
import { DEFAULT_TARGET, getTarget, isTargetName, TARGET_NAMES, type Target } from "../config/targets.ts";
import { createDocumentClient } from "../store/client.ts";
import { createStores } from "../store/index.ts";
import { JobStore } from "../store/jobs.ts";
import { consoleLogger, type ServiceDeps } from "./deps.ts";
import { createSlackNotifier, createWebClient } from "./notifier.ts";
import { createDynamoUserLocks } from "./user-lock.ts";

export const SLACK_API_DEFAULT = "https://slack.com/api/";

export interface ServiceConfig {
  tableName: string;
  adminChannelId: string;
  slack: { botToken: { value: string } | { arn: string }; apiUrl: string };
  secretLink: { baseUrl: string; ttlSeconds: number };
  target: Target;
  locationId: string;
  accountId?: string;
  provision: { maxAttempts: number; backoffMs: number };
  expiry: { reminderDays: number; pendingExpiryDays: number };
}

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

export function loadServiceConfig(env: Env = process.env): ServiceConfig {
  const r = new EnvReader(env);
  const tableName = r.require("TABLE_NAME", "the DynamoDB requests table");
  const adminChannelId = r.require("ADMIN_CHANNEL_ID", "channel where admins see outcomes");
  r.check("ADMIN_CHANNEL_ID", adminChannelId, CHANNEL_ID, "a channel ID like C0123ABC");
  const token = r.oneOf("SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN_ARN");
  if (token?.name === "SLACK_BOT_TOKEN") r.check(token.name, token.value, /^xoxb-/, "a bot token (xoxb-…)");
  if (token?.name === "SLACK_BOT_TOKEN_ARN")
    r.check(token.name, token.value, SECRET_ARN, "a Secrets Manager ARN");
  const apiUrl = r.url("SLACK_API_URL", SLACK_API_DEFAULT) ?? SLACK_API_DEFAULT;
  const baseUrl = r.url("SECRET_LINK_BASE_URL") ?? "";
  if (!baseUrl) r.problems.push("SECRET_LINK_BASE_URL is required (origin of the secret-link service)");
  const ttlHours = r.int("SECRET_LINK_TTL_HOURS", 24, { min: 1, max: 168 });

  const targetName = r.optional("TARGET", DEFAULT_TARGET) ?? DEFAULT_TARGET;
  if (!isTargetName(targetName)) r.problems.push(`TARGET must be one of: ${TARGET_NAMES.join(", ")}`);
  const base = getTarget(isTargetName(targetName) ? targetName : DEFAULT_TARGET);
  const bucket = r.optional("BUCKET", base.bucket) ?? base.bucket;
  r.check("BUCKET", bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name");
  const uploadersGroup = r.optional("UPLOADERS_GROUP", base.uploadersGroup) ?? base.uploadersGroup;
  r.check("UPLOADERS_GROUP", uploadersGroup, /^[\w+=,.@-]{1,128}$/, "an IAM group name");
  const iamPath = r.optional("IAM_PATH", base.iamPath) ?? base.iamPath;
  r.check("IAM_PATH", iamPath, /^\/([\w+=,.@-]+\/)*$/, "an IAM path like /cytoskel/");
  // The stacks deploy to the `region` setting, and the Access Grants instance lives there too.
  const region = r.optional("AWS_REGION") ?? r.optional("AWS_DEFAULT_REGION") ?? base.region;
  r.check("AWS_REGION", region, /^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1");
  const target: Target = {
    ...base,
    region,
    bucket,
    locationScope: bucket === base.bucket ? base.locationScope : `s3://${bucket}/`,
    uploadersGroup,
    iamPath,
  };
  // Required: the functions' roles are not granted s3:ListAccessGrantsLocations, so a lookup by scope
  // could only fail with AccessDenied after approval.
  const locationId = r.require(
    "ACCESS_GRANTS_LOCATION_ID",
    "the bucket's Access Grants location ID; the bot stack sets it",
  );
  const accountId = r.optional("AWS_ACCOUNT_ID");
  r.check("AWS_ACCOUNT_ID", accountId, /^\d{12}$/, "a 12-digit account ID");

  const maxAttempts = r.int("PROVISION_MAX_ATTEMPTS", 3, { min: 1, max: 10 });
  const backoffMs = r.int("PROVISION_BACKOFF_MS", 1_000, { min: 0, max: 60_000 });
  const reminderDays = r.int("REMINDER_DAYS", 3, { min: 0, max: 365 });
  const pendingExpiryDays = r.int("PENDING_EXPIRY_DAYS", 14, { min: 1, max: 365 });
  r.done();

  return {
    tableName,
    adminChannelId,
    slack: {
      botToken: token?.name === "SLACK_BOT_TOKEN_ARN" ? { arn: token.value } : { value: token?.value ?? "" },
      apiUrl,
    },
    secretLink: { baseUrl, ttlSeconds: ttlHours * 3600 },
    target,
    locationId,
    ...(accountId ? { accountId } : {}),
    provision: { maxAttempts, backoffMs },
    expiry: { reminderDays, pendingExpiryDays },
  };
}

/** The bot token from its Secrets Manager secret (src/config/secrets.ts says what the secret may hold). */
export function readBotToken(sm: SecretsManagerClient, arn: string): Promise<string> {
  return readSlackSecret(secretsManagerFetcher(sm), arn, "SLACK_BOT_TOKEN");
}

export interface ServiceRuntime {
  config: ServiceConfig;
  clients: AwsClients;
  deps: ServiceDeps;
  /** Per-invocation locks whose lease ends when the invocation would be killed (Lambda timeout). */
  locksFor(remainingTimeMs: number): ServiceDeps["locks"];
}

/** Clients, stores, notifier and lock from config; called once per cold start. */
export async function createServiceRuntime(
  config: ServiceConfig,
  env: Env = process.env,
): Promise<ServiceRuntime> {
  const clients = createAwsClients({ env, region: config.target.region });
  const doc = createDocumentClient(clients.dynamodb);
  const stores = createStores({ client: doc, tableName: config.tableName });
  const token =
    "value" in config.slack.botToken
      ? config.slack.botToken.value
      : await readBotToken(clients.secretsManager, config.slack.botToken.arn);
  const web = createWebClient({ token, slackApiUrl: config.slack.apiUrl });
  const accountId = config.accountId ?? (await getAccountId(clients.sts));
  const deps: ServiceDeps = {
    store: stores.requests,
    secrets: stores.secrets,
    iam: clients.iam,
    s3control: clients.s3control,
    accountId,
    target: config.target,
    locationId: config.locationId,
    notifier: createSlackNotifier(web, { adminChannelId: config.adminChannelId }),
    locks: createDynamoUserLocks({ doc, tableName: config.tableName }),
    jobs: new JobStore({ client: doc, tableName: config.tableName }),
    secretLinkBaseUrl: config.secretLink.baseUrl,
    secretLinkTtlSeconds: config.secretLink.ttlSeconds,
    log: consoleLogger,
  };
  const locksFor = (remainingTimeMs: number) =>
    createDynamoUserLocks({ doc, tableName: config.tableName, leaseMs: remainingTimeMs + 5_000 });
  return { config, clients, deps, locksFor };
}

/**
 * The runtime of a Lambda entry, made on first use and kept for the container's life. A failed start
 * (e.g. a Secrets Manager hiccup) is forgotten, so the next invocation tries again.
 */
export function lazyServiceRuntime(): { get(): Promise<ServiceRuntime>; reset(): void } {
  let runtime: Promise<ServiceRuntime> | undefined;
  return {
    get() {
      if (!runtime) {
        runtime = (async () => createServiceRuntime(loadServiceConfig(process.env)))();
        runtime.catch(() => {
          runtime = undefined;
        });
      }
      return runtime;
    },
    reset() {
      runtime = undefined;
    },
  };
}
