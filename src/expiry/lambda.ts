/**
 * Lambda entry of the scheduled expiry/reminder job (EventBridge schedule, e.g. hourly).
 * Same configuration as the provisioner (src/service/runtime.ts), plus REMINDER_DAYS and
 * PENDING_EXPIRY_DAYS. Returns counts only; failures for single people/requests are logged and
 * retried by the next run, so the invocation fails only when nothing could run at all.
 */

import type { Context, ScheduledEvent } from "aws-lambda";
import { logLambdaContext } from "../log.ts";
import { type ExpiryReport, runExpiry } from "../service/expiry.ts";
import { lazyServiceRuntime } from "../service/runtime.ts";

const runtime = lazyServiceRuntime();

export interface ExpiryResult {
  expired: number;
  reminded: number;
  pendingExpired: number;
  errors: ExpiryReport["errors"];
}

export async function handler(
  _event: ScheduledEvent | Record<string, never>,
  context: Context,
): Promise<ExpiryResult> {
  logLambdaContext(context);
  const { deps, config } = await runtime.get();
  const report = await runExpiry(deps, config.expiry);
  return {
    expired: report.expired.length,
    reminded: report.reminded.length,
    pendingExpired: report.pendingExpired.length,
    errors: report.errors,
  };
}

export function resetExpiryForTests(): void {
  runtime.reset();
}
