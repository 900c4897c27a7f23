/**
 * Provisioning one APPROVED request: IAM user → access key (only when the person holds no delivered
 * key) → access grant (reuse one that covers; never a duplicate) → one-time secret link → DM → ACTIVE,
 * then the admin card is updated. Runs under the person's lock, so a retry after a crash anywhere
 * converges. It writes the request twice (a first provisioning is 6 DynamoDB calls: read, lock, read
 * under the lock, these two transactions, unlock; counted in test/service/provision.test.ts):
 *   1. before the DM, only when a fresh key was made: the secret item + the progress so far (user, key,
 *      grant, link id), one transaction;
 *   2. the DM's progress (and, for a held key, every step) + → ACTIVE + their audit events, one transaction.
 * The user, key and grant steps need no write of their own, because a retry rediscovers them:
 *
 * - User: CreateUser answers EntityAlreadyExists and GetUser reads it; AddUserToGroup is idempotent.
 * - Keys: a secret access key can be read only once, at creation. So a key counts as held only once a
 *   DM carrying it was recorded ("delivered"); every other key of the person's user is an orphan of a
 *   crashed attempt and is deleted before a fresh one is made. A fresh key whose attempt dies before
 *   write 1 is such an orphan (its secret was only in that process). The retry never ends with two keys
 *   or a key nobody can use, and a link from a crashed attempt is invalidated (its key is gone anyway).
 * - Grant: a retry first looks for a grant of the user that covers scope and permission (the one a
 *   crashed attempt created included), so it is never created twice. (Created by a crashed attempt and
 *   not yet recorded, it is recorded as reused: only the admin card's wording shows it.)
 * - Link: stored in write 1 with its id, before the DM names it, so the link works when it arrives and
 *   a retry can kill it.
 * - DM: recorded with → ACTIVE (write 2); a retry with "dm" recorded sends nothing.
 *   Residual window: the process dies after Slack accepted the DM and before write 2 committed
 *   (one write, milliseconds; that write failing is the likely cause). The retry then cannot
 *   tell, so it replaces the key, invalidates the first link and sends a second DM that says it
 *   supersedes any earlier one. Never two usable links, never an orphan key; at worst one extra DM.
 *   Should → ACTIVE be refused after the DM (the request moved on meanwhile), the DM is recorded on its
 *   own, so its key still counts as delivered.
 */

import { createGrant, type Grant, getGrant, listGrants, pickCoveringGrant } from "../aws/access-grants.ts";
import { createAccessKey, deleteAccessKey, listAccessKeys, type NewAccessKey } from "../aws/access-keys.ts";
import { AlreadyExistsError, NoSuchGrantError } from "../aws/errors.ts";
import { addUserToGroup, createUser, getUser, type IamUser } from "../aws/iam-users.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import { computeExpiresAt } from "../rules/lifecycle.ts";
import { sealSecretLink } from "../secret-link/issue.ts";
import { TransitionConflictError } from "../store/errors.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest, Progress, ProgressData, ProgressStep, ProgressUpdate } from "../store/types.ts";
import { applyApprovedChange, type ChangeOutcome } from "./change.ts";
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
  | { outcome: "skipped"; request: AccessRequest; reason: string }
  /** An approved change applied to the request it changes (src/service/change.ts). */
  | Extract<ChangeOutcome, { outcome: "changed" }>;

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
  // An extension / upgrade of access held: no user, key or link, the held request changes (change.ts).
  if (req.changeOf) return applyApprovedChange(deps, req);

  const progress: Progress = { ...req.progress };
  const crash = async (point: CrashPoint) => deps.hooks?.at?.(point, id);
  // Steps done but not yet written: they go with the next write. Two writes in all (calls counted in
  // test/service/provision.test.ts), each conditioned on the copy of the request they follow (`copy`),
  // so neither reads first: the user, key and grant steps are rediscovered from IAM and Access Grants
  // by a retry, so they need no write of their own; only the link must be recorded before the DM.
  const unwritten: ProgressUpdate = {};
  const done = <S extends ProgressStep>(step: S, data: ProgressData[S]) => {
    (unwritten as Record<string, unknown>)[step] = data;
    (progress as Record<string, unknown>)[step] = { ...data, at: nowOf(deps).toISOString() };
  };
  const takeUnwritten = (): ProgressUpdate => {
    const steps = { ...unwritten };
    for (const step of Object.keys(unwritten)) delete (unwritten as Record<string, unknown>)[step];
    return steps;
  };
  let copy = req;

  // 1. IAM user (cheap to re-check, and a revoke may have deleted it since a recorded step).
  const user = await ensureIamUser(deps, req);
  if (!progress.iamUser || progress.iamUser.userArn !== user.arn) {
    done("iamUser", { userName: user.userName, userArn: user.arn, created: user.created });
  }
  await crash("iamUser");

  let freshKey: NewAccessKey | undefined;
  let dm: MessageRef;
  if (progress.dm) {
    // Delivered by an earlier attempt whose → ACTIVE did not commit (a transition refused after the DM,
    // or a crash under an earlier version that recorded the DM on its own).
    dm = { channel: progress.dm.channel, ts: progress.dm.ts };
  } else {
    // 2. Access key. A fresh one is not recorded yet: if this attempt dies before the first write, the
    // retry finds it undelivered and deletes it (its secret was only ever in this process).
    const key = await ensureDeliverableKey(deps, req, user);
    freshKey = key.fresh;
    done("accessKey", { accessKeyId: key.accessKeyId, created: key.fresh !== undefined });
    await crash("accessKey");

    // 3. Grant (a retry lists the user's grants and reuses this one, so no write is needed here).
    const grant = await ensureGrant(deps, req, user, progress);
    if (progress.grant?.grantId !== grant.grant.id) {
      done("grant", { grantId: grant.grant.id, grantArn: grant.grant.arn, created: grant.created });
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
      const sealed = await sealSecretLink({
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
      link = sealed.link;
      done("secret", { linkId: link.id, expiresAt: Math.floor(link.expiresAt.getTime() / 1000) });
      // First write, and it must come before the DM: the secret item (the link works only once it is
      // stored) with the progress so far, the link's id included, in one transaction. A retry that cannot
      // tell whether the DM went out then kills this link (above) before it sends another.
      copy = await deps.store.recordProgressSteps(id, takeUnwritten(), {
        current: copy,
        secret: sealed.record,
      });
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
    done("dm", dm);
  }

  // 6. ACTIVE, with the DM (and, for a held key, every step) recorded in the same transaction: the DM
  // is recorded exactly when the request becomes ACTIVE, so the residual window stays the one above.
  let active: AccessRequest;
  const lastSteps = takeUnwritten();
  try {
    active = await deps.store.transition(id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: PROVISIONER_ACTOR,
      patch: expiryFor(deps, req),
      current: copy,
      progress: lastSteps,
    });
  } catch (err) {
    if (err instanceof TransitionConflictError && err.current === "ACTIVE") {
      const again = await deps.store.get(id);
      return { outcome: "skipped", request: again ?? req, reason: "request is ACTIVE" };
    }
    if (err instanceof TransitionConflictError && lastSteps.dm) {
      // No longer APPROVED, but the DM went out: record it on its own, so its key counts as delivered
      // (and is not deleted as an orphan by the person's next provisioning).
      await deps.store.recordProgressSteps(id, lastSteps);
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
 * deleted as "undelivered". A request in `fresh` (read consistently under the person's lock) is not
 * read again.
 */
export async function deliveredKeyIds(
  deps: ServiceDeps,
  userId: string,
  fresh: readonly AccessRequest[] = [],
): Promise<Set<string>> {
  const listed = await collectAll((cursor) => deps.store.listByRequester(userId, cursor ? { cursor } : {}));
  const candidates = listed.filter((r) => !NEVER_PROVISIONED.has(r.status));
  const known = new Map(fresh.map((r) => [r.id, r]));
  const reread = await Promise.all(candidates.map((r) => known.get(r.id) ?? deps.store.get(r.id)));
  const ids = new Set<string>();
  for (const r of reread) {
    const keyId = r?.progress?.accessKey?.accessKeyId;
    if (keyId && r?.progress?.dm) ids.add(keyId);
  }
  return ids;
}

const NEVER_PROVISIONED = new Set(["PENDING", "DENIED", "CANCELLED"]);

/**
 * Deletes every key of the person's user that no recorded DM carried — made by a crashed or failed
 * attempt whose secret is lost (or never reached its owner): unusable. Returns the delivered one, if
 * any. Shared by provisioning and the reconciler's FAILED clean-up (src/service/reconcile.ts).
 */
export async function dropUndeliveredKeys(
  deps: ServiceDeps,
  user: Pick<IamUser, "userName">,
  userId: string,
  fresh: readonly AccessRequest[],
  requestId: string,
): Promise<{ accessKeyId: string } | undefined> {
  const log = deps.log ?? silentLogger;
  const keys = await listAccessKeys(deps.iam, user.userName);
  const delivered = keys.length > 0 ? await deliveredKeyIds(deps, userId, fresh) : new Set();
  for (const k of keys) {
    if (delivered.has(k.accessKeyId)) continue;
    await deleteAccessKey(deps.iam, { userName: user.userName, accessKeyId: k.accessKeyId });
    log.info("provision.undelivered_key_deleted", { requestId, accessKeyId: k.accessKeyId });
  }
  return keys.find((k) => delivered.has(k.accessKeyId));
}

/**
 * The key the person will use: one they hold (a delivered key), or a fresh one. Every other key of the
 * user is deleted first. A user with no key at all (a first provisioning) holds none, so the person's
 * requests are not read then.
 */
async function ensureDeliverableKey(
  deps: ServiceDeps,
  req: AccessRequest,
  user: IamUser,
): Promise<{ accessKeyId: string; fresh?: NewAccessKey }> {
  const held = await dropUndeliveredKeys(deps, user, req.requesterUserId, [req], req.id);
  if (held) return { accessKeyId: held.accessKeyId };
  const key = await createAccessKey(deps.iam, user.userName);
  return { accessKeyId: key.accessKeyId, fresh: key };
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
