/**
 * Nothing stuck (run by the scheduled job, after the expiry sweep): what a lost stream record, a card
 * that never posted, or a failure nobody retried would leave hanging is driven on through the same
 * idempotent paths.
 *
 * - **APPROVED without progress** for `stuckAfterMinutes` (the approval's stream record was lost: stream
 *   records live 24 h, a poison batch goes to the DLQ): `redriveAt` is set on it with one conditional
 *   UpdateItem (store.markRedrive, only if nothing was written since it was listed), and that record
 *   reaches the provisioner, which provisions as for the first record (src/provisioner/handler.ts). The
 *   expiry role never provisions itself: it needs no create permission.
 * - **Admin jobs queued but never run** (QUEUED, or RUNNING with a lapsed lease, untouched that long):
 *   the same redrive on the job item; the job's claim still makes the effect happen once.
 * - **A pending request whose admin card was never recorded** that long after filing: the card is posted
 *   (claimed first with one conditional UpdateItem, so two runs post it once) and recorded. A card
 *   posted whose record failed would be posted a second time: both cards decide the same request.
 * - **FAILED for longer than the pending window** with no admin Retry: under the person's lock, what
 *   its attempts left is taken apart — the person's whole IAM user when no other request of theirs is
 *   ACTIVE or APPROVED, else the grants of its scope (unless another request uses them) and every key
 *   no recorded DM delivered (as provisioning does) — then FAILED → EXPIRED, the card loses its Retry button and the person is told.
 *
 * Store calls per run: one Query per 100 APPROVED, per 100 FAILED, per 100 open jobs (the pending list
 * is the expiry sweep's own); more only for what is due.
 */
import { deleteGrant, listGrants } from "../aws/access-grants.ts";
import { NoSuchGrantError } from "../aws/errors.ts";
import { findUser } from "../aws/iam-users.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { TransitionConflictError } from "../store/errors.ts";
import type { Job } from "../store/jobs.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest } from "../store/types.ts";
import { EXPIRY_ACTOR, nowOf, personLockName, type ServiceDeps, silentLogger } from "./deps.ts";
import { adminEndedMessage, failedExpiredDm } from "./messages.ts";
import { dropUndeliveredKeys, targetSummary } from "./provision.ts";
import { deletePersonUser, personRequests } from "./revoke.ts";
import { type SweepError, sweepError } from "./sweep-failures.ts";
import { iamUserNameFor } from "./users.ts";

/** Longer than the provisioner's 2-minute timeout times its in-process attempts and Lambda's first
 *  stream retries, so a request still being worked on is not driven twice (harmless if it were: the
 *  person's lock and the provisioner's checks make a second drive find its work done). */
export const STUCK_AFTER_MINUTES = 15;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface ReconcileOptions {
  /** APPROVED requests, queued jobs and unposted cards untouched this long are driven again. */
  stuckAfterMinutes?: number;
  /** FAILED requests no admin retried within this many days end EXPIRED (the pending window). */
  failedExpiryDays: number;
  /** The admin card of a pending request (the bot's own, src/bot/admin-card.ts); none: cards are not re-posted. */
  adminCard?: (request: AccessRequest) => SlackMessage;
}

export interface ReconcileReport {
  redriven: string[];
  jobsRedriven: string[];
  cardsPosted: string[];
  failedExpired: string[];
  errors: SweepError[];
}

/** `pending`: the PENDING requests the sweep listed and did not expire. */
export async function reconcile(
  deps: ServiceDeps,
  pending: readonly AccessRequest[],
  opts: ReconcileOptions,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    redriven: [],
    jobsRedriven: [],
    cardsPosted: [],
    failedExpired: [],
    errors: [],
  };
  const now = nowOf(deps);
  const stuckBefore = now.getTime() - (opts.stuckAfterMinutes ?? STUCK_AFTER_MINUTES) * MINUTE_MS;
  const untouched = (...times: (string | undefined)[]) =>
    Math.max(...times.map((t) => (t ? Date.parse(t) : 0))) <= stuckBefore;

  const approved = await collectAll((cursor) =>
    deps.store.listByStatus("APPROVED", cursor ? { cursor } : {}),
  );
  for (const r of approved) {
    if (!untouched(r.updatedAt, r.redriveAt)) continue;
    try {
      if (await deps.store.markRedrive(r.id, r, now.toISOString())) report.redriven.push(r.id);
    } catch (err) {
      report.errors.push(sweepError("reconcile", r.id, err));
    }
  }

  const jobs = deps.jobs;
  if (jobs) {
    const open = await collectAll((cursor) => jobs.listOpen(cursor ? { cursor } : {}));
    for (const job of open) {
      if (!isJobStuck(job, now) || !untouched(job.updatedAt, job.redriveAt)) continue;
      try {
        if (await jobs.markRedrive(job.id, job, now.toISOString())) report.jobsRedriven.push(job.id);
      } catch (err) {
        report.errors.push(sweepError("reconcile", job.id, err));
      }
    }
  }

  if (opts.adminCard) {
    for (const r of pending) {
      if (r.adminMessage || !untouched(r.createdAt, r.cardClaimedAt)) continue;
      try {
        if (await postMissingCard(deps, r, opts.adminCard(r), now)) report.cardsPosted.push(r.id);
      } catch (err) {
        report.errors.push(sweepError("reconcile", r.id, err));
      }
    }
  }

  const failed = await collectAll((cursor) => deps.store.listByStatus("FAILED", cursor ? { cursor } : {}));
  const failedBefore = now.getTime() - opts.failedExpiryDays * DAY_MS;
  for (const r of failed) {
    if (Date.parse(r.lastTransition?.at ?? r.updatedAt) > failedBefore) continue;
    try {
      const ended = await deps.locks.withLock(personLockName(r.requesterUserId), () =>
        endFailed(deps, r, opts.failedExpiryDays),
      );
      if (ended) report.failedExpired.push(r.id);
    } catch (err) {
      report.errors.push(sweepError("reconcile", r.id, err));
    }
  }

  const counts = Object.fromEntries(Object.entries(report).map(([k, v]) => [k, v.length]));
  if (Object.values(counts).some((n) => n > 0)) (deps.log ?? silentLogger).info("reconcile.run", counts);
  return report;
}

/** QUEUED (its INSERT never ran it) or RUNNING with the runner's lease run out (it died). */
function isJobStuck(job: Job, now: Date): boolean {
  if (job.jobState === "QUEUED") return true;
  return job.jobState === "RUNNING" && (job.leaseUntil ?? 0) < now.getTime();
}

async function postMissingCard(
  deps: ServiceDeps,
  r: AccessRequest,
  card: SlackMessage,
  now: Date,
): Promise<boolean> {
  // Lost: another run claimed it, or the card was recorded / the request decided since the listing.
  if (!(await deps.store.claimCardPost(r.id, r.cardClaimedAt, now.toISOString()))) return false;
  const posted = await deps.notifier.postAdminChannel(card);
  await deps.store.recordAdminCard(r.id, { channel: posted.channel, ts: posted.ts });
  return true;
}

/**
 * Takes apart what a FAILED request's attempts left, then FAILED → EXPIRED. Call under the person's
 * lock. false: it is no longer FAILED (an admin retried it meanwhile).
 */
async function endFailed(deps: ServiceDeps, listed: AccessRequest, days: number): Promise<boolean> {
  // Re-read under the lock: the list came from an index, and an admin may have retried since.
  const requests = await personRequests(deps, listed.requesterUserId);
  const failed = requests.find((r) => r.id === listed.id);
  if (failed?.status !== "FAILED") return false;

  const user = await findUser(deps.iam, iamUserNameFor(failed.requesterTeamId, failed.requesterUserId), {
    pathPrefix: deps.target.iamPath,
  });
  if (user) {
    // Requests this IAM user serves (the person has one per org part: src/service/README.md).
    const holders = requests.filter(
      (r) =>
        r.id !== failed.id &&
        r.requesterTeamId === failed.requesterTeamId &&
        (r.status === "ACTIVE" || r.status === "APPROVED"),
    );
    if (holders.length === 0) {
      await deletePersonUser(deps, user.userName);
    } else {
      await removeLeftovers(deps, failed, requests, holders, user);
    }
  }

  let ended: AccessRequest;
  try {
    ended = await deps.store.transition(failed.id, {
      from: "FAILED",
      to: "EXPIRED",
      actor: EXPIRY_ACTOR,
      reason: `not retried within ${days} days; what its attempts made was removed`,
      current: failed,
    });
  } catch (err) {
    if (err instanceof TransitionConflictError) return false;
    throw err;
  }
  const target = targetSummary(deps);
  const log = deps.log ?? silentLogger;
  if (ended.adminMessage) {
    await deps.notifier
      .updateAdminMessage(
        ended.adminMessage,
        adminEndedMessage(target, ended, { status: "EXPIRED", actor: EXPIRY_ACTOR.id, at: ended.updatedAt }),
      )
      .catch((err: unknown) => log.warn("reconcile.card_update_failed", { requestId: ended.id, error: err }));
  }
  await deps.notifier
    .dmUser(ended.requesterUserId, failedExpiredDm(target, ended, days))
    .catch((err: unknown) => log.warn("reconcile.dm_failed", { requestId: ended.id, error: err }));
  return true;
}

/** The person keeps other access: only the failed request's own grant and its undelivered key go. */
async function removeLeftovers(
  deps: ServiceDeps,
  failed: AccessRequest,
  requests: readonly AccessRequest[],
  holders: readonly AccessRequest[],
  user: { userName: string; arn: string },
): Promise<void> {
  const uriOf = (r: AccessRequest) => GrantScope.of(deps.target.bucket, r.subPrefix).uri;
  const heldScopes = new Set(holders.map(uriOf));
  const heldGrantIds = new Set(holders.map((r) => r.progress.grant?.grantId).filter(Boolean));
  const grants = await listGrants(deps.s3control, { accountId: deps.accountId, granteeArn: user.arn });
  const leftover = grants.filter(
    (g) =>
      (g.id === failed.progress.grant?.grantId || g.scope.uri === uriOf(failed)) &&
      !heldGrantIds.has(g.id) &&
      !heldScopes.has(g.scope.uri),
  );
  for (const g of leftover) {
    try {
      await deleteGrant(deps.s3control, { accountId: deps.accountId, grantId: g.id });
    } catch (err) {
      if (!(err instanceof NoSuchGrantError)) throw err;
    }
  }
  // A key counts as held only once a DM carrying it was recorded; a failed attempt's key never was (it
  // may not even be recorded, when the failure came before the first write).
  await dropUndeliveredKeys(deps, user, failed.requesterUserId, requests, failed.id);
}
