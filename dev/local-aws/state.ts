// In-memory state of the local AWS stand-in. Tests read (and may seed) it directly.

import { randomBytes, randomUUID } from "node:crypto";
import { noteSecret } from "../secrets-seen.ts";

export interface LocalAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  status: "Active" | "Inactive";
  createDate: Date;
  userName: string;
}

export interface LocalUser {
  userName: string;
  userId: string;
  arn: string;
  path: string;
  createDate: Date;
  tags: Map<string, string>;
  accessKeys: LocalAccessKey[];
  /** Group names (as created). */
  groups: Set<string>;
  inlinePolicies: Map<string, string>;
  attachedPolicies: Set<string>;
  loginProfile?: { createDate: Date };
  mfaDevices: string[];
  signingCertificates: string[];
  sshPublicKeys: string[];
}

export interface LocalGroup {
  groupName: string;
  groupId: string;
  arn: string;
  path: string;
  createDate: Date;
  /** User names (as created). */
  members: Set<string>;
  inlinePolicies: Map<string, string>;
  attachedPolicies: Set<string>;
}

export interface LocalLocation {
  id: string;
  arn: string;
  scope: string;
  iamRoleArn: string;
  createdAt: Date;
}

export interface LocalGrant {
  id: string;
  arn: string;
  granteeType: string;
  granteeIdentifier: string;
  locationId: string;
  subPrefix: string;
  scope: string;
  permission: "READ" | "WRITE" | "READWRITE";
  createdAt: Date;
}

/** A role the stand-in knows, seeded from policy documents (e.g. a Lambda function's synthesized role). */
export interface LocalRole {
  roleName: string;
  roleId: string;
  arn: string;
  path: string;
  /** Identity policies by name (inline and managed alike: the stand-in evaluates their documents). */
  policies: Map<string, string>;
}

/** Temporary credentials of a role session (what Lambda hands a function: ASIA key + session token). */
export interface LocalRoleSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleName: string;
  sessionName: string;
  /** Temporary credentials vended by GetDataAccess expire; seeded Lambda sessions do not. */
  expiresAt?: Date;
}

/** One authorization decision, recorded for contract tables. */
export interface AuthorizationRecord {
  principalArn: string;
  service: string;
  operation: string;
  action: string;
  resource: string;
  /** The service condition keys the request carried (e.g. dynamodb:LeadingKeys). */
  context: Record<string, string | string[]>;
  allowed: boolean;
}

export interface LocalManagedPolicy {
  policyName: string;
  policyId: string;
  arn: string;
  path: string;
  document: string;
  createDate: Date;
}

export interface LocalInstance {
  id: string;
  arn: string;
  region: string;
  createdAt: Date;
  locations: Map<string, LocalLocation>;
  grants: Map<string, LocalGrant>;
}

export interface DataAccessRecord {
  callerArn: string;
  accessKeyId: string | undefined;
  target: string;
  permission: string;
  durationSeconds: number;
  privilege: string;
  grantId: string;
  matchedGrantTarget: string;
  expiration: Date;
}

export interface LocalSecretVersion {
  versionId: string;
  secretString: string;
  createdDate: Date;
  /** Staging labels: AWSCURRENT for the latest, AWSPREVIOUS for the one before. */
  stages: string[];
}

export interface LocalSecret {
  name: string;
  arn: string;
  createdDate: Date;
  versions: LocalSecretVersion[];
}

export interface RequestRecord {
  service: "iam" | "sts" | "s3control" | "secretsmanager" | "dynamodb" | "unknown";
  operation: string;
  status: number;
  accessKeyId: string | undefined;
  /** The Host header as received (S3 Control must not have the account ID prefixed to it). */
  host: string | undefined;
  /** Error code when status >= 300. */
  errorCode?: string;
}

export interface InjectedFault {
  /** AWS operation name, e.g. "CreateAccessGrant". */
  operation: string;
  code: string;
  status: number;
  message: string;
  /** How many more requests get this fault. */
  remaining: number;
}

export interface LocalAwsState {
  accountId: string;
  iam: {
    /** Keyed by lower-cased name: IAM names are unique regardless of case. */
    users: Map<string, LocalUser>;
    groups: Map<string, LocalGroup>;
    /** Customer managed policies by ARN (AWS managed ones, arn:aws:iam::aws:policy/..., are assumed to exist). */
    policies: Map<string, LocalManagedPolicy>;
    /** Keys that existed and were deleted: requests signed with them are refused like AWS does. */
    deletedAccessKeyIds: Set<string>;
    /** Keyed by lower-cased role name. */
    roles: Map<string, LocalRole>;
    /** Role sessions by their (ASIA…) access key id. */
    roleSessions: Map<string, LocalRoleSession>;
  };
  /** Access Grants instances by region (one per account and region, like AWS). */
  accessGrants: Map<string, LocalInstance>;
  /** Secrets by name (seeded with LocalAws.putSecret). */
  secretsManager: { secrets: Map<string, LocalSecret> };
  dataAccessCalls: DataAccessRecord[];
  /** Faults to answer instead of performing an operation (see LocalAws.failNext). */
  injectedFaults: InjectedFault[];
  /** Every request the stand-in answered, in order. */
  requests: RequestRecord[];
  /** Every authorization decision (principal, action, resource, allowed), in order. */
  authorizations: AuthorizationRecord[];
}

export function createState(accountId: string): LocalAwsState {
  return {
    accountId,
    iam: {
      users: new Map(),
      groups: new Map(),
      policies: new Map(),
      deletedAccessKeyIds: new Set(),
      roles: new Map(),
      roleSessions: new Map(),
    },
    accessGrants: new Map(),
    secretsManager: { secrets: new Map() },
    dataAccessCalls: [],
    injectedFaults: [],
    requests: [],
    authorizations: [],
  };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function randomUpper(n: number): string {
  const bytes = randomBytes(n);
  let s = "";
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

/** IAM-style unique IDs: AIDA (user), AGPA (group), AKIA (access key), ASIA (temporary). */
export function iamId(prefix: "AIDA" | "AGPA" | "AKIA" | "ASIA" | "ANPA" | "AROA"): string {
  return prefix + randomUpper(prefix === "AKIA" || prefix === "ASIA" ? 16 : 17);
}

export function secretAccessKey(): string {
  const key = randomBytes(30)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "A")
    .slice(0, 40);
  noteSecret("secret access key", key);
  return key;
}

export function grantsId(): string {
  return randomUUID();
}

/** Find the IAM user owning an access key id, if any. */
export function userForAccessKey(
  state: LocalAwsState,
  accessKeyId: string | undefined,
): LocalUser | undefined {
  if (!accessKeyId) return undefined;
  for (const u of state.iam.users.values()) {
    if (u.accessKeys.some((k) => k.accessKeyId === accessKeyId)) return u;
  }
  return undefined;
}

/** All grants of an instance, in creation order. */
export function allGrants(state: LocalAwsState, region = "us-east-1"): LocalGrant[] {
  return [...(state.accessGrants.get(region)?.grants.values() ?? [])];
}

/** Consume one injected fault for this operation, if any is pending. */
export function takeInjectedFault(state: LocalAwsState, operation: string): InjectedFault | undefined {
  const fault = state.injectedFaults.find((f) => f.operation === operation && f.remaining > 0);
  if (fault) fault.remaining -= 1;
  return fault;
}
