/**
 * Lambda entry for the Slack bot (API Gateway HTTP API v2 or Function URL). `createBotHandlerFromEnv`
 * is the one wiring: the Lambda export, the tests, the playground and the bench all build the bot
 * through it from an environment (variables: BOT_ENV in src/bot/config.ts). Nothing runs at import;
 * the first invocation reads the config and the Slack secrets, and the handler is rebuilt when a
 * secret's value changes after its max age (a rotated token or signing secret needs no redeploy).
 * Bolt gets botId/botUserId, so it never calls auth.test.
 */

import { createDynamoDbClient, createSecretsManagerClient } from "../aws/clients.ts";
import type { Env } from "../config/env.ts";
import { logLambdaContext } from "../log.ts";
import { lazy, rebuiltOnChange } from "../runtime/lazy.ts";
import { resolveSecret, secretsManagerFetcher } from "../runtime/secrets.ts";
import { createDocumentClient } from "../store/client.ts";
import { createStores } from "../store/index.ts";
import { JobStore } from "../store/jobs.ts";
import type { BotLogger } from "./app.ts";
import { loadBotConfig } from "./config.ts";
import { createBotHandler } from "./handler.ts";
import type { HttpLambdaEvent, HttpLambdaResult, LambdaHttpHandler, ReceiverLogger } from "./receiver.ts";

/** Where the bot's logs go (the playground quiets them); everything else comes from the environment. */
export interface BotLogging {
  logger?: BotLogger;
  receiverLogger?: ReceiverLogger;
  /** The time the bot sees, signature window included (the playground's movable clock); Lambda: real. */
  clock?: () => Date;
}

export function createBotHandlerFromEnv(env: Env, logging: BotLogging = {}): LambdaHttpHandler {
  const runtime = lazy(async () => {
    const config = loadBotConfig(env);
    const aws = {
      env,
      region: config.aws.region,
      ...(config.aws.profile ? { profile: config.aws.profile } : {}),
    };
    const fetchSecret = secretsManagerFetcher(createSecretsManagerClient(aws), {
      maxAgeSeconds: config.secretMaxAgeSeconds,
    });
    const doc = createDocumentClient(createDynamoDbClient(aws));
    const { requests } = createStores({
      client: doc,
      tableName: config.tableName,
      ...(logging.clock ? { clock: logging.clock } : {}),
    });
    // revoke / reissue are queued as job items; the provisioner does the IAM / Access Grants work.
    const jobs = new JobStore({ client: doc, tableName: config.tableName });
    const current = rebuiltOnChange(
      async () =>
        [
          await resolveSecret(config.slack.signingSecret, fetchSecret),
          await resolveSecret(config.slack.botToken, fetchSecret),
        ] as const,
      ([signingSecret, botToken]) =>
        createBotHandler({
          config: { ...config, slack: { ...config.slack, signingSecret, botToken } },
          store: requests,
          jobs,
          ...logging,
        }),
    );
    await current(); // a missing secret fails this (first) invocation, and the next one tries again
    return current;
  });
  return async (event, context) => {
    const handle = await (await runtime.get())();
    return handle(event, context);
  };
}

const lambdaHandler = createBotHandlerFromEnv(process.env);

// Two parameters and a promise: Lambda's Node 24 runtime refuses callback-style handlers.
export async function handler(event: HttpLambdaEvent, context?: unknown): Promise<HttpLambdaResult> {
  logLambdaContext(context);
  return lambdaHandler(event, context);
}
