/**
 * The one retry helper: every hand-rolled backoff loop in src/ (the provisioner's in-process attempts,
 * the per-person lock's wait, the request store's TransactionConflict retries) is a call of `retry`.
 * It tries `work` up to `maxAttempts` times, backs off exponentially with ±50 % jitter, never starts a
 * backoff that would end with less than `reserveMs` of `remainingMs()` left (the deadline: Lambda's
 * remaining time, or a wait limit), and retries only what the caller's `retryable` says a retry here
 * can fix. It imports nothing of ours; the callers bring the classification.
 *
 * ## The budget, layer by layer (production settings)
 *
 * Each failure class is retried by exactly ONE layer, so the layers add up instead of multiplying:
 *
 * 1. AWS SDK, per HTTP call. createAwsClients (src/aws/clients.ts) leaves `maxAttempts` at the SDK's
 *    default, 3, in the "standard" retry mode (its own backoff, base 100 ms, cap 20 s, and a retry quota):
 *    throttling (Throttling*, ProvisionedThroughputExceeded, 429), 5xx, timeouts and connection errors.
 *    Those are what `retriedBySdk` (src/aws/errors.ts) names; no layer above retries them again.
 *    Every client also has a connection timeout and a per-request timeout (AWS_CONNECTION_TIMEOUT_MS,
 *    AWS_REQUEST_TIMEOUT_MS in src/aws/clients.ts): a dropped or hung connection is a transient
 *    network error the SDK retries, never a call that waits until Lambda kills the invocation.
 * 2. Slack WebClient, per call: `retryConfig.retries` SLACK_MAX_RETRIES, default 1
 *    (src/runtime/slack-client.ts, the one policy of every function), i.e. 2 tries of transport
 *    failures (a request past SLACK_REQUEST_TIMEOUT_MS included) and 5xx; the provisioner does not
 *    retry those either (src/provisioner/retry.ts). A 429 is NOT waited out by the WebClient
 *    (`rejectRateLimitedCalls`): its Retry-After can be minutes, longer than any of our functions may
 *    wait. The bot answers "Slack is busy" at once; the provisioner's attempts (layer 3) retry it after
 *    at least the Retry-After (`waitAskedMs`) if that fits the invocation, else it fails visibly (FAILED
 *    with the reason, or the job FAILED), leaving what a retry resumes; the expiry job's next run retries.
 * 3. This helper, in process, for what no layer below retries:
 *    - the provisioner (src/provisioner/retry.ts): PROVISION_MAX_ATTEMPTS tries (default 3, at most 10)
 *      of a whole provisioning or admin job, first backoff PROVISION_BACKOFF_MS (default 1 s), and no
 *      retry starts with less than `attemptBudgetMs` (20 s) + the backoff left of the invocation
 *      (provisioner `timeout` Duration.minutes(2), cdk/lib/bot-functions.ts). It retries IAM's eventual
 *      consistency (a new user not yet accepted as a grantee), Slack platform errors that are not
 *      permanent, and unknown errors;
 *    - the per-person lock (src/service/user-lock.ts): polls a held lock from 25 ms up to 500 ms apart
 *      until `waitMs` (20 s) has passed, then LockBusyError;
 *    - the request store (src/store/requests.ts): a transaction cancelled only by TransactionConflict
 *      (which the SDK does not retry) gets 1 + CONFLICT_RETRIES = 4 tries, 25 ms first backoff.
 *    An error an inner `retry` gave up on is marked (`alreadyRetried`), and no outer `retry` retries it:
 *    the lock's LockBusyError and the store's contention are not retried by the provisioner's attempts.
 * 4. Lambda's event source mapping on the stream (cdk/lib/constructs/provisioner-trigger.ts): `retryAttempts`
 *    STREAM_RETRY_ATTEMPTS = 5 (6 deliveries), `maxRecordAge` STREAM_MAX_RECORD_AGE = 6 h, then the
 *    ProvisionerDlq. A record is handed back only when the person's lock stayed busy (before any IAM or
 *    S3 Control call: someone else's work is running), when too little time is left to start it (no
 *    call made), or when even FAILED / the job's end could not be written. Attempts that ran out of time
 *    end in FAILED like attempts that ran out of tries; they are not redelivered to start over.
 *    `bisectBatchOnError` applies only when the function itself errors (a crash or a timeout), which the
 *    deadline above is there to prevent.
 *
 * Worst case for one operation of one stream record (say CreateAccessGrant): 3 HTTP calls when one
 * failure class persists (the SDK's tries, or PROVISION_MAX_ATTEMPTS single calls); 3 × 3 = 9 when on
 * each of the 3 attempts the SDK needed all its tries for it and a later step then failed with an error
 * only the attempts retry; and, only if FAILED itself cannot be written each time, that again on each
 * of the 6 deliveries (54). A busy lock costs one read and at most `waitMs` of polling per delivery. A
 * Slack DM: 2 WebClient tries per provisioning attempt; the denial DM is handed back to Lambda only for
 * a Slack platform error the WebClient does not retry (at most 6 deliveries, one call each).
 */

export interface RetryOptions {
  /** Tries in all, the first included (≥ 1). Infinity is allowed when `remainingMs` bounds the loop. */
  maxAttempts: number;
  /** Backoff after the first failed try; doubles each time, then ±50 % jitter. */
  baseDelayMs: number;
  /** Cap on one backoff before jitter (default: none). */
  maxDelayMs?: number;
  /** Whether a retry here can fix `err` (permanent errors and those a lower layer retried: false). */
  retryable(err: unknown): boolean;
  /** Time left until the deadline (Lambda's getRemainingTimeInMillis, or a wait limit). */
  remainingMs?: () => number;
  /** Time one more try needs: no backoff starts that would leave less than this (default 0). */
  reserveMs?: number;
  onAttemptFailed?(err: unknown, attempt: number): void | Promise<void>;
  /** The least wait `err` itself asks for (Slack's Retry-After on a 429), in ms; the backoff is at least
   *  that, and a wait that would pass the deadline is not started. */
  waitAskedMs?(err: unknown): number | undefined;
  /** Tests pass a fake clock's sleep; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1); default Math.random. */
  random?: () => number;
}

/** Why the helper gave up: the error is not for this layer to retry, the tries ran out, or the time. */
export type RetryStop = "not-retryable" | "attempts" | "deadline";

export type RetryResult<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: unknown; attempts: number; stoppedBy: RetryStop };

const RETRIED = Symbol.for("cytoskel.retried");

/** Marks `err` as retried to the end of some layer's budget, so no outer `retry` retries it again. */
export function markRetried<E>(err: E): E {
  if (typeof err === "object" && err !== null && !Object.isFrozen(err)) {
    Object.defineProperty(err, RETRIED, { value: true, enumerable: false, configurable: true });
  }
  return err;
}

/** `err`, or an error it wraps (`cause`, a few levels deep), was given up on by an inner retry loop. */
export function alreadyRetried(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    if ((e as { [RETRIED]?: boolean })[RETRIED] === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The backoff after failed try number `attempt` (1-based): min(cap, base·2^(attempt−1)) · [0.5, 1.5). */
export function backoffMs(
  attempt: number,
  opts: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs" | "random">,
): number {
  const nominal = Math.min(
    opts.maxDelayMs ?? Number.POSITIVE_INFINITY,
    opts.baseDelayMs * 2 ** (attempt - 1),
  );
  return Math.round(nominal * (0.5 + (opts.random ?? Math.random)()));
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` until it succeeds or the budget says stop; never throws what `work` threw (see result). */
export async function retry<T>(
  work: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<RetryResult<T>> {
  const maxAttempts = Math.max(1, opts.maxAttempts);
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await work(attempt), attempts: attempt };
    } catch (err) {
      await opts.onAttemptFailed?.(err, attempt);
      if (alreadyRetried(err) || !opts.retryable(err)) {
        return { ok: false, error: err, attempts: attempt, stoppedBy: "not-retryable" };
      }
      if (attempt >= maxAttempts) {
        return { ok: false, error: markRetried(err), attempts: attempt, stoppedBy: "attempts" };
      }
      const delay = Math.max(backoffMs(attempt, opts), opts.waitAskedMs?.(err) ?? 0);
      if (opts.remainingMs && opts.remainingMs() < delay + (opts.reserveMs ?? 0)) {
        return { ok: false, error: markRetried(err), attempts: attempt, stoppedBy: "deadline" };
      }
      await sleep(delay);
    }
  }
}
