// Lambda entry for secret links: API Gateway HTTP API (payload format 2.0) and Lambda Function URL
// events share one shape. Clients, config and the Slack token are set up once per cold start.

import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { webApi } from "@slack/bolt";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createDynamoDbClient, createSecretsManagerClient } from "../aws/clients.ts";
import type { Env } from "../config/env.ts";
import { readSlackSecret, secretsManagerFetcher } from "../config/secrets.ts";
import { jsonLogger, logLambdaContext } from "../log.ts";
import { createDocumentClient } from "../store/client.ts";
import { createStores } from "../store/index.ts";
import { loadSecretLinkConfig, type SecretLinkConfig } from "./config.ts";
import { createSecretLinkHandler, type HttpRequest, type HttpResponse } from "./handler.ts";
import { createConsumedNotifier } from "./notify.ts";

export type Handle = (req: HttpRequest) => Promise<HttpResponse>;

export function fromLambdaEvent(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  let path = event.rawPath || event.requestContext.http.path || "/";
  // A named HTTP API stage prefixes the path ("/prod/s/<id>"); the routes do not include it.
  const stage = event.requestContext.stage;
  if (stage && stage !== "$default" && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  return { method: event.requestContext.http.method, path, headers };
}

export function toLambdaResult(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.status, headers: res.headers, body: res.body, isBase64Encoded: false };
}

async function readBotToken(
  config: SecretLinkConfig,
  secretsManager: () => SecretsManagerClient,
): Promise<string> {
  const source = config.slack.botToken;
  if ("value" in source) return source.value;
  const client = secretsManager();
  try {
    return await readSlackSecret(secretsManagerFetcher(client), source.arn, "SLACK_BOT_TOKEN");
  } finally {
    client.destroy();
  }
}

/** Builds the handler from the environment: what the Lambda does on a cold start. */
export async function createHandleFromEnv(env: Env = process.env): Promise<Handle> {
  const config = loadSecretLinkConfig(env);
  const clientOptions = { env, ...(config.region ? { region: config.region } : {}) };
  const stores = createStores({
    client: createDocumentClient(createDynamoDbClient(clientOptions)),
    tableName: config.tableName,
  });
  const token = await readBotToken(config, () => createSecretsManagerClient(clientOptions));
  const slack = new webApi.WebClient(token, {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    retryConfig: { retries: 1, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    logLevel: webApi.LogLevel.WARN,
  });
  return createSecretLinkHandler({
    secrets: stores.secrets,
    senderName: config.senderName,
    onConsumed: createConsumedNotifier({ slack, audit: stores.audit }),
    logger: jsonLogger,
  });
}

let ready: Promise<Handle> | undefined;

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  logLambdaContext(context);
  ready ??= createHandleFromEnv().catch((err: unknown) => {
    // Let the next invocation retry a failed start (e.g. Secrets Manager throttled).
    ready = undefined;
    throw err;
  });
  const handle = await ready;
  return toLambdaResult(await handle(fromLambdaEvent(event)));
}
