/**
 * Provisioning one APPROVED request: IAM user → access key (only when the person holds no delivered
 * key) → access grant (reuse one that covers; never a duplicate) → one-time secret link → DM → ACTIVE,
 * then the admin card is updated. Runs under the person's lock and records each step with
 * store.recordProgress, so a retry after a crash anywhere converges:
 *
 * - Keys: a secret access key can be read only once, at creation. So a key counts as held only once a
 *   DM carrying it was recorded ("delivered"); every other key of the person's user is an orphan of a
 *   crashed attempt and is deleted before a fresh one is made. The retry never ends with two keys or a
 *   key nobody can use, and a link from a crashed attempt is invalidated (its key is gone anyway).
 * - Grant: a retry first looks for a grant of the user that covers scope and permission (the one a
 *   crashed attempt created included), so it is never created twice.
 * - DM: recorded right after Slack accepts it; a retry with "dm" recorded sends nothing.
 *   Residual window: the process dies after Slack accepted the DM and before DynamoDB recorded it
 *   (one write, milliseconds; recordProgress failing there is the likely cause). The retry then cannot
 *   tell, so it replaces the key, invalidates the first link and sends a second DM that says it
 *   supersedes any earlier one. Never two usable links, never an orphan key; at worst one extra DM.
 */

import { createGrant, type Grant, getGrant, listGrants, pickCoveringGrant } from "../aws/access-grants.ts";
import { createAccessKey, deleteAccessKey, listAccessKeys, type NewAccessKey } from "../aws/access-keys.ts";
import { AlreadyExistsError, NoSuchGrantError } from "../aws/errors.ts";
import { addUserToGroup, createUser, getUser, type IamUser } from "../aws/iam-users.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import { computeExpiresAt } from "../rules/lifecycle.ts";
import { issueSecretLink } from "../secret-link/issue.ts";
import { TransitionConflictError } from "../store/errors.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest, Progress, ProgressData, ProgressStep } from "../store/types.ts";
import {
  type CrashPoint,
  grantLocation,
  nowOf,
  PROVISIONER_ACTOR,
  personLockName,
  type ServiceDeps,
  silentLogger,
} from "./deps.ts";
import { adminActiveMessage, provisionedDm, type TargetSummary } from "./messages.ts";
import type { MessageRef } from "./notifier.ts";
import { iamUserNameFor } from "./users.ts";

export type ProvisionOutcome =
  | {
      outcome: "activated";
      request: AccessRequest;
      newKey: boolean;
      grantReused: boolean;
      dm: MessageRef;
    }
  /** Nothing to do: already ACTIVE (a retried delivery), or no longer APPROVED (revoked meanwhile). */
  | { outcome: "skipped"; request: AccessRequest; reason: string };

export class NoSuchRequestToProvisionError extends Error {
  override readonly name = "NoSuchRequestToProvisionError";
  constructor(readonly requestId: string) {
    super(`no request ${requestId}`);
  }
}

export function targetSummary(deps: Pick<ServiceDeps, "target" | "accountId">): TargetSummary {
  return { bucket: deps.target.bucket, region: deps.target.region, accountId: deps.accountId };
}

export async function provisionRequest(deps: ServiceDeps, requestId: string): Promise<ProvisionOutcome> {
  const first = await deps.store.get(requestId);
  if (!first) throw new NoSuchRequestToProvisionError(requestId);
  if (first.status !== "APPROVED")
    return { outcome: "skipped", request: first, reason: `request is ${first.status}` };
  return deps.locks.withLock(personLockName(first.requesterUserId), () => provisionLocked(deps, requestId));
}

async function provisionLocked(deps: ServiceDeps, id: string): Promise<ProvisionOutcome> {
  const log = deps.log ?? silentLogger;
  // Re-read under the lock: a concurrent attempt may have finished, or a revoke may have won.
  const req = await deps.store.get(id);
  if (!req) throw new NoSuchRequestToProvisionError(id);
  if (req.status !== "APPROVED")
    return { outcome: "skipped", request: req, reason: `request is ${req.status}` };

  const progress: Progress = { ...req.progress };
  const crash = async (point: CrashPoint) => deps.hooks?.at?.(point, id);
  const record = async <S extends ProgressStep>(step: S, data: ProgressData[S]) => {
    await deps.store.recordProgress(id, step, data);
    (progress as Record<string, unknown>)[step] = { ...data, at: nowOf(deps).toISOString() };
  };

  // 1. IAM user (cheap to re-check, and a revoke may have deleted it since a recorded step).
  const user = await ensureIamUser(deps, req);
  if (!progress.iamUser || progress.iamUser.userArn !== user.arn) {
    await record("iamUser", { userName: user.userName, userArn: user.arn, created: user.created });
  }
  await crash("iamUser");

  let freshKey: NewAccessKey | undefined;
  let dm: MessageRef;
  if (progress.dm) {
    // Delivered by an earlier attempt that died before ACTIVE.
    dm = { channel: progress.dm.channel, ts: progress.dm.ts };
  } else {
    // 2. Access key.
    freshKey = await ensureDeliverableKey(deps, req, user, record, crash);
    await crash("accessKey");

    // 3. Grant.
    const grant = await ensureGrant(deps, req, user, progress);
    if (progress.grant?.grantId !== grant.grant.id) {
      await record("grant", { grantId: grant.grant.id, grantArn: grant.grant.arn, created: grant.created });
    }
    await crash("grant");

    // 4. One-time secret (new keys only).
    let link: { id: string; url: string; expiresAt: Date } | undefined;
    const earlierLink = progress.secret?.linkId;
    if (freshKey) {
      if (earlierLink) {
        // A crashed attempt's link holds a key that step 2 just deleted: make it say "already opened or expired".
        await deps.secrets.consume(earlierLink, Math.floor(nowOf(deps).getTime() / 1000));
      }
      link = await issueSecretLink({
        secrets: deps.secrets,
        baseUrl: deps.secretLinkBaseUrl,
        payload: {
          accessKeyId: freshKey.accessKeyId,
          secretAccessKey: freshKey.secretAccessKey,
          bucket: deps.target.bucket,
          region: deps.target.region,
          scopes: [req.subPrefix],
          permission: req.permission,
          requester: { userId: req.requesterUserId },
        },
        requestId: id,
        requesterUserId: req.requesterUserId,
        ...(deps.secretLinkTtlSeconds ? { ttlSeconds: deps.secretLinkTtlSeconds } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      });
      await record("secret", { linkId: link.id, expiresAt: Math.floor(link.expiresAt.getTime() / 1000) });
      await crash("secret");
    }

    // 5. DM (exactly once, barring the residual window described above).
    const message = provisionedDm(
      targetSummary(deps),
      { ...req, ...expiryFor(deps, req) },
      link ? { url: link.url, linkExpiresAt: link.expiresAt.toISOString() } : undefined,
      { replacesEarlier: Boolean(freshKey && earlierLink) },
    );
    dm = await deps.notifier.dmUser(req.requesterUserId, message);
    await crash("dmPosted");
    await record("dm", dm);
    await crash("dm");
  }

  // 6. ACTIVE.
  let active: AccessRequest;
  try {
    active = await deps.store.transition(id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: PROVISIONER_ACTOR,
      patch: expiryFor(deps, req),
    });
  } catch (err) {
    if (err instanceof TransitionConflictError && err.current === "ACTIVE") {
      const again = await deps.store.get(id);
      return { outcome: "skipped", request: again ?? req, reason: "request is ACTIVE" };
    }
    throw err;
  }
  await crash("active");

  const newKey = progress.accessKey?.created ?? false;
  const grantReused = progress.grant?.created === false;
  if (active.adminMessage) {
    // Best effort: access is granted and the requester told; a stale admin card must not undo that.
    try {
      await deps.notifier.updateAdminMessage(
        active.adminMessage,
        adminActiveMessage(targetSummary(deps), active, { newKey, grantReused }),
      );
    } catch (err) {
      log.warn("provision.admin_update_failed", { requestId: id, error: err });
    }
  }
  log.info("provision.activated", { requestId: id, newKey, grantReused });
  return { outcome: "activated", request: active, newKey, grantReused, dm };
}

function expiryFor(deps: ServiceDeps, req: AccessRequest): { expiresAt?: string } {
  return req.durationDays ? { expiresAt: computeExpiresAt(nowOf(deps), req.durationDays) } : {};
}

/**
 * The person's IAM user: created (tagged, under the target's path) when missing; always in the uploaders
 * group. CreateUser comes first: it names the path, so AWS judges it on user/<path>/NAME, which the
 * provisioner's path-scoped role covers. Asking GetUser first would not work for a new person: for a
 * user that does not exist AWS can only judge GetUser on user/NAME (no path) and answers AccessDenied,
 * not NoSuchEntity. Only once CreateUser says EntityAlreadyExists is the user read with GetUser.
 */
export async function ensureIamUser(
  deps: ServiceDeps,
  req: Pick<AccessRequest, "requesterTeamId" | "requesterUserId">,
): Promise<IamUser & { created: boolean }> {
  const userName = iamUserNameFor(req.requesterTeamId, req.requesterUserId);
  let user: IamUser;
  let created = false;
  try {
    user = await createUser(deps.iam, {
      name: userName,
      path: deps.target.iamPath,
      slackUserId: req.requesterUserId,
      slackTeamId: req.requesterTeamId,
    });
    created = true;
  } catch (err) {
    // An earlier request of this person (or the admin CLI) made it.
    if (!(err instanceof AlreadyExistsError)) throw err;
    user = await getUser(deps.iam, userName);
  }
  // Idempotent in IAM; without the group every GetDataAccess is denied.
  await addUserToGroup(deps.iam, { userName, groupName: deps.target.uploadersGroup });
  return { ...user, created };
}

/**
 * Key IDs the person received: those a recorded DM carried (or that a request reused, which an
 * earlier DM carried). `progress.dm` is written only after Slack accepted the message.
 * The requester index is eventually consistent, so it only names the candidates; each is re-read
 * consistently, or a DM recorded a moment ago by another request could look missing and its key be
 * deleted as "undelivered".
 */
export async function deliveredKeyIds(deps: ServiceDeps, userId: string): Promise<Set<string>> {
  const listed = await collectAll((cursor) => deps.store.listByRequester(userId, cursor ? { cursor } : {}));
  const candidates = listed.filter((r) => !NEVER_PROVISIONED.has(r.status));
  const fresh = await Promise.all(candidates.map((r) => deps.store.get(r.id)));
  const ids = new Set<string>();
  for (const r of fresh) {
    const keyId = r?.progress?.accessKey?.accessKeyId;
    if (keyId && r?.progress?.dm) ids.add(keyId);
  }
  return ids;
}

const NEVER_PROVISIONED = new Set(["PENDING", "DENIED", "CANCELLED"]);

async function ensureDeliverableKey(
  deps: ServiceDeps,
  req: AccessRequest,
  user: IamUser,
  record: <S extends ProgressStep>(step: S, data: ProgressData[S]) => Promise<void>,
  crash: (point: CrashPoint) => Promise<void>,
): Promise<NewAccessKey | undefined> {
  const log = deps.log ?? silentLogger;
  const [keys, delivered] = await Promise.all([
    listAccessKeys(deps.iam, user.userName),
    deliveredKeyIds(deps, req.requesterUserId),
  ]);
  const held = keys.find((k) => delivered.has(k.accessKeyId));
  for (const k of keys) {
    if (delivered.has(k.accessKeyId)) continue;
    // Made by a crashed attempt whose secret is lost (or never reached its owner): unusable, delete.
    await deleteAccessKey(deps.iam, { userName: user.userName, accessKeyId: k.accessKeyId });
    log.info("provision.undelivered_key_deleted", { requestId: req.id, accessKeyId: k.accessKeyId });
  }
  if (held) {
    await record("accessKey", { accessKeyId: held.accessKeyId, created: false });
    return undefined;
  }
  const key = await createAccessKey(deps.iam, user.userName);
  await crash("keyCreated");
  await record("accessKey", { accessKeyId: key.accessKeyId, created: true });
  return key;
}

async function ensureGrant(
  deps: ServiceDeps,
  req: AccessRequest,
  user: IamUser,
  progress: Progress,
): Promise<{ grant: Grant; created: boolean }> {
  const recorded = progress.grant?.grantId;
  if (recorded) {
    try {
      const grant = await getGrant(deps.s3control, { accountId: deps.accountId, grantId: recorded });
      if (grant.granteeArn === user.arn) return { grant, created: progress.grant?.created ?? false };
    } catch (err) {
      if (!(err instanceof NoSuchGrantError)) throw err;
    }
  }
  const scope = GrantScope.of(deps.target.bucket, req.subPrefix);
  const grants = await listGrants(deps.s3control, { accountId: deps.accountId, granteeArn: user.arn });
  const covering = pickCoveringGrant(grants, { granteeArn: user.arn, scope, permission: req.permission });
  if (covering) return { grant: covering, created: false };
  const grant = await createGrant(deps.s3control, {
    accountId: deps.accountId,
    location: grantLocation(deps),
    scope,
    permission: req.permission,
    granteeArn: user.arn,
  });
  return { grant, created: true };
}
