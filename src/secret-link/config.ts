// Typed settings for the secret-link Lambda, read once per cold start; fails fast naming every
// missing or malformed variable (never their values).
import { type Env, EnvReader } from "../config/env.ts";
import { DEFAULT_SENDER_NAME } from "./handler.ts";

export type SecretSource = { value: string } | { arn: string };

export interface SecretLinkConfig {
  /** The single cytoskel table (requests, audit, secrets). */
  tableName: string;
  slack: {
    /** SLACK_BOT_TOKEN, or the ARN of a Secrets Manager secret holding it. */
    botToken: SecretSource;
    /** SLACK_API_URL; unset means Slack's own API. Tests point it at the local fake. */
    apiUrl?: string;
  };
  /** SECRET_LINK_SENDER_NAME: who the page says sent the link. */
  senderName: string;
  /** AWS_REGION (Lambda sets it). */
  region?: string;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

export function loadSecretLinkConfig(env: Env = process.env): SecretLinkConfig {
  const r = new EnvReader(env);
  const tableName = r.require("TABLE_NAME", "the cytoskel DynamoDB table");
  r.check("TABLE_NAME", tableName, /^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name");

  // SLACK_BOT_TOKEN_ARN is the bot's name for it; SLACK_BOT_TOKEN_SECRET_ARN is accepted as well.
  const arnName =
    r.raw("SLACK_BOT_TOKEN_SECRET_ARN") !== undefined ? "SLACK_BOT_TOKEN_SECRET_ARN" : "SLACK_BOT_TOKEN_ARN";
  const pick = r.oneOf("SLACK_BOT_TOKEN", arnName);
  let botToken: SecretSource = { value: "" };
  if (pick?.name === "SLACK_BOT_TOKEN") {
    r.check("SLACK_BOT_TOKEN", pick.value, /^xoxb-/, "a bot token (xoxb-…)");
    botToken = { value: pick.value };
  } else if (pick) {
    r.check(arnName, pick.value, SECRET_ARN, "a Secrets Manager secret ARN");
    botToken = { arn: pick.value };
  }
  const apiUrl = r.url("SLACK_API_URL");
  const senderName = r.optional("SECRET_LINK_SENDER_NAME", DEFAULT_SENDER_NAME) ?? DEFAULT_SENDER_NAME;
  const region = r.optional("AWS_REGION") ?? r.optional("AWS_DEFAULT_REGION");
  r.done();
  return {
    tableName,
    slack: { botToken, ...(apiUrl ? { apiUrl } : {}) },
    senderName,
    ...(region ? { region } : {}),
  };
}
