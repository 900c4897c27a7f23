// Each function's environment: what its config loader reads, built in this one place from the deploy
// settings and what the stacks created, typed by the loader's own contract (BOT_ENV, SERVICE_ENV,
// SECRET_LINK_ENV), so a variable's name has one source and a misspelt or unread one fails to compile.
// Unset settings are left out rather than set empty, so the loaders report them as missing.
import type { BOT_ENV } from "../../src/bot/config.ts";
import { definedEnv, type EnvOf } from "../../src/config/env.ts";
import type { COMMON_ENV } from "../../src/runtime/settings.ts";
import type { SECRET_LINK_ENV } from "../../src/secret-link/config.ts";
import type { SERVICE_ENV } from "../../src/service/runtime.ts";
import type { FunctionName } from "./bot-functions.ts";
import type { CytoskelDeployConfig } from "./config.ts";
import type { GrantsOutputs } from "./grants-stack.ts";
import { SLASH_COMMAND } from "./routes.ts";

/** What the stacks created that the functions are told about. */
export interface EnvironmentSources {
  readonly config: CytoskelDeployConfig;
  readonly grants: GrantsOutputs;
  readonly account: string;
  readonly tableName: string;
  readonly signingSecretArn: string;
  readonly botTokenArn: string;
  readonly secretLinkBaseUrl: string;
}

/** Each function's variables, as its loader names them. */
export interface FunctionEnvironments extends Record<FunctionName, Record<string, string>> {
  bot: EnvOf<typeof BOT_ENV> & Record<string, string>;
  provisioner: EnvOf<typeof SERVICE_ENV> & Record<string, string>;
  secretLink: EnvOf<typeof SECRET_LINK_ENV> & Record<string, string>;
  expiry: EnvOf<typeof SERVICE_ENV> & Record<string, string>;
}

export function functionEnvironments(sources: EnvironmentSources): FunctionEnvironments {
  const { config, grants } = sources;
  const common = {
    TABLE_NAME: sources.tableName,
    SLACK_BOT_TOKEN_ARN: sources.botTokenArn,
  } satisfies EnvOf<typeof COMMON_ENV>;
  const adminChannel = config.adminChannelId ? { ADMIN_CHANNEL_ID: config.adminChannelId } : {};
  // What src/service/runtime.ts reads (provisioner, including queued revoke / re-issue, and expiry job).
  const service: EnvOf<typeof SERVICE_ENV> = {
    ...common,
    ...adminChannel,
    AWS_ACCOUNT_ID: sources.account,
    BUCKET: grants.bucketName,
    ACCESS_GRANTS_LOCATION_ID: grants.locationId,
    UPLOADERS_GROUP: grants.uploadersGroup.groupName,
    IAM_PATH: config.iamUserPath,
    SECRET_LINK_BASE_URL: sources.secretLinkBaseUrl,
    SECRET_LINK_TTL_HOURS: String(config.secretLinkTtlHours),
    PENDING_REMINDER_HOURS: String(config.pendingReminderHours),
  };
  const bot: EnvOf<typeof BOT_ENV> = {
    ...common,
    ...adminChannel,
    SLACK_SIGNING_SECRET_ARN: sources.signingSecretArn,
    ...(config.adminUserIds.length > 0 ? { ADMIN_USER_IDS: config.adminUserIds.join(",") } : {}),
    ...(config.adminUserGroupId ? { ADMIN_USERGROUP_ID: config.adminUserGroupId } : {}),
    ALLOW_SELF_APPROVAL: String(config.allowSelfApproval),
    DEFAULT_DURATION_DAYS: String(config.defaultGrantDays),
    MAX_DURATION_DAYS: String(config.maxGrantDays),
    SLACK_COMMAND: SLASH_COMMAND,
    // Shown in messages and accepted in `s3://<bucket>/…` prefixes; the AWS work is the provisioner's.
    BUCKET: grants.bucketName,
    ...(config.slackBotId ? { SLACK_BOT_ID: config.slackBotId } : {}),
    ...(config.slackBotUserId ? { SLACK_BOT_USER_ID: config.slackBotUserId } : {}),
    ...(config.helpUrl ? { HELP_URL: config.helpUrl } : {}),
  };
  const secretLink: EnvOf<typeof SECRET_LINK_ENV> = { ...common };
  return {
    bot: definedEnv(bot),
    provisioner: definedEnv(service),
    secretLink: definedEnv(secretLink),
    expiry: definedEnv(service),
  };
}
