// In-process retries for the provisioner's work (provisioning a request, running an admin job):
// exponential backoff with jitter, only for failures a retry can fix, and never past the time the
// Lambda invocation has left — then the record goes back to Lambda instead.
import { isRetryable } from "../service/errors.ts";

export interface RetryPolicy {
  /** Tries per request within one invocation (default 3). */
  maxAttempts?: number;
  /** First backoff; doubles each try, with ±50% jitter (default 1000 ms). */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Lambda's context.getRemainingTimeInMillis; retries stop early rather than be cut off. */
  remainingTimeMs?: () => number;
  /** Time one attempt may need; no retry starts with less than this left (default 20 s). */
  attemptBudgetMs?: number;
}

export type RetryOutcome<T> = { ok: true; value: T; attempt: number } | { ok: false; error: unknown };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` until it succeeds, fails for good, or tries run out. When too little invocation time is
 * left for another try, `beforeRedeliver` runs and the error is rethrown, so Lambda redelivers.
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  policy: RetryPolicy,
  hooks: {
    onAttemptFailed?(err: unknown, attempt: number): Promise<void> | void;
    beforeRedeliver?(): Promise<void>;
  } = {},
): Promise<RetryOutcome<T>> {
  const maxAttempts = Math.max(1, policy.maxAttempts ?? 3);
  const backoffMs = policy.backoffMs ?? 1_000;
  const sleep = policy.sleep ?? defaultSleep;
  const budget = policy.attemptBudgetMs ?? 20_000;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      return { ok: true, value: await work(), attempt };
    } catch (err) {
      lastError = err;
      await hooks.onAttemptFailed?.(err, attempt);
      if (!isRetryable(err) || attempt === maxAttempts) break;
      const delay = Math.round(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
      if (policy.remainingTimeMs && policy.remainingTimeMs() < delay + budget) {
        await hooks.beforeRedeliver?.();
        throw err;
      }
      await sleep(delay);
    }
  }
  return { ok: false, error: lastError };
}
