// Deploy settings, read once from CDK context (cdk.json "context" or `-c key=value`) into one typed
// object. Everything downstream takes this object; nothing else reads context. Defaults are the
// `cpgstaging` target the CLI uses, so `cytoskel cpgstaging …` and the stacks name the same things.
import { DEFAULT_TARGET, TARGETS } from "../../src/config/targets.ts";

const TARGET = TARGETS[DEFAULT_TARGET];

export interface CytoskelDeployConfig {
  /** 12-digit account; undefined keeps the stacks account-agnostic (synth works with no credentials). */
  readonly account: string | undefined;
  readonly region: string;
  readonly bucketName: string;
  /** true: the stack creates and owns the bucket; false: it imports the existing bucket by name. */
  readonly createBucket: boolean;
  /** false when the account already has an S3 Access Grants instance in this region (one per region). */
  readonly createAccessGrantsInstance: boolean;
  /**
   * ID of a location already registered for s3://<bucket>/ in the existing instance: the stack then
   * registers none and creates no location role (the existing location keeps its own role).
   */
  readonly existingAccessGrantsLocationId: string | undefined;
  readonly uploadersGroupName: string;
  /** false: the group `uploadersGroupName` exists already; it is imported by name, not created. */
  readonly createUploadersGroup: boolean;
  /** Customer KMS key of the bucket's default encryption (SSE-KMS); the location role may use it. */
  readonly bucketKmsKeyArn: string | undefined;
  /** Path of the IAM users the bot creates; the provisioner may touch users under this path only. */
  readonly iamUserPath: string;
  readonly adminUserIds: readonly string[];
  readonly adminUserGroupId: string | undefined;
  readonly adminChannelId: string | undefined;
  readonly allowSelfApproval: boolean;
  readonly secretLinkTtlHours: number;
  readonly defaultGrantDays: number;
  readonly maxGrantDays: number;
  /** Existing Secrets Manager secrets; when absent the stack creates empty ones to fill after deploy. */
  readonly slackSigningSecretArn: string | undefined;
  readonly slackBotTokenArn: string | undefined;
  /** Slack bot IDs (known after installing the app); Bolt needs them to skip auth.test at cold start. */
  readonly slackBotId: string | undefined;
  readonly slackBotUserId: string | undefined;
  readonly logRetentionDays: number;
  /** Minutes between runs of the expiry/reminder job. */
  readonly expiryScheduleMinutes: number;
  /** Where the failure alarms go: an email address (the stack makes a topic and subscribes it)... */
  readonly alarmEmail: string | undefined;
  /** ...or an existing SNS topic in the stack's region. Neither: the alarms exist without actions. */
  readonly alarmTopicArn: string | undefined;
  /** Hours after which an undecided request is announced again in the admin channel (0 = never). */
  readonly pendingReminderHours: number;
  /** The contributor guide's https address, linked from the bot's help (none: no link). */
  readonly helpUrl: string | undefined;
}

/** The context keys we read, in the order the README documents them. */
export const CONFIG_KEYS = [
  "account",
  "region",
  "bucketName",
  "createBucket",
  "createAccessGrantsInstance",
  "existingAccessGrantsLocationId",
  "uploadersGroupName",
  "createUploadersGroup",
  "bucketKmsKeyArn",
  "iamUserPath",
  "adminUserIds",
  "adminUserGroupId",
  "adminChannelId",
  "allowSelfApproval",
  "secretLinkTtlHours",
  "defaultGrantDays",
  "maxGrantDays",
  "slackSigningSecretArn",
  "slackBotTokenArn",
  "slackBotId",
  "slackBotUserId",
  "logRetentionDays",
  "expiryScheduleMinutes",
  "alarmEmail",
  "alarmTopicArn",
  "pendingReminderHours",
  "helpUrl",
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`Invalid CDK context setting "${setting}": ${message}`);
  }
}

// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
// A key ARN, not an alias: IAM matches kms: actions against the key's ARN, never an alias's.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/[A-Za-z0-9-]+$/;
// What `cytoskel cpgstaging list location` shows: "default" for s3://, else an ID S3 generated.
const ACCESS_GRANTS_LOCATION_ID = /^[A-Za-z0-9-]{1,64}$/;
// One address, no display name or list: SNS subscribes exactly this endpoint.
const EMAIL = /^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** Reads and validates every setting; throws ConfigError naming the first malformed one. */
export function readDeployConfig(get: (key: ConfigKey) => unknown): CytoskelDeployConfig {
  const str = (key: ConfigKey): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (typeof value !== "string") throw new ConfigError(key, `expected a string, got ${typeof value}`);
    return value.trim() === "" ? undefined : value.trim();
  };
  const matching = (key: ConfigKey, pattern: RegExp, what: string): string | undefined => {
    const value = str(key);
    if (value !== undefined && !pattern.test(value)) throw new ConfigError(key, `expected ${what}`);
    return value;
  };
  const bool = (key: ConfigKey, fallback: boolean): boolean => {
    const value = get(key);
    if (value === undefined || value === null || value === "") return fallback;
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    throw new ConfigError(key, "expected true or false");
  };
  const int = (key: ConfigKey, fallback: number, min: number, max: number): number => {
    const raw = get(key);
    if (raw === undefined || raw === null || raw === "") return fallback;
    const value = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(key, `expected a whole number from ${min} to ${max}`);
    }
    return value;
  };
  const list = (key: ConfigKey, pattern: RegExp, what: string): string[] => {
    const raw = get(key);
    if (raw === undefined || raw === null || raw === "") return [];
    const items = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : undefined;
    if (items === undefined) throw new ConfigError(key, `expected a comma-separated list of ${what}`);
    const values = items.map((item) => (typeof item === "string" ? item.trim() : "")).filter((v) => v);
    const bad = values.find((v) => !pattern.test(v));
    if (bad !== undefined) throw new ConfigError(key, `"${bad}" is not ${what}`);
    return values;
  };

  const defaultGrantDays = int("defaultGrantDays", 30, 1, 3650);
  const maxGrantDays = int("maxGrantDays", 90, 1, 3650);
  if (defaultGrantDays > maxGrantDays) {
    throw new ConfigError("defaultGrantDays", `must not exceed maxGrantDays (${maxGrantDays})`);
  }
  const logRetentionDays = int("logRetentionDays", 90, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ConfigError("logRetentionDays", `expected one of ${LOG_RETENTION_DAYS.join(", ")}`);
  }
  const iamUserPath = str("iamUserPath") ?? TARGET.iamPath;
  if (!/^\/([A-Za-z0-9_+=,.@-]+\/)+$/.test(iamUserPath)) {
    throw new ConfigError("iamUserPath", 'expected an IAM path below "/" such as "/cytoskel/"');
  }

  const region =
    matching("region", /^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as us-east-1") ?? TARGET.region;
  const createBucket = bool("createBucket", false);
  const createAccessGrantsInstance = bool("createAccessGrantsInstance", true);
  const existingAccessGrantsLocationId = matching(
    "existingAccessGrantsLocationId",
    ACCESS_GRANTS_LOCATION_ID,
    "an Access Grants location ID as `cytoskel cpgstaging list location` shows it (letters, digits, -)",
  );
  if (existingAccessGrantsLocationId !== undefined && createAccessGrantsInstance) {
    throw new ConfigError(
      "existingAccessGrantsLocationId",
      "an existing location belongs to an existing Access Grants instance: set createAccessGrantsInstance=false too",
    );
  }
  if (existingAccessGrantsLocationId !== undefined && createBucket) {
    throw new ConfigError(
      "existingAccessGrantsLocationId",
      "an existing location is registered for an existing bucket: it cannot be combined with createBucket=true",
    );
  }
  const bucketKmsKeyArn = matching(
    "bucketKmsKeyArn",
    KMS_KEY_ARN,
    "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), not an alias",
  );
  if (bucketKmsKeyArn !== undefined && bucketKmsKeyArn.split(":")[3] !== region) {
    throw new ConfigError("bucketKmsKeyArn", `the key must be in the bucket's region (${region})`);
  }
  if (bucketKmsKeyArn !== undefined && existingAccessGrantsLocationId !== undefined) {
    throw new ConfigError(
      "bucketKmsKeyArn",
      "with existingAccessGrantsLocationId the stack creates no location role to give the key to; " +
        "allow kms:Decrypt and kms:GenerateDataKey on the key to the existing location's role instead",
    );
  }

  const alarmEmail = matching("alarmEmail", EMAIL, "one email address such as ops@example.org");
  const alarmTopicArn = matching(
    "alarmTopicArn",
    SNS_TOPIC_ARN,
    "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
  );
  if (alarmEmail !== undefined && alarmTopicArn !== undefined) {
    throw new ConfigError(
      "alarmTopicArn",
      "set alarmEmail or alarmTopicArn, not both (subscribe the address to your topic instead)",
    );
  }
  // Alarm actions must be in the alarm's region: PutMetricAlarm refuses others ("Invalid region … specified.
  // Only us-east-1 is supported."; recalled from use, not confirmed against AWS's documentation here).
  if (alarmTopicArn !== undefined && alarmTopicArn.split(":")[3] !== region) {
    throw new ConfigError("alarmTopicArn", `the topic must be in the stacks' region (${region})`);
  }

  return {
    account: matching("account", /^\d{12}$/, "a 12-digit AWS account ID"),
    region,
    bucketName:
      matching("bucketName", /^(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "a valid S3 bucket name") ??
      TARGET.bucket,
    createBucket,
    createAccessGrantsInstance,
    existingAccessGrantsLocationId,
    uploadersGroupName:
      matching("uploadersGroupName", /^[A-Za-z0-9_+=,.@-]{1,128}$/, "a valid IAM group name") ??
      TARGET.uploadersGroup,
    createUploadersGroup: bool("createUploadersGroup", true),
    bucketKmsKeyArn,
    iamUserPath,
    adminUserIds: list("adminUserIds", SLACK_USER_ID, "a Slack user ID (U…/W…)"),
    adminUserGroupId: matching("adminUserGroupId", /^S[A-Z0-9]{2,}$/, "a Slack user group ID (S…)"),
    adminChannelId: matching("adminChannelId", /^[CG][A-Z0-9]{2,}$/, "a Slack channel ID (C…/G…)"),
    allowSelfApproval: bool("allowSelfApproval", false),
    secretLinkTtlHours: int("secretLinkTtlHours", 24, 1, 168),
    defaultGrantDays,
    maxGrantDays,
    slackSigningSecretArn: matching("slackSigningSecretArn", SECRET_ARN, "a Secrets Manager secret ARN"),
    slackBotTokenArn: matching("slackBotTokenArn", SECRET_ARN, "a Secrets Manager secret ARN"),
    slackBotId: matching("slackBotId", /^B[A-Z0-9]{2,}$/, "a Slack bot ID (B…)"),
    slackBotUserId: matching("slackBotUserId", SLACK_USER_ID, "a Slack user ID (U…/W…)"),
    logRetentionDays,
    expiryScheduleMinutes: int("expiryScheduleMinutes", 60, 5, 1440),
    alarmEmail,
    alarmTopicArn,
    pendingReminderHours: int("pendingReminderHours", 24, 0, 24 * 365),
    // The bot's HELP_URL check, so a bad address stops the synth rather than the bot.
    helpUrl: matching("helpUrl", /^https:\/\/[^\s<>|]+$/, "an https URL without spaces, <, > or |"),
  };
}

/**
 * Settings the deployed bot refuses to start without (its loader fails fast), but which a first deploy
 * cannot know yet: the bot IDs exist only after the Slack app is installed. Synth still works; the app
 * warns and the operator redeploys with them (README.md, "Deploy to AWS").
 */
export function missingBotSettings(config: CytoskelDeployConfig): ConfigKey[] {
  const missing: ConfigKey[] = [];
  if (config.adminUserIds.length === 0) missing.push("adminUserIds");
  if (!config.adminChannelId) missing.push("adminChannelId");
  if (!config.slackBotId) missing.push("slackBotId");
  if (!config.slackBotUserId) missing.push("slackBotUserId");
  return missing;
}
