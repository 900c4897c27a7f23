// What every admin command receives: the chosen target, SDK clients, and the account (looked up once).

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { STSClient } from "@aws-sdk/client-sts";
import { getAccountId } from "../aws/account.ts";
import type { Target, TargetName } from "../config/targets.ts";

export interface CliClients {
  iam: IAMClient;
  s3control: S3ControlClient;
  sts: STSClient;
  /** Only `audit` reads the table. */
  dynamodb?: DynamoDBClient;
}

export interface AdminContext {
  target: Target & { name: TargetName };
  /** Region the clients talk to. */
  region: string;
  clients: CliClients;
  /** The caller's account from GetCallerIdentity, fetched on first use. */
  accountId(): Promise<string>;
}

export function createAdminContext(
  target: Target & { name: TargetName },
  region: string,
  clients: CliClients,
): AdminContext {
  let account: Promise<string> | undefined;
  return {
    target,
    region,
    clients,
    accountId: () => {
      account ??= getAccountId(clients.sts);
      return account;
    },
  };
}

/** Is an Access Grants location/grant scope inside (or over) the target's bucket? */
export function scopeInBucket(scope: string, bucket: string): boolean {
  return scope === "s3://" || scope === `s3://${bucket}` || scope.startsWith(`s3://${bucket}/`);
}
