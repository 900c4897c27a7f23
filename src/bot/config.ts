/**
 * The bot's typed configuration, read on the first invocation through the fail-fast EnvReader. BOT_ENV is
 * every variable it reads (cdk/ fills its environment from it; src/bot/README.md explains them).
 * Secrets (signing secret, bot token) come either directly from the environment or, in Lambda, from
 * Secrets Manager by ARN; their values never appear in errors or logs.
 */

import { defineEnv, type Env, EnvReader } from "../config/env.ts";
import type { Target, TargetName } from "../config/targets.ts";
import { DEFAULT_REMINDER_DAYS } from "../rules/lifecycle.ts";
import {
  resolveSecret,
  type SecretFetcher,
  SecretResolutionError,
  type SecretSource,
} from "../runtime/secrets.ts";
import {
  COMMON_ENV,
  checkFormat,
  FORMATS,
  readCommonSettings,
  readSecretSource,
} from "../runtime/settings.ts";

export { type SecretFetcher, SecretResolutionError, type SecretSource };

export const BOT_ENV = defineEnv({
  ...COMMON_ENV,
  SLACK_SIGNING_SECRET: "the app's signing secret (local runs); or",
  SLACK_SIGNING_SECRET_ARN: "the Secrets Manager secret holding it (deployed); exactly one of the two",
  SLACK_APP_TOKEN: "an app-level token (xapp-…), only for Socket Mode against a real workspace",
  SLACK_BOT_ID: "the bot's B… ID, so Bolt never calls auth.test at start (required)",
  SLACK_BOT_USER_ID: "the bot user's U… ID (required)",
  SLACK_COMMAND: "the slash command, default /cytoskel",
  ADMIN_USER_IDS: "admins' Slack user IDs, comma-separated (required)",
  ADMIN_USERGROUP_ID: "a Slack user group whose members are admins too",
  ADMIN_CHANNEL_ID: "the channel where admins approve requests (required)",
  ALLOW_SELF_APPROVAL: "may an admin approve their own request, default false",
  ADMIN_USERGROUP_CACHE_SECONDS: "how long user-group membership is cached per warm Lambda, default 300",
  DEFAULT_DURATION_DAYS: "a grant's length when the request names none, default 30",
  MAX_DURATION_DAYS: "the longest grant one may request, default 90",
  REMINDER_DAYS: `the App Home lists grants ending within this many days, default ${DEFAULT_REMINDER_DAYS} (as the expiry job's)`,
  HELP_URL: "the contributor guide's https address, linked from help; no link when unset",
  AWS_PROFILE: "a named AWS profile (local runs)",
});

export interface BotConfig {
  slack: {
    signingSecret: SecretSource;
    botToken: SecretSource;
    /** Only for Socket Mode (`npm run dev` against a real workspace). */
    appToken?: string;
    apiUrl: string;
    maxRetries: number;
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
  target: Target & { name: TargetName };
  durations: { defaultDays: number; maxDays: number };
  /** Grants ending within this many days are "ending soon" in the App Home. */
  reminderDays: number;
  /** The contributor guide, linked from help; unset: no link. */
  helpUrl?: string;
  aws: { region: string; profile?: string };
  secretMaxAgeSeconds: number;
}

/** The config with its secrets read. */
export interface ResolvedBotConfig extends Omit<BotConfig, "slack"> {
  slack: Omit<BotConfig["slack"], "signingSecret" | "botToken"> & { signingSecret: string; botToken: string };
}

/** Reads and validates everything; throws ConfigError naming every missing or malformed setting. */
export function loadBotConfig(env: Env = process.env): BotConfig {
  const r = new EnvReader<keyof typeof BOT_ENV>(env);
  const common = readCommonSettings(r);
  const signingSecret = readSecretSource(r, "SLACK_SIGNING_SECRET");
  const appToken = r.optional("SLACK_APP_TOKEN");
  r.check("SLACK_APP_TOKEN", appToken, /^xapp-/, "an app-level token (xapp-…)");
  const botId = r.require("SLACK_BOT_ID", "the bot's B… ID, so Bolt never calls auth.test at start");
  checkFormat(r, "SLACK_BOT_ID", botId, "botId");
  const botUserId = r.require("SLACK_BOT_USER_ID", "the bot user's U… ID");
  checkFormat(r, "SLACK_BOT_USER_ID", botUserId, "userId");
  const commandName = r.optional("SLACK_COMMAND", "/cytoskel") ?? "/cytoskel";
  r.check("SLACK_COMMAND", commandName, /^\/[a-z0-9_-]{1,31}$/, "a slash command like /cytoskel");

  const userIds = r.list("ADMIN_USER_IDS", {
    required: true,
    pattern: FORMATS.userId.pattern,
    what: "user IDs",
  });
  const usergroupId = r.optional("ADMIN_USERGROUP_ID");
  checkFormat(r, "ADMIN_USERGROUP_ID", usergroupId, "usergroupId");
  const channelId = r.require("ADMIN_CHANNEL_ID", "channel where admins approve requests");
  checkFormat(r, "ADMIN_CHANNEL_ID", channelId, "channelId");
  const allowSelfApproval = r.bool("ALLOW_SELF_APPROVAL", false);
  const usergroupCacheSeconds = r.int("ADMIN_USERGROUP_CACHE_SECONDS", 300, { min: 0, max: 86_400 });

  const maxDays = r.int("MAX_DURATION_DAYS", 90, { min: 1, max: 3650 });
  const defaultDays = r.int("DEFAULT_DURATION_DAYS", 30, { min: 1, max: 3650 });
  if (defaultDays > maxDays) r.problems.push("DEFAULT_DURATION_DAYS must not exceed MAX_DURATION_DAYS");
  const reminderDays = r.int("REMINDER_DAYS", DEFAULT_REMINDER_DAYS, { min: 0, max: 365 });
  const helpUrl = r.optional("HELP_URL");
  // Shown as a Slack link `<url|label>`: a `|`, `<`, `>` or space would break it, and http would be a downgrade.
  r.check("HELP_URL", helpUrl, /^https:\/\/[^\s<>|]+$/, "an https URL without spaces, <, > or |");
  const profile = r.optional("AWS_PROFILE");
  r.done();

  return {
    slack: {
      signingSecret,
      botToken: common.slack.botToken,
      ...(appToken ? { appToken } : {}),
      apiUrl: common.slack.apiUrl,
      maxRetries: common.slack.maxRetries,
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
    tableName: common.tableName,
    target: common.target,
    durations: { defaultDays, maxDays },
    reminderDays,
    ...(helpUrl ? { helpUrl } : {}),
    aws: { region: common.target.region, ...(profile ? { profile } : {}) },
    secretMaxAgeSeconds: common.secretMaxAgeSeconds,
  };
}

/** The two Slack secrets read now (through the fetcher's max-age cache). */
export async function resolveBotConfig(
  config: BotConfig,
  fetchSecret?: SecretFetcher,
): Promise<ResolvedBotConfig> {
  const [signingSecret, botToken] = await Promise.all([
    resolveSecret(config.slack.signingSecret, fetchSecret),
    resolveSecret(config.slack.botToken, fetchSecret),
  ]);
  return { ...config, slack: { ...config.slack, signingSecret, botToken } };
}
