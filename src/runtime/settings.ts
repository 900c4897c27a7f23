/**
 * Settings every Lambda function reads the same way (table, Slack API, bot token, target bucket,
 * region, secrets' max age): one reader per setting, one pattern per kind of ID, so the bot, the
 * service functions and the secret link cannot drift apart. Each function's loader adds its own.
 */
import { defineEnv, type EnvReader } from "../config/env.ts";
import {
  DEFAULT_TARGET,
  getTarget,
  isTargetName,
  TARGET_NAMES,
  type Target,
  type TargetName,
} from "../config/targets.ts";
import { DEFAULT_SECRET_MAX_AGE_SECONDS, type SecretSource, type SlackSecretVariable } from "./secrets.ts";

export const SLACK_API_DEFAULT = "https://slack.com/api/";
/** src/runtime/slack-client.ts says why one retry. */
export const DEFAULT_SLACK_RETRIES = 1;
/** One Slack call with no answer this long is aborted (and retried once by the WebClient). */
export const SLACK_REQUEST_TIMEOUT_MS = 5_000;

/** Slack's and AWS's formats for the IDs and names the settings hold. */
export const FORMATS = {
  userId: { pattern: /^[UW][A-Z0-9]{2,}$/, what: "a user ID like U0123ABC" },
  channelId: { pattern: /^[CGD][A-Z0-9]{2,}$/, what: "a channel ID like C0123ABC" },
  usergroupId: { pattern: /^S[A-Z0-9]{2,}$/, what: "a user group ID like S0123ABC" },
  botId: { pattern: /^B[A-Z0-9]{2,}$/, what: "a bot ID like B0123ABC" },
  secretArn: {
    pattern: /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
    what: "a Secrets Manager secret ARN",
  },
  tableName: { pattern: /^[A-Za-z0-9_.-]{3,255}$/, what: "a DynamoDB table name" },
  bucket: { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, what: "an S3 bucket name" },
  iamGroup: { pattern: /^[\w+=,.@-]{1,128}$/, what: "an IAM group name" },
  iamPath: { pattern: /^\/([\w+=,.@-]+\/)*$/, what: "an IAM path like /cytoskel/" },
  region: { pattern: /^[a-z]{2}(-[a-z]+)+-\d$/, what: "an AWS region such as us-east-1" },
  accountId: { pattern: /^\d{12}$/, what: "a 12-digit account ID" },
} as const satisfies Record<string, { pattern: RegExp; what: string }>;

/** The variables every function reads (Lambda itself sets AWS_REGION). */
export const COMMON_ENV = defineEnv({
  TABLE_NAME: "the cytoskel DynamoDB table (requests, jobs, audit, secrets) (required)",
  SLACK_BOT_TOKEN: "the bot token (local runs); or",
  SLACK_BOT_TOKEN_ARN: "the Secrets Manager secret holding it (deployed); exactly one of the two",
  SLACK_API_URL: `Slack's Web API, default ${SLACK_API_DEFAULT} (the playground: its stand-in)`,
  SLACK_MAX_RETRIES: "retries of one Slack call on 429 / 5xx / network errors, default 1 (0..5)",
  POWERTOOLS_PARAMETERS_MAX_AGE: `seconds a read secret is cached, default ${DEFAULT_SECRET_MAX_AGE_SECONDS}`,
  TARGET: `the target bucket's name in src/config/targets.ts, default ${DEFAULT_TARGET}`,
  BUCKET: "the bucket, default the target's",
  AWS_REGION: "the deployment's region (Lambda sets it); default the target's",
  AWS_DEFAULT_REGION: "read when AWS_REGION is unset",
});
type Common = keyof typeof COMMON_ENV;

/** What every function has in common, read and checked. */
export interface CommonSettings {
  tableName: string;
  slack: { botToken: SecretSource; apiUrl: string; maxRetries: number };
  secretMaxAgeSeconds: number;
  target: Target & { name: TargetName };
}

export function readCommonSettings<N extends string>(r: EnvReader<N | Common>): CommonSettings {
  const tableName = r.require("TABLE_NAME", "the cytoskel DynamoDB table");
  checkFormat(r, "TABLE_NAME", tableName, "tableName");
  const apiUrl = r.url("SLACK_API_URL", SLACK_API_DEFAULT) ?? SLACK_API_DEFAULT;
  const maxRetries = r.int("SLACK_MAX_RETRIES", DEFAULT_SLACK_RETRIES, { min: 0, max: 5 });
  const secretMaxAgeSeconds = r.int("POWERTOOLS_PARAMETERS_MAX_AGE", DEFAULT_SECRET_MAX_AGE_SECONDS, {
    min: 0,
    max: 86_400,
  });

  const targetName = r.optional("TARGET", DEFAULT_TARGET) ?? DEFAULT_TARGET;
  if (!isTargetName(targetName)) r.problems.push(`TARGET must be one of: ${TARGET_NAMES.join(", ")}`);
  const base = getTarget(isTargetName(targetName) ? targetName : DEFAULT_TARGET);
  const bucket = r.optional("BUCKET", base.bucket) ?? base.bucket;
  checkFormat(r, "BUCKET", bucket, "bucket");
  // The stacks deploy to the `region` setting, and the Access Grants instance lives there too.
  const region = r.optional("AWS_REGION") ?? r.optional("AWS_DEFAULT_REGION") ?? base.region;
  checkFormat(r, "AWS_REGION", region, "region");
  return {
    tableName,
    slack: { botToken: readSecretSource(r, "SLACK_BOT_TOKEN"), apiUrl, maxRetries },
    secretMaxAgeSeconds,
    target: {
      ...base,
      region,
      bucket,
      locationScope: bucket === base.bucket ? base.locationScope : `s3://${bucket}/`,
    },
  };
}

/** A Slack secret given as VARIABLE (local runs) or VARIABLE_ARN (deployed): exactly one. */
export function readSecretSource<N extends string, V extends SlackSecretVariable>(
  r: EnvReader<N | V | `${V}_ARN`>,
  variable: V,
): SecretSource {
  const pick = r.oneOf(variable, `${variable}_ARN`);
  if (!pick) return { value: "" };
  if (pick.name === `${variable}_ARN`) {
    checkFormat(r, pick.name, pick.value, "secretArn");
    return { arn: pick.value, variable };
  }
  if (variable === "SLACK_BOT_TOKEN") r.check(pick.name, pick.value, /^xoxb-/, "a bot token (xoxb-…)");
  return { value: pick.value };
}

/** Records a problem naming the setting (never its value) when it does not have the format. */
export function checkFormat<N extends string>(
  r: EnvReader<N>,
  name: N,
  value: string | undefined,
  format: keyof typeof FORMATS,
): void {
  r.check(name, value, FORMATS[format].pattern, FORMATS[format].what);
}
