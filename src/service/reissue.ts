/**
 * Re-issue (admin action, for lost or leaked links): replace the person's access key and make a new
 * one-time link. The caller DMs `link.url` (unfurling off) and tells the admin.
 *
 * Order: old keys are deleted before the new one is made, so a leaked key dies first (and IAM's
 * two-keys-per-user limit never gets in the way). Every step can be retried: a crash after the
 * delete leaves no key (the retry just makes one); a crash after the create leaves an undelivered
 * key, which the retry deletes like any other.
 *
 * The new key is recorded as the anchor request's `progress.accessKey`. That request already
 * carries a recorded DM, so the provisioner counts the new key as delivered and reuses it for the
 * next prefix instead of deleting it as "undelivered".
 */

import type { IAMClient } from "@aws-sdk/client-iam";
import { createAccessKey, deleteAccessKey, listAccessKeys } from "../aws/access-keys.ts";
import { findUser } from "../aws/iam-users.ts";
import type { Target } from "../config/targets.ts";
import type { Actor } from "../rules/lifecycle.ts";
import { type IssuedSecretLink, issueSecretLink, type SecretLinkWriter } from "../secret-link/issue.ts";
import { collectAll } from "../store/paging.ts";
import type {
  AccessRequest,
  NewAuditEvent,
  Page,
  PageOptions,
  ProgressData,
  ProgressStep,
} from "../store/types.ts";
import { personLockName } from "./deps.ts";

export interface ReissueDeps {
  iam: IAMClient;
  store: {
    get(id: string): Promise<AccessRequest | undefined>;
    listActiveByUser(userId: string, page?: PageOptions): Promise<Page<AccessRequest>>;
    recordProgress<S extends ProgressStep>(
      id: string,
      step: S,
      data: ProgressData[S],
      actor?: { kind: "system"; id: string },
    ): Promise<unknown>;
  };
  /** put for the new link; consume to retire the person's earlier, now useless, links. */
  secrets: SecretLinkWriter & { consume(id: string, nowEpochSeconds: number): Promise<unknown> };
  target: Pick<Target, "bucket" | "region" | "iamPath">;
  /** Origin of the secret-link service, e.g. https://abc.lambda-url.us-east-1.on.aws */
  secretLinkBaseUrl: string;
  secretLinkTtlSeconds?: number;
  /** Records who re-issued and why (the store records the progress steps itself). */
  audit?: { append(event: NewAuditEvent): Promise<unknown> };
  /** The per-person lock the provisioner, revoke and expiry hold; pass it in production. */
  locks?: { withLock<T>(name: string, fn: () => Promise<T>): Promise<T> };
  now?: () => Date;
  log?: { info(event: string, fields?: Record<string, unknown>): void };
}

export interface ReissueInput {
  /** Slack user ID of the person whose credentials are replaced. */
  userId: string;
  /** The admin (or other actor) asking; recorded in the audit trail. */
  actor: Actor;
  reason?: string;
}

export interface ReissueResult {
  /** DM `link.url` to the person; it is a secret (never log it). */
  link: IssuedSecretLink;
  userId: string;
  iamUserName: string;
  /** The new key's ID (not secret). */
  accessKeyId: string;
  deletedAccessKeyIds: string[];
  /** Earlier links that were retired (ids only). */
  retiredLinkCount: number;
  /** The request the new key and link are recorded on. */
  requestId: string;
  /** Sub-prefixes the new key covers, e.g. ["cpg0042/*"]. */
  scopes: string[];
}

/** The person holds no active access, so there is no key to replace. */
export class NothingToReissueError extends Error {
  override readonly name: string = "NothingToReissueError";
  constructor(readonly userId: string) {
    super(`${userId} has no active access, so there are no credentials to re-issue`);
  }
}

/** The person's requests name an IAM user that no longer exists (deleted outside cytoskel). */
export class IamUserGoneError extends NothingToReissueError {
  override readonly name = "IamUserGoneError";
  constructor(
    userId: string,
    readonly iamUserName: string,
  ) {
    super(userId);
    this.message = `${userId}'s IAM user ${iamUserName} no longer exists, so there are no credentials to re-issue`;
  }
}

export const REISSUE_ACTOR = { kind: "system", id: "reissue" } as const;
export const AUDIT_ACTION_REISSUED = "credentials.reissued";

async function activeRequests(deps: ReissueDeps, userId: string): Promise<AccessRequest[]> {
  const listed = await collectAll((cursor) => deps.store.listActiveByUser(userId, cursor ? { cursor } : {}));
  // The index is eventually consistent: re-read each request before trusting its status.
  const fresh = await Promise.all(listed.map((r) => deps.store.get(r.id)));
  return fresh.filter((r): r is AccessRequest => r?.status === "ACTIVE");
}

export async function reissueCredentials(deps: ReissueDeps, input: ReissueInput): Promise<ReissueResult> {
  const run = () => reissueUnlocked(deps, input);
  return deps.locks ? deps.locks.withLock(personLockName(input.userId), run) : run();
}

async function reissueUnlocked(deps: ReissueDeps, input: ReissueInput): Promise<ReissueResult> {
  const now = () => (deps.now ? deps.now() : new Date());
  const active = await activeRequests(deps, input.userId);
  // The newest active request that knows the IAM user anchors the new key and link.
  const anchor = active
    .filter((r) => r.progress.iamUser?.userName && r.progress.dm)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (!anchor?.progress.iamUser) throw new NothingToReissueError(input.userId);
  const iamUserName = anchor.progress.iamUser.userName;
  // The new key opens only what this IAM user holds: a person with requests under another org part has
  // another IAM user, whose key, links and scopes this re-issue leaves as they are.
  const served = active.filter(
    (r) => r.progress.iamUser?.userName.toLowerCase() === iamUserName.toLowerCase(),
  );
  // Asked with ListUsers under the path: on a user that is gone, the key calls below would get
  // AccessDenied from a path-scoped role (AWS cannot judge them on the missing user's path).
  if (!(await findUser(deps.iam, iamUserName, { pathPrefix: deps.target.iamPath }))) {
    throw new IamUserGoneError(input.userId, iamUserName);
  }

  const oldKeys = await listAccessKeys(deps.iam, iamUserName);
  for (const key of oldKeys) {
    await deleteAccessKey(deps.iam, { userName: iamUserName, accessKeyId: key.accessKeyId });
  }
  const fresh = await createAccessKey(deps.iam, iamUserName);
  await deps.store.recordProgress(
    anchor.id,
    "accessKey",
    { accessKeyId: fresh.accessKeyId, created: true },
    REISSUE_ACTOR,
  );

  // Unopened earlier links now hold a deleted key: make them answer "already opened or expired".
  const nowSeconds = Math.floor(now().getTime() / 1000);
  const earlierLinks = [
    ...new Set(served.flatMap((r) => (r.progress.secret ? [r.progress.secret.linkId] : []))),
  ];
  for (const linkId of earlierLinks) await deps.secrets.consume(linkId, nowSeconds);

  const scopes = [...new Set(served.map((r) => r.subPrefix))].sort();
  const permissions = new Set(served.map((r) => r.permission));
  const link = await issueSecretLink({
    secrets: deps.secrets,
    baseUrl: deps.secretLinkBaseUrl,
    payload: {
      accessKeyId: fresh.accessKeyId,
      secretAccessKey: fresh.secretAccessKey,
      bucket: deps.target.bucket,
      region: deps.target.region,
      scopes,
      // One permission for the credential_process snippet only when every grant has the same one.
      ...(permissions.size === 1 ? { permission: [...permissions][0] } : {}),
      instructions:
        "These credentials replace your earlier ones, which no longer work. " +
        "Update ~/.aws/credentials with the new access key.",
      requester: { userId: input.userId },
    },
    requestId: anchor.id,
    requesterUserId: input.userId,
    ...(deps.secretLinkTtlSeconds ? { ttlSeconds: deps.secretLinkTtlSeconds } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  await deps.store.recordProgress(
    anchor.id,
    "secret",
    { linkId: link.id, expiresAt: Math.floor(link.expiresAt.getTime() / 1000) },
    REISSUE_ACTOR,
  );

  const deletedAccessKeyIds = oldKeys.map((k) => k.accessKeyId);
  await deps.audit?.append({
    requestId: anchor.id,
    subjectUserId: input.userId,
    actor: input.actor,
    action: AUDIT_ACTION_REISSUED,
    ...(input.reason ? { reason: input.reason } : {}),
    details: {
      accessKeyId: fresh.accessKeyId,
      deletedKeys: deletedAccessKeyIds.join(","),
      retiredLinks: earlierLinks.length,
    },
  });
  deps.log?.info("reissue.done", {
    userId: input.userId,
    requestId: anchor.id,
    accessKeyId: fresh.accessKeyId,
    deletedKeys: deletedAccessKeyIds.length,
  });
  return {
    link,
    userId: input.userId,
    iamUserName,
    accessKeyId: fresh.accessKeyId,
    deletedAccessKeyIds,
    retiredLinkCount: earlierLinks.length,
    requestId: anchor.id,
    scopes,
  };
}
