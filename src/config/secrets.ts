// Slack's signing secret and bot token live in AWS Secrets Manager; every Lambda entry reads them
// through here, once per cold start. A secret holds the plain value, or JSON with a key named after
// the variable (or its camelCase: signingSecret, botToken), so one secret can hold both.
// Errors name the variable and its *_ARN setting, never the value.
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export type SlackSecretVariable = "SLACK_SIGNING_SECRET" | "SLACK_BOT_TOKEN";

/** Reads a secret string by ARN. */
export type SecretFetcher = (arn: string) => Promise<string>;

export class SecretResolutionError extends Error {
  override readonly name = "SecretResolutionError";
}

export function secretsManagerFetcher(client: SecretsManagerClient): SecretFetcher {
  return async (arn) => (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? "";
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
