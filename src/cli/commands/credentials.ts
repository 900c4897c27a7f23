// `cytoskel credentials`: contributors trade their long-lived keys for temporary credentials
// scoped by their access grants (GetDataAccess). Printing them is the point of this command.
// As a credential_process it answers from the cache (src/cli/credential-cache.ts) while an entry is
// fresh: no AWS call, and the AWS SDK is not even loaded (src/aws is imported only on a miss).

import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { STSClient } from "@aws-sdk/client-sts";
import { AccessDeniedError, CredentialsError, NoMatchingGrantError } from "../../aws/errors.ts";
import { getTarget } from "../../config/targets.ts";
import { GrantScope } from "../../rules/grant-scope.ts";
import { parsePermission } from "../../rules/permission.ts";
import { normalizePrefix } from "../../rules/prefix.ts";
import type { CachedCredentials, CacheKey, CredentialCache } from "../credential-cache.ts";
import { type CredentialFormat, parseAccountId, parseCredentialFormat, parseDuration } from "../input.ts";

/**
 * Default --duration. As a credential_process, 1 h: renewing is free once the cache does it, and it bounds
 * how long credentials outlive a revoke (issued ones cannot be recalled). Printed for a shell: 12 h, as
 * the original tool did, since nothing renews them there.
 */
export const DEFAULT_DURATION = { "credential-process": "1h", other: "12h" } as const;

export interface CredentialsArgs {
  prefix: string;
  permission?: string;
  duration?: string;
  format?: string;
  target?: string;
  accountId?: string;
}

export interface CredentialsResult {
  kind: "credentials";
  format: CredentialFormat;
  target: string;
  matchedGrantTarget: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

export interface ValidCredentialsRequest {
  format: CredentialFormat;
  targetName: string;
  region: string;
  s3Target: string;
  permission: ReturnType<typeof parsePermission>;
  durationSeconds: number;
  accountId: string | undefined;
}

/** Everything checked before any AWS call (UsageError / InvalidPrefixError / … otherwise). */
export function validateCredentialsArgs(args: CredentialsArgs): ValidCredentialsRequest {
  const target = getTarget(args.target ?? "cpgstaging");
  // Asking costs nothing and AWS decides: the whole bucket is a valid request if a grant covers it.
  const subPrefix = normalizePrefix(args.prefix, { bucket: target.bucket, allowRoot: true });
  const format = parseCredentialFormat(args.format ?? "env");
  const defaultDuration = format === "credential-process" ? DEFAULT_DURATION[format] : DEFAULT_DURATION.other;
  return {
    format,
    targetName: target.name,
    region: target.region,
    s3Target: GrantScope.of(target.bucket, subPrefix).uri,
    permission: parsePermission(args.permission ?? "READWRITE"),
    durationSeconds: parseDuration(args.duration ?? defaultDuration),
    accountId: args.accountId === undefined ? undefined : parseAccountId(args.accountId),
  };
}

/** How this call uses the cache: only `--format credential-process` without `--no-cache` has one. */
export interface CredentialsCacheUse {
  cache: CredentialCache;
  key: CacheKey;
}

interface Clients {
  s3control: S3ControlClient;
  sts: STSClient;
}

/**
 * GetDataAccess answered "no": the grant is gone (revoked, expired) or the keys are. An entry for it is
 * removed, so the next call asks AWS again rather than serving what AWS now refuses.
 */
const isRefusal = (err: unknown): boolean =>
  err instanceof NoMatchingGrantError || err instanceof AccessDeniedError || err instanceof CredentialsError;

/**
 * `clients` is called only when AWS must be asked (a cache miss). `warn` gets one line (no secret) when
 * the cache could not be used; the credentials are still printed.
 */
export async function credentialsCommand(
  clients: () => Clients | Promise<Clients>,
  request: ValidCredentialsRequest,
  cached?: CredentialsCacheUse & { warn(text: string): void },
): Promise<CredentialsResult> {
  const result = (c: CachedCredentials): CredentialsResult => ({
    kind: "credentials",
    format: request.format,
    target: request.s3Target,
    ...c,
  });
  let cache = cached;
  const unusable = (err: unknown) => {
    cached?.warn(`credential cache not used: ${err instanceof Error ? err.message : String(err)}`);
    cache = undefined;
  };
  if (cache) {
    try {
      const hit = cache.cache.read(cache.key);
      if (hit) return result(hit);
    } catch (err) {
      unusable(err);
    }
  }
  let fetched: CachedCredentials;
  try {
    fetched = await fetchCredentials(await clients(), request);
  } catch (err) {
    if (cache && isRefusal(err)) {
      try {
        cache.cache.remove(cache.key);
      } catch {
        // The refusal is what the user needs to hear about.
      }
    }
    throw err;
  }
  if (cache) {
    try {
      cache.cache.write(cache.key, fetched);
    } catch (err) {
      unusable(err);
    }
  }
  return result(fetched);
}

async function fetchCredentials(
  clients: Clients,
  request: ValidCredentialsRequest,
): Promise<CachedCredentials> {
  const [{ getAccountId }, { getDataAccess }] = await Promise.all([
    import("../../aws/account.ts"),
    import("../../aws/data-access.ts"),
  ]);
  const accountId = request.accountId ?? (await getAccountId(clients.sts));
  const access = await getDataAccess(clients.s3control, {
    accountId,
    target: request.s3Target,
    permission: request.permission,
    durationSeconds: request.durationSeconds,
    privilege: "Default",
  });
  return {
    matchedGrantTarget: access.matchedGrantTarget,
    accessKeyId: access.credentials.accessKeyId,
    secretAccessKey: access.credentials.secretAccessKey,
    sessionToken: access.credentials.sessionToken,
    expiration: access.credentials.expiration.toISOString(),
  };
}
