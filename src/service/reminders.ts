/**
 * Re-announcing requests nobody decided (run by the expiry job after it expired the stale ones).
 * A request is due when `intervalHours` have passed since it was filed (its card was the first
 * announcement) or last re-announced. Each due request is claimed with one conditional UpdateItem on
 * `announcedAt` (src/store/requests.ts claimAnnouncement), so of two runs at once only one posts it;
 * then ONE admin-channel message names everything this run claimed (a digest when several), with a
 * link to each card whose place is recorded. Claim before post: a crash in between skips one interval
 * (never a double post); a failed post gives the claims back so the next run tries again.
 *
 * Store calls per run: the pending listing the expiry job already made (one Query per 100 pending),
 * plus one UpdateItem per due request (plus one per due request when the post fails). Slack: one
 * chat.getPermalink per due request with a recorded card, one chat.postMessage.
 */
import type { AccessRequest } from "../store/types.ts";
import { nowOf, type ServiceDeps, silentLogger } from "./deps.ts";
import { pendingReminderMessage, type WaitingRequest } from "./reminder-messages.ts";
import { type SweepError, sweepError } from "./sweep-failures.ts";

const HOUR_MS = 3_600_000;

export interface ReminderOptions {
  /** Re-announce after this many hours without a decision; 0 turns reminders off. */
  intervalHours: number;
  /** Shown in the message (when undecided requests expire). */
  pendingExpiryDays: number;
}

export interface ReminderOutcome {
  /** Requests this run announced (empty when none was due or another run claimed them). */
  announced: string[];
  errors: SweepError[];
}

/** When a request was last put before the admins: its last re-announcement, else its filing. */
export function lastAnnounced(r: Pick<AccessRequest, "announcedAt" | "createdAt">): string {
  return r.announcedAt ?? r.createdAt;
}

export function isReminderDue(
  r: Pick<AccessRequest, "status" | "announcedAt" | "createdAt">,
  now: Date,
  intervalHours: number,
): boolean {
  if (intervalHours <= 0 || r.status !== "PENDING") return false;
  return now.getTime() - Date.parse(lastAnnounced(r)) >= intervalHours * HOUR_MS;
}

export async function remindPending(
  deps: ServiceDeps,
  pending: AccessRequest[],
  opts: ReminderOptions,
): Promise<ReminderOutcome> {
  const outcome: ReminderOutcome = { announced: [], errors: [] };
  const log = deps.log ?? silentLogger;
  const now = nowOf(deps);
  const at = now.toISOString();
  const claimed: AccessRequest[] = [];
  for (const r of pending) {
    if (!isReminderDue(r, now, opts.intervalHours)) continue;
    try {
      // Lost: another run announced it, or it was decided since the listing. Either way, not ours.
      if (await deps.store.claimAnnouncement(r.id, r.announcedAt, at)) claimed.push(r);
    } catch (err) {
      outcome.errors.push(sweepError("announce", r.id, err));
    }
  }
  if (claimed.length === 0) return outcome;

  const waiting = await Promise.all(claimed.map((r) => withCardLink(deps, r)));
  try {
    await deps.notifier.postAdminChannel(
      pendingReminderMessage(deps.target.bucket, waiting, { expiresAfterDays: opts.pendingExpiryDays }),
    );
    outcome.announced.push(...claimed.map((r) => r.id));
  } catch (err) {
    log.error("reminders.post_failed", { count: claimed.length, error: err });
    for (const r of claimed) {
      outcome.errors.push(sweepError("announce", r.id, err));
      await deps.store.releaseAnnouncement(r.id, at, r.announcedAt).catch((e: unknown) => {
        log.warn("reminders.release_failed", { requestId: r.id, error: e });
      });
    }
  }
  return outcome;
}

/** The request as the message lists it; a card link only when Slack gives one (best effort). */
async function withCardLink(deps: ServiceDeps, r: AccessRequest): Promise<WaitingRequest> {
  const base: WaitingRequest = {
    id: r.id,
    requesterUserId: r.requesterUserId,
    subPrefix: r.subPrefix,
    permission: r.permission,
    createdAt: r.createdAt,
    ...(r.reason ? { reason: r.reason } : {}),
  };
  if (!r.adminMessage || !deps.notifier.permalink) return base;
  try {
    return { ...base, cardUrl: await deps.notifier.permalink(r.adminMessage) };
  } catch (err) {
    (deps.log ?? silentLogger).warn("reminders.permalink_failed", { requestId: r.id, error: err });
    return base;
  }
}
