/**
 * The scheduled sweep (flow 7): end ACTIVE grants past their expiresAt (EXPIRED), remind requesters
 * N days before, expire PENDING requests nobody decided, then drive on whatever is stuck
 * (./reconcile.ts). Idempotent: a run that crashed halfway is
 * finished by the next one. Every time is compared in code against the injected clock.
 *
 * Expiring one request removes only the grants it brought: a grant another ACTIVE request still uses
 * for its own scope stays; one it merely reused (broader than it needs) is replaced by a grant of its
 * own scope (see removeAccess). Reminders: DM first, then reminderSentAt; a crash in between means one
 * repeated reminder on the next run, never a missed one.
 */
import { GrantScope } from "../rules/grant-scope.ts";
import { TransitionConflictError } from "../store/errors.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest } from "../store/types.ts";
import { EXPIRY_ACTOR, nowOf, personLockName, type ServiceDeps, silentLogger } from "./deps.ts";
import { adminPendingExpiredMessage, expiryReminderDm, pendingExpiredDm } from "./messages.ts";
import { targetSummary } from "./provision.ts";
import { type ReconcileOptions, type ReconcileReport, reconcile } from "./reconcile.ts";
import { remindPending } from "./reminders.ts";
import { holds, personHolders, personRequests, removeAccess } from "./revoke.ts";
import { type SweepError, sweepError } from "./sweep-failures.ts";

export interface ExpiryOptions {
  /** Remind this many days before expiresAt; 0 turns reminders off. */
  reminderDays: number;
  /** PENDING requests older than this many days expire. */
  pendingExpiryDays: number;
  /** Re-announce undecided requests to the admin channel every this many hours; 0 or absent: off. */
  pendingReminderHours?: number;
  /** The reconciler's (src/service/reconcile.ts): how long "stuck" is, and the pending admin card. */
  stuckAfterMinutes?: number;
  adminCard?: ReconcileOptions["adminCard"];
}

export interface ExpiryReport {
  expired: string[];
  reminded: string[];
  pendingExpired: string[];
  /** Pending requests re-announced to the admin channel (src/service/reminders.ts). */
  announced: string[];
  /** What the reconciler drove on (src/service/reconcile.ts). */
  reconciled: Omit<ReconcileReport, "errors">;
  /** Per-person or per-request failures; the rest of the sweep went on. No secrets. */
  errors: SweepError[];
}

const DAY_MS = 86_400_000;

export async function runExpiry(deps: ServiceDeps, opts: ExpiryOptions): Promise<ExpiryReport> {
  const report: ExpiryReport = {
    expired: [],
    reminded: [],
    pendingExpired: [],
    announced: [],
    reconciled: { redriven: [], jobsRedriven: [], cardsPosted: [], failedExpired: [] },
    errors: [],
  };
  await expireActive(deps, report);
  if (opts.reminderDays > 0) await remind(deps, opts.reminderDays, report);
  const stillPending = await expirePending(deps, opts.pendingExpiryDays, report);
  if (opts.pendingReminderHours) {
    // The same listing: reminders cost no query of their own.
    const reminders = await remindPending(deps, stillPending, {
      intervalHours: opts.pendingReminderHours,
      pendingExpiryDays: opts.pendingExpiryDays,
    });
    report.announced.push(...reminders.announced);
    report.errors.push(...reminders.errors);
  }
  // Nothing stuck: after the pending ones expired (a stale one is not re-carded) and were announced.
  const { errors, ...reconciled } = await reconcile(deps, stillPending, {
    failedExpiryDays: opts.pendingExpiryDays,
    ...(opts.stuckAfterMinutes !== undefined ? { stuckAfterMinutes: opts.stuckAfterMinutes } : {}),
    ...(opts.adminCard ? { adminCard: opts.adminCard } : {}),
  });
  report.reconciled = reconciled;
  report.errors.push(...errors);
  (deps.log ?? silentLogger).info("expiry.run", {
    expired: report.expired.length,
    reminded: report.reminded.length,
    pendingExpired: report.pendingExpired.length,
    announced: report.announced.length,
    redriven: reconciled.redriven.length + reconciled.jobsRedriven.length,
    cardsPosted: reconciled.cardsPosted.length,
    failedExpired: reconciled.failedExpired.length,
    errors: report.errors.length,
  });
  return report;
}

async function expireActive(deps: ServiceDeps, report: ExpiryReport): Promise<void> {
  const now = nowOf(deps);
  const due = await collectAll((cursor) =>
    deps.store.listActiveExpiringBefore(now.toISOString(), cursor ? { cursor } : {}),
  );
  const people = new Set(due.map((r) => r.requesterUserId));
  for (const userId of people) {
    try {
      const ended = await deps.locks.withLock(personLockName(userId), () => expirePerson(deps, userId, now));
      report.expired.push(...ended);
    } catch (err) {
      report.errors.push(sweepError("expire", userId, err));
      (deps.log ?? silentLogger).error("expiry.person_failed", { userId, error: err });
    }
  }
}

async function expirePerson(deps: ServiceDeps, userId: string, now: Date): Promise<string[]> {
  // Re-read under the lock: the list came from an index, and an admin may have acted since.
  const requests = await personRequests(deps, userId);
  const isDue = (r: AccessRequest) =>
    r.status === "ACTIVE" && !!r.expiresAt && Date.parse(r.expiresAt) <= now.getTime();
  const expiring = requests.filter(isDue);
  if (expiring.length === 0) return [];

  // Each IAM user of the person (one per org part filed under) loses what its own expiring requests
  // brought, unless one of its own requests that stays still uses that scope.
  const uriOf = (r: AccessRequest) => GrantScope.of(deps.target.bucket, r.subPrefix).uri;
  const holders = (await personHolders(deps, userId)).map((h) => {
    const mine = requests.filter((r) => holds(h, r));
    const keptScopes = new Set(mine.filter((r) => r.status === "ACTIVE" && !isDue(r)).map(uriOf));
    const ending = mine.filter(isDue);
    const endingGrantIds = new Set(ending.map((r) => r.progress.grant?.grantId).filter(Boolean));
    const endingScopes = new Set(ending.map(uriOf));
    const doomedGrants = h.grants.filter(
      (g) => (endingGrantIds.has(g.id) || endingScopes.has(g.scope.uri)) && !keptScopes.has(g.scope.uri),
    );
    return { ...h, doomedGrants };
  });

  const removal = await removeAccess(deps, {
    userId,
    holders,
    requests,
    endingIds: new Set(expiring.map((r) => r.id)),
    status: "EXPIRED",
    actor: EXPIRY_ACTOR,
    reason: "access period ended",
  });
  return removal.endedRequestIds;
}

async function remind(deps: ServiceDeps, reminderDays: number, report: ExpiryReport): Promise<void> {
  const now = nowOf(deps);
  const horizon = new Date(now.getTime() + reminderDays * DAY_MS).toISOString();
  const soon = await collectAll((cursor) =>
    deps.store.listActiveExpiringBefore(horizon, cursor ? { cursor } : {}),
  );
  for (const listed of soon) {
    try {
      const r = await deps.store.get(listed.id);
      if (r?.status !== "ACTIVE" || !r.expiresAt || r.reminderSentAt) continue;
      if (Date.parse(r.expiresAt) <= now.getTime()) continue;
      await deps.notifier.dmUser(
        r.requesterUserId,
        expiryReminderDm(targetSummary(deps), { ...r, expiresAt: r.expiresAt }),
      );
      await deps.store.annotate(r.id, { reminderSentAt: now.toISOString() });
      report.reminded.push(r.id);
    } catch (err) {
      report.errors.push(sweepError("remind", listed.id, err));
    }
  }
}

/** Expires the stale PENDING requests; returns the others (the reminders' input). */
async function expirePending(
  deps: ServiceDeps,
  pendingExpiryDays: number,
  report: ExpiryReport,
): Promise<AccessRequest[]> {
  const now = nowOf(deps);
  const cutoff = now.getTime() - pendingExpiryDays * DAY_MS;
  const pending = await collectAll((cursor) => deps.store.listPending(cursor ? { cursor } : {}));
  const rest: AccessRequest[] = [];
  for (const r of pending) {
    if (Date.parse(r.createdAt) > cutoff) {
      rest.push(r);
      continue;
    }
    try {
      const expired = await deps.store.transition(r.id, {
        from: "PENDING",
        to: "EXPIRED",
        actor: EXPIRY_ACTOR,
        reason: `no decision within ${pendingExpiryDays} days`,
      });
      report.pendingExpired.push(r.id);
      await tellPendingExpired(deps, expired, pendingExpiryDays, report);
    } catch (err) {
      // Decided or cancelled since the list was read: theirs stands.
      if (err instanceof TransitionConflictError) continue;
      report.errors.push(sweepError("pending", r.id, err));
    }
  }
  return rest;
}

/** The card loses its buttons and the requester hears why; each independently of the other. */
async function tellPendingExpired(
  deps: ServiceDeps,
  expired: AccessRequest,
  pendingExpiryDays: number,
  report: ExpiryReport,
): Promise<void> {
  const target = targetSummary(deps);
  const said = [
    expired.adminMessage
      ? deps.notifier.updateAdminMessage(expired.adminMessage, adminPendingExpiredMessage(target, expired))
      : Promise.resolve(),
    deps.notifier.dmUser(expired.requesterUserId, pendingExpiredDm(target, expired, pendingExpiryDays)),
  ];
  for (const result of await Promise.allSettled(said)) {
    if (result.status === "rejected") report.errors.push(sweepError("pending", expired.id, result.reason));
  }
}
