/**
 * Building the service layer for a Lambda entry (provisioner, expiry job) from its environment: one
 * fail-fast config loader whose contract (SERVICE_ENV) is also what cdk/ fills in, and one factory
 * that makes the clients. Common settings (table, Slack, target, region) come from
 * src/runtime/settings.ts.
 */

import { getAccountId } from "../aws/account.ts";
import { type AwsClients, createAwsClients } from "../aws/clients.ts";
import { defineEnv, type Env, EnvReader } from "../config/env.ts";
import type { Target } from "../config/targets.ts";
import { DEFAULT_REMINDER_DAYS } from "../rules/lifecycle.ts";
import { lazy, rebuiltOnChange } from "../runtime/lazy.ts";
import { resolveSecret, secretsManagerFetcher } from "../runtime/secrets.ts";
import { COMMON_ENV, type CommonSettings, checkFormat, readCommonSettings } from "../runtime/settings.ts";
import { createSlackClient } from "../runtime/slack-client.ts";
import { createDocumentClient } from "../store/client.ts";
import { createStores } from "../store/index.ts";
import { JobStore } from "../store/jobs.ts";
import { SweepFailureStore } from "../store/sweep-failures.ts";
import { consoleLogger, type ServiceDeps } from "./deps.ts";
import { createSlackNotifier } from "./notifier.ts";
import { createDynamoUserLocks } from "./user-lock.ts";

/** Every variable the provisioner and the expiry job read (plus the standard AWS_PROFILE / AWS_ENDPOINT_URL_*). */
export const SERVICE_ENV = defineEnv({
  ...COMMON_ENV,
  ADMIN_CHANNEL_ID: "admin channel where outcomes are posted, C…/G… (required)",
  SECRET_LINK_BASE_URL: "origin of the secret-link service (required)",
  SECRET_LINK_TTL_HOURS: "lifetime of a one-time link, default 24 (1..168)",
  UPLOADERS_GROUP: "the IAM group of contributors, default the target's (staging_cpg_uploaders)",
  IAM_PATH: "path of the IAM users made, default the target's (/cytoskel/)",
  ACCESS_GRANTS_LOCATION_ID:
    "the bucket's Access Grants location (required: the roles may not list locations)",
  AWS_ACCOUNT_ID: "optional; else STS GetCallerIdentity once per cold start",
  PROVISION_MAX_ATTEMPTS: "in-process tries before FAILED, default 3 (1..10)",
  PROVISION_BACKOFF_MS: "first backoff between those tries, default 1000",
  REMINDER_DAYS: `expiry reminder lead time, default ${DEFAULT_REMINDER_DAYS} (0 = no reminders)`,
  PENDING_EXPIRY_DAYS: "undecided requests expire after this, default 14",
  PENDING_REMINDER_HOURS:
    "re-announce undecided requests to the admin channel every N hours, default 24 (0 = off)",
});

export interface ServiceConfig extends Omit<CommonSettings, "target"> {
  adminChannelId: string;
  secretLink: { baseUrl: string; ttlSeconds: number };
  target: Target;
  locationId: string;
  accountId?: string;
  provision: { maxAttempts: number; backoffMs: number };
  expiry: { reminderDays: number; pendingExpiryDays: number; pendingReminderHours: number };
}

export function loadServiceConfig(env: Env = process.env): ServiceConfig {
  const r = new EnvReader<keyof typeof SERVICE_ENV>(env);
  const common = readCommonSettings(r);
  const adminChannelId = r.require("ADMIN_CHANNEL_ID", "channel where admins see outcomes");
  checkFormat(r, "ADMIN_CHANNEL_ID", adminChannelId, "channelId");
  const baseUrl = r.url("SECRET_LINK_BASE_URL") ?? "";
  if (!baseUrl) r.problems.push("SECRET_LINK_BASE_URL is required (origin of the secret-link service)");
  const ttlHours = r.int("SECRET_LINK_TTL_HOURS", 24, { min: 1, max: 168 });

  const uploadersGroup =
    r.optional("UPLOADERS_GROUP", common.target.uploadersGroup) ?? common.target.uploadersGroup;
  checkFormat(r, "UPLOADERS_GROUP", uploadersGroup, "iamGroup");
  const iamPath = r.optional("IAM_PATH", common.target.iamPath) ?? common.target.iamPath;
  checkFormat(r, "IAM_PATH", iamPath, "iamPath");
  // Required: the functions' roles are not granted s3:ListAccessGrantsLocations, so a lookup by scope
  // could only fail with AccessDenied after approval.
  const locationId = r.require(
    "ACCESS_GRANTS_LOCATION_ID",
    "the bucket's Access Grants location ID; the bot stack sets it",
  );
  const accountId = r.optional("AWS_ACCOUNT_ID");
  checkFormat(r, "AWS_ACCOUNT_ID", accountId, "accountId");

  const maxAttempts = r.int("PROVISION_MAX_ATTEMPTS", 3, { min: 1, max: 10 });
  const backoffMs = r.int("PROVISION_BACKOFF_MS", 1_000, { min: 0, max: 60_000 });
  const reminderDays = r.int("REMINDER_DAYS", DEFAULT_REMINDER_DAYS, { min: 0, max: 365 });
  const pendingExpiryDays = r.int("PENDING_EXPIRY_DAYS", 14, { min: 1, max: 365 });
  const pendingReminderHours = r.int("PENDING_REMINDER_HOURS", 24, { min: 0, max: 24 * 365 });
  r.done();

  return {
    ...common,
    adminChannelId,
    secretLink: { baseUrl, ttlSeconds: ttlHours * 3600 },
    target: { ...common.target, uploadersGroup, iamPath },
    locationId,
    ...(accountId ? { accountId } : {}),
    provision: { maxAttempts, backoffMs },
    expiry: { reminderDays, pendingExpiryDays, pendingReminderHours },
  };
}

export interface ServiceRuntime {
  config: ServiceConfig;
  clients: AwsClients;
  /**
   * The deps for one invocation: the notifier posts with the bot token as it is now (re-read after its
   * max age, so a rotated token needs no redeploy); with `remainingTimeMs`, locks whose lease ends when
   * the invocation would be killed (Lambda timeout).
   */
  deps(invocation?: { remainingTimeMs?: number }): Promise<ServiceDeps>;
}

/** Where the service's logs go (Lambda: Powertools' JSON lines; the playground quiets them). */
export interface ServiceRuntimeOptions {
  log?: ServiceDeps["log"];
  /** The time the code and its stores see (the playground's movable clock); Lambda: the real time. */
  clock?: () => Date;
}

/** Clients, stores, notifier and locks from config; called once per cold start. */
export async function createServiceRuntime(
  config: ServiceConfig,
  env: Env = process.env,
  opts: ServiceRuntimeOptions = {},
): Promise<ServiceRuntime> {
  const clients = createAwsClients({ env, region: config.target.region });
  const doc = createDocumentClient(clients.dynamodb);
  const stores = createStores({
    client: doc,
    tableName: config.tableName,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const fetchSecret = secretsManagerFetcher(clients.secretsManager, {
    maxAgeSeconds: config.secretMaxAgeSeconds,
  });
  const notifier = rebuiltOnChange(
    async () => [await resolveSecret(config.slack.botToken, fetchSecret)] as const,
    ([token]) =>
      createSlackNotifier(createSlackClient(token, config.slack), { adminChannelId: config.adminChannelId }),
  );
  // Read once at start: a missing or unreadable token fails the cold start, not a provisioning halfway.
  await notifier();
  const accountId = config.accountId ?? (await getAccountId(clients.sts));
  const jobs = new JobStore({ client: doc, tableName: config.tableName });
  const base: Omit<ServiceDeps, "notifier" | "locks"> = {
    store: stores.requests,
    secrets: stores.secrets,
    iam: clients.iam,
    s3control: clients.s3control,
    accountId,
    target: config.target,
    locationId: config.locationId,
    jobs,
    sweepFailures: new SweepFailureStore({ client: doc, tableName: config.tableName }),
    secretLinkBaseUrl: config.secretLink.baseUrl,
    secretLinkTtlSeconds: config.secretLink.ttlSeconds,
    log: opts.log ?? consoleLogger,
    ...(opts.clock ? { now: opts.clock } : {}),
  };
  return {
    config,
    clients,
    async deps(invocation = {}) {
      const leaseMs =
        invocation.remainingTimeMs === undefined ? undefined : invocation.remainingTimeMs + 5_000;
      return {
        ...base,
        notifier: await notifier(),
        locks: createDynamoUserLocks({ doc, tableName: config.tableName, ...(leaseMs ? { leaseMs } : {}) }),
      };
    },
  };
}

/** The runtime of a Lambda entry from its environment, made on first use and kept for the container's life. */
export function lazyServiceRuntime(env: Env = process.env, opts: ServiceRuntimeOptions = {}) {
  return lazy(async () => createServiceRuntime(loadServiceConfig(env), env, opts));
}
