// The one place that builds AWS SDK clients. Everything else receives clients as arguments.
// Honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, so the same code
// runs against AWS and against local stand-ins.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { type AwsServiceKey, configuredEndpoint } from "./endpoints.ts";

export { type AwsServiceKey, configuredEndpoint, ENDPOINT_ENV_SUFFIX } from "./endpoints.ts";

export interface AwsClientOptions {
  /** Region; else AWS_REGION / AWS_DEFAULT_REGION; else what the profile says. */
  region?: string;
  /** Named profile; else AWS_PROFILE; else the default chain. */
  profile?: string;
  /** Environment to read (tests pass their own); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Explicit credentials (tests, or a caller that already holds temporary credentials). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK retry attempts (default: SDK default, 3). */
  maxAttempts?: number;
  /** HTTP bounds (defaults AWS_CONNECTION_TIMEOUT_MS, AWS_REQUEST_TIMEOUT_MS); tests shorten them. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface AwsClients {
  iam: IAMClient;
  s3control: S3ControlClient;
  sts: STSClient;
  dynamodb: DynamoDBClient;
  secretsManager: SecretsManagerClient;
}

/** Static credentials from an explicitly passed env (the SDK itself only reads process.env). */
function envCredentials(opts: AwsClientOptions): AwsClientOptions["credentials"] {
  if (opts.credentials) return opts.credentials;
  const env = opts.env;
  if (!env || env === process.env || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/**
 * SDK v3 prints a multi-line "Node >= 22 soon" warning on Node 20 (our dev machines; Lambda runs 24).
 * It would break the CLI's one-line-on-stderr contract, so it is silenced unless someone set it.
 */
export function quietNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

/**
 * Every client's HTTP bounds (src/runtime/retry.ts, layer 1): a connection that does not open, or a
 * request with no answer, fails as a TimeoutError, a transient error the SDK's standard retries take up
 * (within its 3 tries), instead of holding the invocation until Lambda kills it. Without
 * throwOnRequestTimeout the SDK only logs a late request. Generous enough for a slow page of a listing.
 */
export const AWS_CONNECTION_TIMEOUT_MS = 3_000;
export const AWS_REQUEST_TIMEOUT_MS = 15_000;

function baseConfig(opts: AwsClientOptions, fallbackRegion?: string) {
  quietNodeVersionWarning();
  const env = opts.env ?? process.env;
  const region = opts.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || fallbackRegion);
  const profile = opts.profile ?? (env.AWS_PROFILE || undefined);
  const credentials = envCredentials(opts);
  return {
    ...(region ? { region } : {}),
    ...(profile ? { profile } : {}),
    ...(credentials ? { credentials } : {}),
    ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? AWS_CONNECTION_TIMEOUT_MS,
      requestTimeout: opts.requestTimeoutMs ?? AWS_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
}

function endpointConfig(service: AwsServiceKey, opts: AwsClientOptions) {
  const endpoint = configuredEndpoint(service, opts.env ?? process.env);
  return endpoint ? { endpoint } : {};
}

// IAM is global and answers in us-east-1; a missing region must not stop IAM calls.
export function createIamClient(opts: AwsClientOptions = {}): IAMClient {
  return new IAMClient({ ...baseConfig(opts, "us-east-1"), ...endpointConfig("iam", opts) });
}

export function createStsClient(opts: AwsClientOptions = {}): STSClient {
  return new STSClient({ ...baseConfig(opts), ...endpointConfig("sts", opts) });
}

/**
 * S3 Control's endpoint rules put the account ID in front of the host (`123456789012.127.0.0.1` is not a
 * usable URL), so with a custom endpoint we replace the rules by a provider that returns it as given.
 */
export function createS3ControlClient(opts: AwsClientOptions = {}): S3ControlClient {
  const endpoint = configuredEndpoint("s3control", opts.env ?? process.env);
  if (!endpoint) return new S3ControlClient(baseConfig(opts));
  const url = new URL(endpoint);
  return new S3ControlClient({ ...baseConfig(opts), endpointProvider: () => ({ url }) });
}

export function createDynamoDbClient(opts: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient({ ...baseConfig(opts), ...endpointConfig("dynamodb", opts) });
}

export function createSecretsManagerClient(opts: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient({ ...baseConfig(opts), ...endpointConfig("secretsManager", opts) });
}

export function createAwsClients(opts: AwsClientOptions = {}): AwsClients {
  return {
    iam: createIamClient(opts),
    s3control: createS3ControlClient(opts),
    sts: createStsClient(opts),
    dynamodb: createDynamoDbClient(opts),
    secretsManager: createSecretsManagerClient(opts),
  };
}

/** Close every client's sockets (long-lived processes and tests). */
export function destroyAwsClients(clients: Partial<AwsClients>): void {
  for (const client of Object.values(clients)) client?.destroy();
}
