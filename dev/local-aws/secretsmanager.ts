// Secrets Manager for the local stand-in: GetSecretValue over the AWS JSON 1.1 protocol
// (POST /, X-Amz-Target: secretsmanager.GetSecretValue). Secrets are seeded by tests (putSecret), not
// created over the wire: our code only ever reads them, as the Lambda entries do once per cold start.
import { randomBytes, randomUUID } from "node:crypto";
import type { Check } from "./authz/evaluate.ts";
import { type LocalAwsState, type LocalSecret, takeInjectedFault } from "./state.ts";
import { AwsFault } from "./wire.ts";

export const SECRETS_MANAGER_TARGET_PREFIX = "secretsmanager.";
export const JSON_11 = "application/x-amz-json-1.1";

/** The message AWS answers for an unknown SecretId (it never echoes the id back). */
export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";

// AWS appends a hyphen and 6 random characters to a secret's name in its ARN.
function arnSuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Store `value` as the AWSCURRENT version of secret `name` (creating it, or adding a version like
 * PutSecretValue: the former current becomes AWSPREVIOUS). Returns the secret's ARN and the version id.
 */
export function putSecret(
  state: LocalAwsState,
  name: string,
  value: string,
  region = "us-east-1",
): { arn: string; versionId: string } {
  let secret = state.secretsManager.secrets.get(name);
  if (!secret) {
    secret = {
      name,
      arn: `arn:aws:secretsmanager:${region}:${state.accountId}:secret:${name}-${arnSuffix()}`,
      createdDate: new Date(),
      versions: [],
    };
    state.secretsManager.secrets.set(name, secret);
  }
  for (const v of secret.versions) {
    v.stages = v.stages.includes("AWSCURRENT") ? ["AWSPREVIOUS"] : [];
  }
  const versionId = randomUUID();
  secret.versions.push({ versionId, secretString: value, createdDate: new Date(), stages: ["AWSCURRENT"] });
  return { arn: secret.arn, versionId };
}

/** SecretId may be the name, the full ARN, or the ARN without its random suffix (a partial ARN). */
function findSecret(state: LocalAwsState, secretId: string): LocalSecret | undefined {
  for (const s of state.secretsManager.secrets.values()) {
    if (secretId === s.name || secretId === s.arn || secretId === s.arn.replace(/-[A-Za-z0-9]{6}$/, ""))
      return s;
  }
  return undefined;
}

/**
 * What IAM checks for a Secrets Manager request: the action on the secret's ARN (for an unknown secret,
 * the ARN the id would name), with secretsmanager:SecretId / VersionId / VersionStage.
 */
export function secretsManagerChecks(state: LocalAwsState, operation: string, body: string): Check[] {
  const input = parseInput(operation, body);
  const secretId = typeof input.SecretId === "string" ? input.SecretId : "";
  if (!secretId) return [];
  const secret = findSecret(state, secretId);
  const arn = secret?.arn ?? (secretId.startsWith("arn:") ? secretId : undefined);
  const context: Record<string, string> = { "secretsmanager:SecretId": arn ?? secretId };
  if (typeof input.VersionId === "string") context["secretsmanager:VersionId"] = input.VersionId;
  if (typeof input.VersionStage === "string") context["secretsmanager:VersionStage"] = input.VersionStage;
  return [
    {
      action: `secretsmanager:${operation}`,
      vars: { SecretId: arn ? arn.slice(arn.indexOf(":secret:") + ":secret:".length) : secretId },
      context,
    },
  ];
}

function parseInput(operation: string, body: string): Record<string, unknown> {
  try {
    return body.trim() ? (JSON.parse(body) as Record<string, unknown>) : {};
  } catch {
    throw Object.assign(new AwsFault("SerializationException", 400, "Malformed request body"), { operation });
  }
}

function getSecretValue(state: LocalAwsState, input: Record<string, unknown>) {
  const secretId = input.SecretId;
  if (typeof secretId !== "string" || !secretId)
    throw new AwsFault("InvalidParameterException", 400, "You must provide a value for SecretId.");
  const secret = findSecret(state, secretId);
  if (!secret) throw new AwsFault("ResourceNotFoundException", 400, SECRET_NOT_FOUND);
  const { VersionId, VersionStage } = input as { VersionId?: string; VersionStage?: string };
  const version = VersionId
    ? secret.versions.find((v) => v.versionId === VersionId)
    : secret.versions.find((v) => v.stages.includes(VersionStage ?? "AWSCURRENT"));
  if (!version) {
    throw new AwsFault(
      "ResourceNotFoundException",
      400,
      VersionId
        ? `Secrets Manager can't find the specified secret value for VersionId: ${VersionId}`
        : `Secrets Manager can't find the specified secret value for staging label: ${VersionStage}`,
    );
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    VersionStages: version.stages,
    // JSON 1.1 timestamps are epoch seconds.
    CreatedDate: version.createdDate.getTime() / 1000,
  };
}

/** Handle one JSON 1.1 request; returns the operation and the JSON answer, or throws AwsFault. */
export function handleSecretsManager(
  state: LocalAwsState,
  target: string,
  body: string,
): { operation: string; json: string } {
  const operation = target.slice(SECRETS_MANAGER_TARGET_PREFIX.length);
  const input = parseInput(operation, body);
  const injected = takeInjectedFault(state, operation);
  if (injected)
    throw Object.assign(new AwsFault(injected.code, injected.status, injected.message), { operation });
  if (operation !== "GetSecretValue") {
    throw Object.assign(new AwsFault("UnknownOperationException", 400, ""), { operation });
  }
  return { operation, json: JSON.stringify(getSecretValue(state, input)) };
}

/** AWS JSON error body: {"__type": code, "Message": text} (UnknownOperationException has no message). */
export function secretsManagerErrorJson(fault: AwsFault): string {
  return JSON.stringify(
    fault.message ? { __type: fault.code, Message: fault.message } : { __type: fault.code },
  );
}
