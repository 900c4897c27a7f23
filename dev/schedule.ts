import { FUNCTION_SPECS } from "../cdk/lib/bot-functions.ts";
import type { ExpiryResult } from "../src/expiry/lambda.ts";
import { lambdaContext } from "./lambda-context.ts";
import type { Playground } from "./playground.ts";

/**
 * The playground's EventBridge schedule: runs a job every `everyMs` (the deployed rate is
 * `expiryScheduleMinutes`; the playground's is a minute, so expiry, warnings and reminders show up
 * while you watch), and on demand (`now()`, e.g. right after the clock moved). A run still going when
 * the next is due is not doubled: the next waits for the following tick.
 */
export interface Schedule {
  /** Run now unless a run is going; resolves when that run is done. */
  now(): Promise<void>;
  stop(): void;
}

export function startSchedule(run: () => Promise<void>, everyMs = 60_000): Schedule {
  let running: Promise<void> | undefined;
  const tick = (): Promise<void> => {
    if (running) return running;
    running = run()
      .catch(() => {}) // the job reports its own failures; a throw must not stop the schedule
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return { now: tick, stop: () => clearInterval(timer) };
}

/**
 * The expiry / reminder function on that schedule, at the playground's time (one cold start, then
 * warm, as on Lambda). `onRun` hears each run's counts (`npm run dev` prints those that did anything).
 */
export function scheduleExpiry(
  pg: Pick<Playground, "expiry">,
  opts: { everyMs?: number; onRun?: (result: ExpiryResult) => void; onError?: (err: Error) => void } = {},
): Schedule {
  const job = pg.expiry();
  const timeoutMs = FUNCTION_SPECS.expiry.timeout.toMilliseconds();
  return startSchedule(async () => {
    try {
      opts.onRun?.(await job({}, lambdaContext("expiry", timeoutMs)));
    } catch (err) {
      (opts.onError ?? ((e) => console.error(`[expiry job] failed: ${e.name}: ${e.message}`)))(err as Error);
    }
  }, opts.everyMs);
}
