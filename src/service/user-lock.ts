/**
 * One lease-based lock per person in the requests table, held around every change to that person's
 * IAM user, keys and grants (provision, revoke, expiry). Without it two provisions for the same person
 * (two prefixes approved at once, or a stream retry overlapping a slow first try) could each see "no
 * delivered key" and make one, or one could delete as "undelivered" the key the other is about to send.
 *
 * Pattern: conditional put of an item that carries an owner token and a lease end; a lease that ran
 * out (its holder crashed) may be taken over. The lease end is checked in code, never left to TTL.
 * A busy lock is polled through the one retry helper (src/runtime/retry.ts) until `waitMs` has passed;
 * the LockBusyError that ends the wait is marked retried, so the provisioner's attempts do not wait
 * again: the record goes back to Lambda instead.
 *
 * Hand-rolled, not a lock library (e.g. a DynamoDB lock client): the lock item lives in the requests
 * table under the functions' existing IAM grants, its lease follows the invocation's remaining time
 * (`leaseMs`), and it is two conditional writes; a library would bring its own table layout and a
 * heartbeat the short-lived Lambdas do not need.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { retry } from "../runtime/retry.ts";

export class LockBusyError extends Error {
  override readonly name = "LockBusyError";
  constructor(readonly lockName: string) {
    super(`another provision or revoke for ${lockName} is still running; try again shortly`);
  }
}

export interface UserLocks {
  /** Run `fn` while holding the lock named `name`; LockBusyError after waiting `waitMs` in vain. */
  withLock<T>(name: string, fn: () => Promise<T>, opts?: { leaseMs?: number; waitMs?: number }): Promise<T>;
}

export interface DynamoUserLocksOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** How long a holder may keep the lock before others may take it over (its crash is assumed). */
  leaseMs?: number;
  /** How long to wait for a busy lock before giving up with LockBusyError. */
  waitMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source, [0, 1) (tests). */
  random?: () => number;
}

const lockKey = (name: string) => ({ pk: `LOCK#${name}`, sk: "LOCK" });
/** Polls of a busy lock: 25 ms first, doubling up to 500 ms apart (±50 % jitter). */
const POLL_FIRST_MS = 25;
const POLL_MAX_MS = 500;

export function createDynamoUserLocks(opts: DynamoUserLocksOptions): UserLocks {
  const now = opts.now ?? Date.now;

  async function tryAcquire(name: string, token: string, leaseMs: number): Promise<boolean> {
    const t = now();
    try {
      await opts.doc.send(
        new PutCommand({
          TableName: opts.tableName,
          Item: {
            ...lockKey(name),
            owner: token,
            leaseUntil: t + leaseMs,
            // Housekeeping only: TTL removes forgotten lock items eventually; the lease is what counts.
            ttl: Math.ceil((t + leaseMs) / 1000) + 86_400,
          },
          ConditionExpression: "attribute_not_exists(pk) OR leaseUntil < :now",
          ExpressionAttributeValues: { ":now": t },
        }),
      );
      return true;
    } catch (err) {
      if (
        err instanceof ConditionalCheckFailedException ||
        (err as Error).name === "ConditionalCheckFailedException"
      ) {
        return false;
      }
      throw err;
    }
  }

  async function release(name: string, token: string): Promise<void> {
    try {
      await opts.doc.send(
        new DeleteCommand({
          TableName: opts.tableName,
          Key: lockKey(name),
          ConditionExpression: "#owner = :token",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":token": token },
        }),
      );
    } catch (err) {
      // Our lease ran out and someone else holds it now: not ours to delete.
      if ((err as Error).name === "ConditionalCheckFailedException") return;
      throw err;
    }
  }

  return {
    async withLock(name, fn, callOpts = {}) {
      const leaseMs = callOpts.leaseMs ?? opts.leaseMs ?? 5 * 60_000;
      const waitMs = callOpts.waitMs ?? opts.waitMs ?? 20_000;
      const token = randomUUID();
      const deadline = now() + waitMs;
      const acquired = await retry(
        async () => {
          if (!(await tryAcquire(name, token, leaseMs))) throw new LockBusyError(name);
        },
        {
          maxAttempts: Number.POSITIVE_INFINITY,
          baseDelayMs: POLL_FIRST_MS,
          maxDelayMs: POLL_MAX_MS,
          remainingMs: () => deadline - now(),
          // Only a busy lock is waited for; a DynamoDB error (already retried by the SDK) ends the wait.
          retryable: (err) => err instanceof LockBusyError,
          ...(opts.sleep ? { sleep: opts.sleep } : {}),
          ...(opts.random ? { random: opts.random } : {}),
        },
      );
      if (!acquired.ok) throw acquired.error;
      try {
        return await fn();
      } finally {
        await release(name, token);
      }
    },
  };
}

/** For code paths (and tests) that run single-threaded: an in-process mutex per name. */
export function createInProcessUserLocks(): UserLocks {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async withLock(name, fn) {
      const prev = tails.get(name) ?? Promise.resolve();
      const run = prev.catch(() => undefined).then(fn);
      tails.set(name, run);
      try {
        return await run;
      } finally {
        if (tails.get(name) === run) tails.delete(name);
      }
    },
  };
}
