/**
 * Lambda entry for the Slack bot (API Gateway HTTP API v2 or Function URL). Config and secrets are read
 * once per cold start; importing this module makes no network call (Bolt gets botId/botUserId, so it
 * never calls auth.test).
 */

import { createDynamoDbClient, createSecretsManagerClient } from "../aws/clients.ts";
import { secretsManagerFetcher } from "../config/secrets.ts";
import { logLambdaContext } from "../log.ts";
import { createDocumentClient } from "../store/client.ts";
import { createStores } from "../store/index.ts";
import { JobStore } from "../store/jobs.ts";
import { loadBotConfig, resolveBotConfig } from "./config.ts";
import { createBotHandler } from "./handler.ts";
import type { HttpLambdaEvent, HttpLambdaResult, LambdaHttpHandler } from "./receiver.ts";

let ready: Promise<LambdaHttpHandler> | undefined;

async function init(): Promise<LambdaHttpHandler> {
  const config = loadBotConfig(process.env);
  const aws = { region: config.aws.region };
  const secretsManager = createSecretsManagerClient(aws);
  let resolved: Awaited<ReturnType<typeof resolveBotConfig>>;
  try {
    resolved = await resolveBotConfig(config, secretsManagerFetcher(secretsManager));
  } finally {
    secretsManager.destroy();
  }
  const doc = createDocumentClient(createDynamoDbClient(aws));
  const { requests } = createStores({ client: doc, tableName: config.tableName });
  // revoke / reissue are queued as job items; the provisioner does the IAM / Access Grants work.
  const jobs = new JobStore({ client: doc, tableName: config.tableName });
  return createBotHandler({ config: resolved, store: requests, jobs });
}

// Two parameters and a promise: Lambda's Node 24 runtime refuses callback-style handlers.
export async function handler(event: HttpLambdaEvent, context?: unknown): Promise<HttpLambdaResult> {
  logLambdaContext(context);
  ready ??= init().catch((err: unknown) => {
    ready = undefined; // let the next invocation try again (e.g. Secrets Manager throttled)
    throw err;
  });
  const handle = await ready;
  return handle(event, context);
}
