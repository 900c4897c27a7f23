import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { AwsLayerError, mapAwsError } from "./errors.ts";

export interface CallerIdentity {
  accountId: string;
  arn: string;
  userId: string;
}

export async function getCallerIdentity(sts: STSClient): Promise<CallerIdentity> {
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Account || !out.Arn) {
      throw new AwsLayerError("GetCallerIdentity returned no account", { code: "EmptyResponse" });
    }
    return { accountId: out.Account, arn: out.Arn, userId: out.UserId ?? "" };
  } catch (err) {
    throw mapAwsError(err, { operation: "GetCallerIdentity" });
  }
}

/** The 12-digit account the credentials belong to (the original tool's way of finding it). */
export async function getAccountId(sts: STSClient): Promise<string> {
  return (await getCallerIdentity(sts)).accountId;
}
