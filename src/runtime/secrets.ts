// Slack's signing secret and bot token live in AWS Secrets Manager; every Lambda entry reads them
// through here. A secret holds the plain value, or JSON with a key named after the variable (or its
// camelCase: signingSecret, botToken), so one secret can hold both. Values are cached for a max age
// (Powertools Parameters' SecretsProvider), so a rotated Slack token is picked up without a redeploy.
// Errors name the variable and its *_ARN setting, never the value.

import { GetParameterError } from "@aws-lambda-powertools/parameters/errors";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export type SlackSecretVariable = "SLACK_SIGNING_SECRET" | "SLACK_BOT_TOKEN";

/** A secret given directly (local runs), or the ARN of the Secrets Manager secret holding it. */
export type SecretSource = { value: string } | { arn: string; variable: SlackSecretVariable };

/** Reads a secret string by ARN. */
export type SecretFetcher = (arn: string) => Promise<string>;

export class SecretResolutionError extends Error {
  override readonly name = "SecretResolutionError";
}

/** How long a read secret is trusted before the next read asks Secrets Manager again. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/**
 * GetSecretValue through Powertools' provider: each ARN is read at most once per `maxAgeSeconds`
 * (concurrent first reads included, since the provider caches the pending value only once it resolves,
 * callers share one fetch per ARN through `inflight`).
 */
export function secretsManagerFetcher(
  client: SecretsManagerClient,
  opts: { maxAgeSeconds?: number } = {},
): SecretFetcher {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  const maxAge = opts.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS;
  const inflight = new Map<string, Promise<string>>();
  return (arn) => {
    let pending = inflight.get(arn);
    if (!pending) {
      pending = provider
        .get(arn, { maxAge })
        .then(
          (value) => (typeof value === "string" ? value : ""),
          // Powertools wraps the SDK's error in a GetParameterError; callers classify the SDK's own.
          (err: unknown) => {
            throw err instanceof GetParameterError && err.cause ? err.cause : err;
          },
        )
        .finally(() => inflight.delete(arn));
      inflight.set(arn, pending);
    }
    return pending;
  };
}

/** The value of a source: as given, or read (through the fetcher's cache) from its secret. */
export function resolveSecret(source: SecretSource, fetchSecret: SecretFetcher | undefined): Promise<string> {
  if ("value" in source) return Promise.resolve(source.value);
  if (!fetchSecret) return Promise.reject(new SecretResolutionError("no secret reader was given"));
  return readSlackSecret(fetchSecret, source.arn, source.variable);
}

export async function readSlackSecret(
  fetchSecret: SecretFetcher,
  arn: string,
  variable: SlackSecretVariable,
): Promise<string> {
  let raw: string;
  try {
    raw = await fetchSecret(arn);
  } catch (cause) {
    throw new SecretResolutionError(`could not read ${variable} from Secrets Manager (${variable}_ARN)`, {
      cause,
    });
  }
  const value = pickFromSecret(raw, variable);
  if (!value)
    throw new SecretResolutionError(`the secret in ${variable}_ARN is empty or lacks key ${variable}`);
  return value;
}

function pickFromSecret(raw: string, variable: SlackSecretVariable): string | undefined {
  const text = raw.trim();
  if (!text.startsWith("{")) return text || undefined;
  try {
    const obj = JSON.parse(text) as Record<string, unknown>;
    const camel = variable
      .replace(/^SLACK_/, "")
      .toLowerCase()
      .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = obj[variable] ?? obj[camel];
    return typeof value === "string" && value ? value : undefined;
  } catch {
    return undefined;
  }
}
