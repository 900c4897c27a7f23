/**
 * Lambda entry of the scheduled expiry/reminder job (EventBridge schedule, e.g. hourly).
 * Same configuration as the provisioner (SERVICE_ENV in src/service/runtime.ts), including
 * REMINDER_DAYS, PENDING_EXPIRY_DAYS and PENDING_REMINDER_HOURS; `createExpiryHandlerFromEnv` is the one wiring the Lambda
 * export, the tests and the playground share. Returns counts only; failures for single
 * people/requests are retried by the next run and posted to the admin channel once per kind
 * (src/service/sweep-failures.ts). The invocation fails when the sweep could not run through or a
 * failure could not be posted, so the stack's alarm on this function's errors sees what Slack did not.
 */

import type { Context, ScheduledEvent } from "aws-lambda";
import { adminCardFor } from "../bot/admin-card.ts";
import type { Env } from "../config/env.ts";
import { logLambdaContext } from "../log.ts";
import type { ServiceDeps } from "../service/deps.ts";
import type { ExpiryReport } from "../service/expiry.ts";
import { lazyServiceRuntime, type ServiceRuntimeOptions } from "../service/runtime.ts";
import { runScheduledSweep } from "../service/scheduled.ts";

export interface ExpiryResult {
  expired: number;
  reminded: number;
  pendingExpired: number;
  announced: number;
  /** The reconciler's (src/service/reconcile.ts): requests and jobs driven again, cards posted, FAILED closed. */
  redriven: number;
  cardsPosted: number;
  failedExpired: number;
  errors: ExpiryReport["errors"];
}

export type ExpiryHandler = (
  event: ScheduledEvent | Record<string, never>,
  context: Context,
) => Promise<ExpiryResult>;

/** `clock` lets the playground and tests run a sweep "later"; Lambda uses the real time. */
export function createExpiryHandlerFromEnv(
  env: Env,
  opts: ServiceRuntimeOptions & { clock?: ServiceDeps["now"] } = {},
): ExpiryHandler {
  const runtime = lazyServiceRuntime(env, opts);
  return async (_event, context) => {
    logLambdaContext(context);
    const { config, deps } = await runtime.get();
    const invocationDeps = await deps({ remainingTimeMs: context.getRemainingTimeInMillis() });
    const { report, failures } = await runScheduledSweep(
      opts.clock ? { ...invocationDeps, now: opts.clock } : invocationDeps,
      { ...config.expiry, adminCard: adminCardFor(config.target.bucket) },
    );
    if (failures.unsent.length > 0) {
      throw new Error(`expiry job failures not posted to Slack: ${failures.unsent.join(", ")}`);
    }
    return {
      expired: report.expired.length,
      reminded: report.reminded.length,
      pendingExpired: report.pendingExpired.length,
      announced: report.announced.length,
      redriven: report.reconciled.redriven.length + report.reconciled.jobsRedriven.length,
      cardsPosted: report.reconciled.cardsPosted.length,
      failedExpired: report.reconciled.failedExpired.length,
      errors: report.errors,
    };
  };
}

export const handler: ExpiryHandler = createExpiryHandlerFromEnv(process.env);
