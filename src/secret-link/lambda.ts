// Lambda entry for secret links: API Gateway HTTP API (payload format 2.0) and Lambda Function URL
// events share one shape. Clients and config are set up on the first request; the Slack token is
// re-read after its max age (src/runtime/secrets.ts).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createDynamoDbClient, createSecretsManagerClient } from "../aws/clients.ts";
import type { Env } from "../config/env.ts";
import { jsonLogger, logLambdaContext } from "../log.ts";
import { lazy, rebuiltOnChange } from "../runtime/lazy.ts";
import { resolveSecret, secretsManagerFetcher } from "../runtime/secrets.ts";
import { createSlackClient } from "../runtime/slack-client.ts";
import { AuditLog } from "../store/audit.ts";
import { createDocumentClient } from "../store/client.ts";
import { SecretStore } from "../store/secrets.ts";
import { loadSecretLinkConfig } from "./config.ts";
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

/**
 * The one wiring of the secret-link function: the Lambda export below and the playground's HTTP
 * server both serve requests through it. Nothing runs until the first request; the bot token (for
 * the "opened" DM) is re-read after its max age and the handler rebuilt when it changed.
 */
export function createSecretLinkHandleFromEnv(env: Env, opts: { clock?: () => Date } = {}): Handle {
  const runtime = lazy(async () => {
    const config = loadSecretLinkConfig(env);
    const aws = { env, region: config.region };
    // Only the two stores it uses: the request store (and its rules) stay out of this bundle.
    const table = {
      client: createDocumentClient(createDynamoDbClient(aws)),
      tableName: config.tableName,
      // The playground's movable clock; Lambda: the real time.
      ...(opts.clock ? { clock: opts.clock } : {}),
    };
    const stores = { secrets: new SecretStore(table), audit: new AuditLog(table) };
    const fetchSecret = secretsManagerFetcher(createSecretsManagerClient(aws), {
      maxAgeSeconds: config.secretMaxAgeSeconds,
    });
    const current = rebuiltOnChange(
      async () => [await resolveSecret(config.slack.botToken, fetchSecret)] as const,
      ([token]) =>
        createSecretLinkHandler({
          secrets: stores.secrets,
          senderName: config.senderName,
          onConsumed: createConsumedNotifier({
            slack: createSlackClient(token, config.slack),
            audit: stores.audit,
          }),
          logger: jsonLogger,
          ...(opts.clock ? { now: opts.clock } : {}),
        }),
    );
    await current(); // an unreadable token fails this (first) request, and the next one tries again
    return current;
  });
  return async (req) => (await (await runtime.get())())(req);
}

const lambdaHandle = createSecretLinkHandleFromEnv(process.env);

export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  logLambdaContext(context);
  return toLambdaResult(await lambdaHandle(fromLambdaEvent(event)));
}
