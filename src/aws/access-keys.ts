// Long-lived IAM access keys for contributors (they only let the holder call GetDataAccess).
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  type IAMClient,
  paginateListAccessKeys,
} from "@aws-sdk/client-iam";
import { mapAwsError } from "./errors.ts";

export interface AccessKeyInfo {
  userName: string;
  accessKeyId: string;
  status: "Active" | "Inactive" | string;
  createdAt?: Date;
}

/** A freshly created key. The secret exists only here: show it once, never log it. */
export interface NewAccessKey extends AccessKeyInfo {
  secretAccessKey: string;
}

export async function createAccessKey(iam: IAMClient, userName: string): Promise<NewAccessKey> {
  try {
    const out = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    const key = out.AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error("CreateAccessKey returned no key");
    return {
      userName: key.UserName ?? userName,
      accessKeyId: key.AccessKeyId,
      secretAccessKey: key.SecretAccessKey,
      status: key.Status ?? "Active",
      ...(key.CreateDate ? { createdAt: key.CreateDate } : {}),
    };
  } catch (err) {
    throw mapAwsError(err, { operation: "CreateAccessKey", entity: "user", userName });
  }
}

export async function listAccessKeys(iam: IAMClient, userName: string): Promise<AccessKeyInfo[]> {
  const keys: AccessKeyInfo[] = [];
  try {
    for await (const page of paginateListAccessKeys({ client: iam }, { UserName: userName })) {
      for (const k of page.AccessKeyMetadata ?? []) {
        keys.push({
          userName: k.UserName ?? userName,
          accessKeyId: k.AccessKeyId ?? "",
          status: k.Status ?? "Active",
          ...(k.CreateDate ? { createdAt: k.CreateDate } : {}),
        });
      }
    }
  } catch (err) {
    throw mapAwsError(err, { operation: "ListAccessKeys", entity: "user", userName });
  }
  return keys;
}

export async function deleteAccessKey(
  iam: IAMClient,
  opts: { userName: string; accessKeyId: string },
): Promise<void> {
  try {
    await iam.send(new DeleteAccessKeyCommand({ UserName: opts.userName, AccessKeyId: opts.accessKeyId }));
  } catch (err) {
    throw mapAwsError(err, { operation: "DeleteAccessKey", entity: "accessKey", userName: opts.userName });
  }
}
