/**
 * One scheduled run: the sweep (./expiry.ts), then its failures reported to the admin channel once per
 * kind (./sweep-failures.ts). What the expiry Lambda entry runs.
 */
import { nowOf, type ServiceDeps, silentLogger } from "./deps.ts";
import { type ExpiryOptions, type ExpiryReport, runExpiry } from "./expiry.ts";
import { reportSweepFailures, type SweepFailureOutcome, sweepError } from "./sweep-failures.ts";

export interface ScheduledRun {
  report: ExpiryReport;
  failures: SweepFailureOutcome;
}

const NOTHING: SweepFailureOutcome = { posted: [], recovered: [], unsent: [] };

/**
 * Throws when the sweep could not run through (a listing failed; reported first as the `sweep` kind) or
 * when the report itself failed: then the invocation fails and CloudWatch's alarm on the job's errors
 * is what reaches people.
 */
export async function runScheduledSweep(deps: ServiceDeps, opts: ExpiryOptions): Promise<ScheduledRun> {
  const log = deps.log ?? silentLogger;
  const sweepFailures = deps.sweepFailures;
  let report: ExpiryReport;
  try {
    report = await runExpiry(deps, opts);
  } catch (err) {
    if (sweepFailures) {
      // Stopped early: report the run's failure, forget no kind (the parts that did not run proved nothing).
      await reportSweepFailures({ ...deps, sweepFailures }, [sweepError("sweep", "run", err)], {
        complete: false,
      }).catch((reportErr: unknown) => log.error("expiry.failure_report_failed", { error: reportErr }));
    }
    throw err;
  }
  const failures = sweepFailures
    ? await reportSweepFailures({ ...deps, sweepFailures }, report.errors, { complete: true })
    : NOTHING;
  if (failures.posted.length || failures.recovered.length) {
    log.info("expiry.failures_reported", { ...failures, at: nowOf(deps).toISOString() });
  }
  return { report, failures };
}
