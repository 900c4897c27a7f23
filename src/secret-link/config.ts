// Typed settings for the secret-link Lambda, read on the first request; fails fast naming every
// missing or malformed variable (never their values). SECRET_LINK_ENV is every variable it reads
// (cdk/ fills the function's environment from it).
import { defineEnv, type Env, EnvReader } from "../config/env.ts";
import { COMMON_ENV, type CommonSettings, readCommonSettings } from "../runtime/settings.ts";
import { DEFAULT_SENDER_NAME } from "./handler.ts";

export const SECRET_LINK_ENV = defineEnv({
  ...COMMON_ENV,
  SECRET_LINK_SENDER_NAME: `who the page says sent the link, default "${DEFAULT_SENDER_NAME}"`,
});

export interface SecretLinkConfig {
  /** The single cytoskel table (requests, audit, secrets). */
  tableName: string;
  /** The bot token (for the "opened" notice), Slack's API and its retries. */
  slack: CommonSettings["slack"];
  secretMaxAgeSeconds: number;
  /** Who the page says sent the link. */
  senderName: string;
  region: string;
}

export function loadSecretLinkConfig(env: Env = process.env): SecretLinkConfig {
  const r = new EnvReader<keyof typeof SECRET_LINK_ENV>(env);
  const common = readCommonSettings(r);
  const senderName = r.optional("SECRET_LINK_SENDER_NAME", DEFAULT_SENDER_NAME) ?? DEFAULT_SENDER_NAME;
  r.done();
  return {
    tableName: common.tableName,
    slack: common.slack,
    secretMaxAgeSeconds: common.secretMaxAgeSeconds,
    senderName,
    region: common.target.region,
  };
}
