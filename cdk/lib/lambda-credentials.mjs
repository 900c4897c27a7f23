// Stands in for @aws-sdk/credential-provider-node in the Lambda bundles (cdk/lib/bundling.ts aliases it
// here). On Lambda the runtime hands the execution role's credentials to the function as
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (the reserved variables of the Lambda
// developer guide), and the SDK's default chain takes them from there, its first link. The rest of the
// chain (SSO, ini profiles, web identity, credential_process, ECS/IMDS and the nested STS/SSO clients
// they carry, ~90 KB) can never answer on Lambda, so only the environment link is bundled. Without those
// variables every AWS call fails with the SDK's own CredentialsProviderError, naming the variables.
import { fromEnv } from "@aws-sdk/credential-provider-env";

export const defaultProvider = (init = {}) => fromEnv(init);

// The rest of the package's surface, as @aws-sdk/credential-provider-node 3.972 exports it.
export const credentialsWillNeedRefresh = (credentials) => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
