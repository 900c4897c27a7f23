// Which endpoint a client is pointed at, by the SDK's own AWS_ENDPOINT_URL rules. No SDK import: the
// CLI's credential cache keys on it without loading the clients (src/cli/credential-cache.ts).

/** The SDK's service IDs, upper-cased and joined with "_" as AWS_ENDPOINT_URL_<ID> expects. */
export const ENDPOINT_ENV_SUFFIX = {
  iam: "IAM",
  sts: "STS",
  s3control: "S3_CONTROL",
  dynamodb: "DYNAMODB",
  secretsManager: "SECRETS_MANAGER",
} as const;
export type AwsServiceKey = keyof typeof ENDPOINT_ENV_SUFFIX;

/**
 * The custom endpoint configured for a service, following the SDK's own precedence:
 * AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL; none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
 */
export function configuredEndpoint(
  service: AwsServiceKey,
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return undefined;
  const specific = env[`AWS_ENDPOINT_URL_${ENDPOINT_ENV_SUFFIX[service]}`];
  if (specific) return specific;
  return env.AWS_ENDPOINT_URL || undefined;
}
