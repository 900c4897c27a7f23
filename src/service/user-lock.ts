/**
 * One lease-based lock per person in the requests table, held around every change to that person's
 * IAM user, keys and grants (provision, revoke, expiry). Without it two provisions for the same person
 * (two prefixes approved at once, or a stream retry overlapping a slow first try) could each see "no
 * delivered key" and make one, or one could delete as "undelivered" the key the other is about to send.
 *
 * Pattern: conditional put of an item that carries an owner token and a lease end; a lease that ran
 * out (its holder crashed) may be taken over. The lease end is checked in code, never left to TTL.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";

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
}

const lockKey = (name: string) => ({ pk: `LOCK#${name}`, sk: "LOCK" });
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createDynamoUserLocks(opts: DynamoUserLocksOptions): UserLocks {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;

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
      let delay = 25;
      while (!(await tryAcquire(name, token, leaseMs))) {
        if (now() >= deadline) throw new LockBusyError(name);
        await sleep(delay + Math.floor(Math.random() * delay));
        delay = Math.min(delay * 2, 500);
      }
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
