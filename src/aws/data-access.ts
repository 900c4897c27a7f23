// GetDataAccess: trade long-lived keys for temporary credentials scoped by the caller's grants.
import { GetDataAccessCommand, type S3ControlClient } from "@aws-sdk/client-s3-control";
import type { Permission } from "../rules/permission.ts";
import { InvalidDurationError, mapAwsError } from "./errors.ts";

export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43_200;
export const DEFAULT_DURATION_SECONDS = 43_200;

export interface DataAccessInput {
  accountId: string;
  /** e.g. "s3://staging-cellpainting-gallery/cpg0042/*" */
  target: string;
  permission: Permission;
  /** 900..43200; default 12 h. */
  durationSeconds?: number;
  /** "Default" returns credentials for the whole matched grant; "Minimal" only for the target. */
  privilege?: "Default" | "Minimal";
  /** "Object" when target is a single object key rather than a prefix. */
  targetType?: "Object";
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface DataAccess {
  credentials: TemporaryCredentials;
  matchedGrantTarget: string;
}

/** Throws InvalidDurationError unless 900 <= seconds <= 43200 (an integer). */
export function validateDurationSeconds(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
    throw new InvalidDurationError(seconds, MIN_DURATION_SECONDS, MAX_DURATION_SECONDS);
  }
  return seconds;
}

export async function getDataAccess(s3control: S3ControlClient, input: DataAccessInput): Promise<DataAccess> {
  const durationSeconds = validateDurationSeconds(input.durationSeconds ?? DEFAULT_DURATION_SECONDS);
  try {
    const out = await s3control.send(
      new GetDataAccessCommand({
        AccountId: input.accountId,
        Target: input.target,
        Permission: input.permission,
        DurationSeconds: durationSeconds,
        ...(input.privilege ? { Privilege: input.privilege } : {}),
        ...(input.targetType ? { TargetType: input.targetType } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error("GetDataAccess returned incomplete credentials");
    }
    return {
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      },
      matchedGrantTarget: out.MatchedGrantTarget ?? input.target,
    };
  } catch (err) {
    throw mapAwsError(err, {
      operation: "GetDataAccess",
      accountId: input.accountId,
      target: input.target,
      permission: input.permission,
    });
  }
}
