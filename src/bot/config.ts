/**
 * The bot's typed configuration, read once per cold start through the fail-fast EnvReader.
 * Every variable is documented in src/bot/README.md. Secrets (signing secret, bot token, app token)
 * come either directly from the environment or, in Lambda, from Secrets Manager by ARN; their values
 * never appear in errors or logs.
 */

import { type Env, EnvReader } from "../config/env.ts";
import {
  readSlackSecret,
  type SecretFetcher,
  SecretResolutionError,
  type SlackSecretVariable,
} from "../config/secrets.ts";

export { type SecretFetcher, SecretResolutionError };

import {
  DEFAULT_TARGET,
  getTarget,
  isTargetName,
  TARGET_NAMES,
  type Target,
  type TargetName,
} from "../config/targets.ts";

export const SLACK_API_DEFAULT = "https://slack.com/api/";

/** A secret given directly, or the ARN of a Secrets Manager secret holding it. */
export type SecretSource = { value: string } | { arn: string; variable: SlackSecretVariable };

export interface BotConfig {
  slack: {
    signingSecret: SecretSource;
    botToken: SecretSource;
    /** Only for Socket Mode (`npm run dev` against a real workspace). */
    appToken?: string;
    apiUrl: string;
    botId: string;
    botUserId: string;
    commandName: string;
  };
  admins: {
    userIds: string[];
    usergroupId?: string;
    channelId: string;
    allowSelfApproval: boolean;
    /** How long user-group membership is cached per warm Lambda. */
    usergroupCacheSeconds: number;
  };
  tableName: string;
  target: Target & { name: TargetName; accessGrantsLocationId?: string };
  durations: { defaultDays: number; maxDays: number };
  aws: { region: string; profile?: string };
}

/** The config with its secrets read. */
export interface ResolvedBotConfig extends Omit<BotConfig, "slack"> {
  slack: Omit<BotConfig["slack"], "signingSecret" | "botToken"> & { signingSecret: string; botToken: string };
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const USERGROUP_ID = /^S[A-Z0-9]{2,}$/;
const BOT_ID = /^B[A-Z0-9]{2,}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function secretSource(reader: EnvReader, name: SlackSecretVariable): SecretSource {
  const pick = reader.oneOf(name, `${name}_ARN`);
  if (!pick) return { value: "" };
  if (pick.name === name) return { value: pick.value };
  reader.check(`${name}_ARN`, pick.value, SECRET_ARN, "a Secrets Manager secret ARN");
  return { arn: pick.value, variable: name };
}

/** Reads and validates everything; throws ConfigError naming every missing or malformed setting. */
export function loadBotConfig(env: Env = process.env): BotConfig {
  const r = new EnvReader(env);
  const signingSecret = secretSource(r, "SLACK_SIGNING_SECRET");
  const botToken = secretSource(r, "SLACK_BOT_TOKEN");
  if ("value" in botToken && botToken.value) {
    r.check("SLACK_BOT_TOKEN", botToken.value, /^xoxb-/, "a bot token (xoxb-…)");
  }
  const appToken = r.optional("SLACK_APP_TOKEN");
  r.check("SLACK_APP_TOKEN", appToken, /^xapp-/, "an app-level token (xapp-…)");
  const apiUrl = r.url("SLACK_API_URL", SLACK_API_DEFAULT) ?? SLACK_API_DEFAULT;
  const botId = r.require("SLACK_BOT_ID", "the bot's B… ID, so Bolt never calls auth.test at start");
  r.check("SLACK_BOT_ID", botId, BOT_ID, "a bot ID like B0123ABC");
  const botUserId = r.require("SLACK_BOT_USER_ID", "the bot user's U… ID");
  r.check("SLACK_BOT_USER_ID", botUserId, USER_ID, "a user ID like U0123ABC");
  const commandName = r.optional("SLACK_COMMAND", "/cytoskel") ?? "/cytoskel";
  r.check("SLACK_COMMAND", commandName, /^\/[a-z0-9_-]{1,31}$/, "a slash command like /cytoskel");

  const userIds = r.list("ADMIN_USER_IDS", { required: true, pattern: USER_ID, what: "user IDs" });
  const usergroupId = r.optional("ADMIN_USERGROUP_ID");
  r.check("ADMIN_USERGROUP_ID", usergroupId, USERGROUP_ID, "a user group ID like S0123ABC");
  const channelId = r.require("ADMIN_CHANNEL_ID", "channel where admins approve requests");
  r.check("ADMIN_CHANNEL_ID", channelId, CHANNEL_ID, "a channel ID like C0123ABC");
  const allowSelfApproval = r.bool("ALLOW_SELF_APPROVAL", false);
  const usergroupCacheSeconds = r.int("ADMIN_USERGROUP_CACHE_SECONDS", 300, { min: 0, max: 86_400 });

  const tableName = r.require("TABLE_NAME", "the DynamoDB requests table");
  r.check("TABLE_NAME", tableName, /^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name");

  const targetName = r.optional("TARGET", DEFAULT_TARGET) ?? DEFAULT_TARGET;
  if (!isTargetName(targetName)) r.problems.push(`TARGET must be one of: ${TARGET_NAMES.join(", ")}`);
  const base = getTarget(isTargetName(targetName) ? targetName : DEFAULT_TARGET);
  const bucket = r.optional("BUCKET", base.bucket) ?? base.bucket;
  r.check("BUCKET", bucket, BUCKET, "an S3 bucket name");
  const locationId = r.optional("ACCESS_GRANTS_LOCATION_ID");
  const target: BotConfig["target"] = {
    ...base,
    bucket,
    locationScope: bucket === base.bucket ? base.locationScope : `s3://${bucket}/`,
    ...(locationId ? { accessGrantsLocationId: locationId } : {}),
  };

  const maxDays = r.int("MAX_DURATION_DAYS", 90, { min: 1, max: 3650 });
  const defaultDays = r.int("DEFAULT_DURATION_DAYS", 30, { min: 1, max: 3650 });
  if (defaultDays > maxDays) r.problems.push("DEFAULT_DURATION_DAYS must not exceed MAX_DURATION_DAYS");

  const region = r.optional("AWS_REGION") ?? r.optional("AWS_DEFAULT_REGION") ?? base.region;
  const profile = r.optional("AWS_PROFILE");
  r.done();

  return {
    slack: {
      signingSecret,
      botToken,
      ...(appToken ? { appToken } : {}),
      apiUrl,
      botId,
      botUserId,
      commandName,
    },
    admins: {
      userIds,
      ...(usergroupId ? { usergroupId } : {}),
      channelId,
      allowSelfApproval,
      usergroupCacheSeconds,
    },
    tableName,
    target,
    durations: { defaultDays, maxDays },
    aws: { region, ...(profile ? { profile } : {}) },
  };
}

/** Resolves SecretSource values through src/config/secrets.ts; each ARN is fetched once. */
export async function resolveBotConfig(
  config: BotConfig,
  fetchSecret?: SecretFetcher,
): Promise<ResolvedBotConfig> {
  const cache = new Map<string, Promise<string>>();
  const cached: SecretFetcher = (arn) => {
    if (!fetchSecret) return Promise.reject(new Error("no secret reader was given"));
    let pending = cache.get(arn);
    if (!pending) {
      pending = fetchSecret(arn);
      cache.set(arn, pending);
    }
    return pending;
  };
  const read = (source: SecretSource): Promise<string> =>
    "value" in source ? Promise.resolve(source.value) : readSlackSecret(cached, source.arn, source.variable);
  const [signingSecret, botToken] = await Promise.all([
    read(config.slack.signingSecret),
    read(config.slack.botToken),
  ]);
  return { ...config, slack: { ...config.slack, signingSecret, botToken } };
}
