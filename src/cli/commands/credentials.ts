// `cytoskel credentials`: contributors trade their long-lived keys for temporary credentials
// scoped by their access grants (GetDataAccess). Printing them is the point of this command.

import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { STSClient } from "@aws-sdk/client-sts";
import { getAccountId } from "../../aws/account.ts";
import { getDataAccess } from "../../aws/data-access.ts";
import { getTarget } from "../../config/targets.ts";
import { GrantScope } from "../../rules/grant-scope.ts";
import { parsePermission } from "../../rules/permission.ts";
import { normalizePrefix } from "../../rules/prefix.ts";
import { type CredentialFormat, parseAccountId, parseCredentialFormat, parseDuration } from "../input.ts";

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
  return {
    format: parseCredentialFormat(args.format ?? "env"),
    targetName: target.name,
    region: target.region,
    s3Target: GrantScope.of(target.bucket, subPrefix).uri,
    permission: parsePermission(args.permission ?? "READWRITE"),
    durationSeconds: parseDuration(args.duration ?? "12h"),
    accountId: args.accountId === undefined ? undefined : parseAccountId(args.accountId),
  };
}

export async function credentialsCommand(
  clients: { s3control: S3ControlClient; sts: STSClient },
  request: ValidCredentialsRequest,
): Promise<CredentialsResult> {
  const accountId = request.accountId ?? (await getAccountId(clients.sts));
  const access = await getDataAccess(clients.s3control, {
    accountId,
    target: request.s3Target,
    permission: request.permission,
    durationSeconds: request.durationSeconds,
    privilege: "Default",
  });
  return {
    kind: "credentials",
    format: request.format,
    target: request.s3Target,
    matchedGrantTarget: access.matchedGrantTarget,
    accessKeyId: access.credentials.accessKeyId,
    secretAccessKey: access.credentials.secretAccessKey,
    sessionToken: access.credentials.sessionToken,
    expiration: access.credentials.expiration.toISOString(),
  };
}
