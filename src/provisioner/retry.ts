// The provisioner's in-process retries (provisioning a request, running an admin job) on the one retry
// helper, src/runtime/retry.ts, whose header states the whole budget. What is retried here: failures
// a retry can fix (src/service/errors.ts isRetryable) that no layer below already retried — not the
// SDK's throttling / 5xx / network errors (src/aws/errors.ts retriedBySdk), not the WebClient's
// transport errors, not what an inner retry gave up on (the lock's wait, the store's contention).

import { retriedBySdk } from "../aws/errors.ts";
import { type RetryResult, retry } from "../runtime/retry.ts";
import { slackRetryAfterMs } from "../runtime/slack-client.ts";
import { isRetryable } from "../service/errors.ts";
import { SlackNotifyError } from "../service/notifier.ts";

export interface RetryPolicy {
  /** Tries per request within one invocation (default 3; PROVISION_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** First backoff; doubles each try, with ±50% jitter (default 1000 ms; PROVISION_BACKOFF_MS). */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Lambda's context.getRemainingTimeInMillis; retries stop early rather than be cut off. */
  remainingTimeMs?: () => number;
  /** Time one attempt may need; no retry (and no record) starts with less than this left (default 20 s). */
  attemptBudgetMs?: number;
  /** Jitter source, [0, 1) (tests). */
  random?: () => number;
}

export const DEFAULT_ATTEMPT_BUDGET_MS = 20_000;

/**
 * WebClient errors its own retryConfig already retried (codes of @slack/web-api's ErrorCode): the request
 * got no answer, or an HTTP status other than 200 (a 429 is waited out and retried before either). A
 * platform error (`ok: false`, e.g. `internal_error`) is not retried by the WebClient.
 */
const WEBCLIENT_RETRIED = new Set(["slack_webapi_request_error", "slack_webapi_http_error"]);

export function retriedByWebClient(err: unknown): boolean {
  return err instanceof SlackNotifyError && WEBCLIENT_RETRIED.has(err.slackError ?? "");
}

/** Whether the provisioner's own attempts should try `err` again. */
export function retriesInProcess(err: unknown): boolean {
  return isRetryable(err) && !retriedBySdk(err) && !retriedByWebClient(err);
}

/** Time enough left to start one attempt (always, without a Lambda clock). */
export function hasTimeForAttempt(policy: RetryPolicy): boolean {
  return (
    !policy.remainingTimeMs ||
    policy.remainingTimeMs() >= (policy.attemptBudgetMs ?? DEFAULT_ATTEMPT_BUDGET_MS)
  );
}

/** Runs `work` under `policy`; the result says whether it succeeded and, if not, why it stopped. */
export function withRetries<T>(
  work: () => Promise<T>,
  policy: RetryPolicy,
  hooks: { onAttemptFailed?(err: unknown, attempt: number): Promise<void> | void } = {},
): Promise<RetryResult<T>> {
  return retry(work, {
    maxAttempts: policy.maxAttempts ?? 3,
    baseDelayMs: policy.backoffMs ?? 1_000,
    retryable: retriesInProcess,
    waitAskedMs: slackRetryAfterMs,
    reserveMs: policy.attemptBudgetMs ?? DEFAULT_ATTEMPT_BUDGET_MS,
    ...(policy.remainingTimeMs ? { remainingMs: policy.remainingTimeMs } : {}),
    ...(policy.sleep ? { sleep: policy.sleep } : {}),
    ...(policy.random ? { random: policy.random } : {}),
    ...(hooks.onAttemptFailed ? { onAttemptFailed: hooks.onAttemptFailed } : {}),
  });
}
