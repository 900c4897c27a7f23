/**
 * The scheduled job tells the admin channel about its own failures, once per failure kind: a kind is
 * the part of the sweep that failed and what kind of failure it was (e.g. `expire:aws-permission`, a
 * revoke denied by IAM; `remind:slack`; `expire:aws-throttled`). Runs come every few minutes, so each
 * kind is posted when it first appears, not again while it persists, and again only after a run
 * without it (it recovered) followed by a run with it. The record of what was posted is one small item
 * per kind (src/store/sweep-failures.ts).
 *
 * Store calls per run: 1 Query, always; + 1 PutItem per kind failing for the first time (the claim,
 * before the post, so two overlapping runs post it once); + 1 DeleteItem per kind that recovered (or
 * whose post Slack refused, so the next run tries again). A steady run, failing or not, makes 1.
 */
import type { SlackMessage } from "../slack/blocks.ts";
import { context, escapeMrkdwn, section } from "../slack/blocks.ts";
import { nowOf, type ServiceDeps, silentLogger } from "./deps.ts";
import { describeFailure, failureKind } from "./errors.ts";

/** Parts of the sweep (src/service/expiry.ts); `sweep` is the run as a whole (a listing failed). */
export type SweepPhase = "expire" | "remind" | "pending" | "announce" | "reconcile" | "sweep";

/** One failure of a run, as the report keeps it: no secrets; `reason` is the admins' wording. */
export interface SweepError {
  /** The person (expire) or request (remind, pending) it concerned. */
  id: string;
  /** The error's name (what the report always carried). */
  error: string;
  phase: SweepPhase;
  /** `<phase>:<FailureKind>`: what is reported once. */
  kind: string;
  reason: string;
}

export function sweepError(phase: SweepPhase, id: string, err: unknown): SweepError {
  return {
    id,
    error: err instanceof Error ? err.name : typeof err,
    phase,
    kind: `${phase}:${failureKind(err)}`,
    reason: describeFailure(err, "expiry job"),
  };
}

export interface SweepFailureStorePort {
  list(): Promise<{ kind: string; reportedAt: string }[]>;
  claim(kind: string, reportedAt: string): Promise<boolean>;
  clear(kind: string): Promise<void>;
}

export interface SweepFailureOutcome {
  /** Kinds posted to the admin channel by this run. */
  posted: string[];
  /** Kinds that no longer fail (their record cleared). */
  recovered: string[];
  /** Kinds whose post Slack refused: the invocation should fail so the CloudWatch alarm sees it. */
  unsent: string[];
}

/**
 * Posts each new failure kind of this run and forgets the kinds it no longer met. `complete: false`
 * (the run stopped early) forgets nothing: the parts that did not run proved nothing.
 */
export async function reportSweepFailures(
  deps: Pick<ServiceDeps, "notifier" | "now" | "log"> & { sweepFailures: SweepFailureStorePort },
  errors: readonly SweepError[],
  opts: { complete: boolean },
): Promise<SweepFailureOutcome> {
  const log = deps.log ?? silentLogger;
  const outcome: SweepFailureOutcome = { posted: [], recovered: [], unsent: [] };
  const byKind = new Map<string, SweepError[]>();
  for (const e of errors) byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), e]);
  const reported = new Set((await deps.sweepFailures.list()).map((r) => r.kind));

  for (const [kind, failures] of byKind) {
    if (reported.has(kind)) continue;
    if (!(await deps.sweepFailures.claim(kind, nowOf(deps).toISOString()))) continue;
    try {
      await deps.notifier.postAdminChannel(sweepFailureMessage(failures));
      outcome.posted.push(kind);
    } catch (err) {
      log.error("expiry.failure_report_not_sent", { kind, error: err });
      outcome.unsent.push(kind);
      await deps.sweepFailures.clear(kind);
    }
  }
  if (opts.complete) {
    for (const kind of reported) {
      if (byKind.has(kind)) continue;
      await deps.sweepFailures.clear(kind);
      outcome.recovered.push(kind);
    }
  }
  return outcome;
}

const WHAT: Record<SweepPhase, string> = {
  expire: "end expired access",
  remind: "send expiry reminders",
  pending: "expire requests nobody decided",
  announce: "remind admins of requests waiting for a decision",
  reconcile: "drive stuck requests and jobs on (or close failed requests nobody retried)",
  sweep: "finish its run",
};
const SHOWN = 5;

/** One kind's post: what could not be done, for whom, why (the first failure's reason), and what next. */
export function sweepFailureMessage(failures: readonly SweepError[]): SlackMessage {
  const first = failures[0];
  if (!first) throw new Error("sweepFailureMessage needs at least one failure");
  const who = (e: SweepError) =>
    e.phase === "expire" ? `<@${escapeMrkdwn(e.id)}>` : `\`${escapeMrkdwn(e.id)}\``;
  const listed = failures.slice(0, SHOWN).map(who).join(", ");
  const more = failures.length > SHOWN ? ` and ${failures.length - SHOWN} more` : "";
  const about = first.phase === "sweep" ? "" : ` for ${listed}${more}`;
  const text = `:warning: The scheduled expiry job could not ${WHAT[first.phase]}${about}: ${escapeMrkdwn(first.reason)}`;
  const next = `It tries again on every run; this kind of failure (\`${first.kind}\`) is posted once and again only after it has worked in between.`;
  return { text, blocks: [section(text), context(next)] };
}
