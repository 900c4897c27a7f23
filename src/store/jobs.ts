// Admin jobs (revoke, re-issue, close a prefix) queued by the bot and run by the provisioner from the table's stream.
// The bot answers Slack within its 3 s with ONE conditional put; the INSERT of the job item is the queue
// (like an approval's transition), so nothing is lost between "asked" and "done".
//
//   job   pk=JOB#<id>   sk=JOB   (TTL attribute `ttl`: done jobs age out)
//   `openJob` = "OPEN" while QUEUED or RUNNING (removed when finished) feeds the sparse openJobs index,
//   so the reconciler (src/service/reconcile.ts) finds jobs whose stream record was lost without a scan.
//
// Attribute names avoid every GSI key of requests (`status`, `createdAt`, `expiresAt`, `requesterUserId`,
// `activeUserId`, `subjectUserId`, `at`, `auditDataset`), so jobs never show up in an index: `jobState`,
// `requestedAt`, `targetUserId`.
//
// Exactly-once for a job's effect: the runner claims the job with one conditional update (QUEUED →
// RUNNING with a lease) and finishes it with another (RUNNING → DONE | FAILED). A redelivered stream
// record finds it RUNNING (lease live) or finished and does nothing, so a re-issue never rotates twice.
// A runner that died mid-job leaves RUNNING with a lease that runs out; a redelivery then takes it over.
//
// Hand-rolled on purpose, not Powertools' Idempotency utility: the job item already is the record of
// the job's state (QUEUED / RUNNING / DONE / FAILED); the bot queues it and the provisioner moves it on.
// An idempotency record keyed by a hash of the stream record would be a second copy of that state in
// another item, with its own expiry that can disagree with the lease, and it has no way to hand a job
// back to QUEUED (`release`) when the person's lock stayed busy: it would replay the saved failure.
// Three conditional UpdateItems (claim, release, finish) are the whole mechanism.
// Stream images of job items are decoded by src/store/stream-images.ts.
import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Actor } from "../rules/lifecycle.ts";
import { isConditionalCheckFailed, StoreAccessError, StoreError } from "./errors.ts";
import { queryPage } from "./paging.ts";
import { INDEX, TABLE_SCHEMA } from "./table.ts";
import type { Page, PageOptions } from "./types.ts";

export type JobKind = "revoke" | "reissue" | "close";
export type JobState = "QUEUED" | "RUNNING" | "DONE" | "FAILED";

export const JOB_PK_PREFIX = "JOB#";
export const JOB_SK = "JOB";
export const jobKey = (id: string) => ({ pk: `${JOB_PK_PREFIX}${id}`, sk: JOB_SK });

/** Where the admin who asked gets the answer (the slash command's response_url, valid 30 min). */
export interface JobReplyTo {
  responseUrl?: string;
  channelId?: string;
}

export interface NewJobInput {
  kind: JobKind;
  /** The person (revoke, re-issue); for close, which targets no one person, the admin who asked. */
  targetUserId: string;
  /** The team of the admin who asked; the target's own team is looked up from their requests. */
  teamId?: string;
  /** revoke: the normalised sub-prefix, e.g. "cpg0042/*"; close: the prefix being closed. */
  subPrefix?: string;
  /** revoke and close: the admin's reason (recorded on each ended request's audit event, told to the person). */
  reason?: string;
  actor: Actor;
  replyTo?: JobReplyTo;
}

export interface Job extends NewJobInput {
  id: string;
  jobState: JobState;
  requestedAt: string;
  updatedAt: string;
  attempts: number;
  leaseUntil?: number;
  /** When the reconciler last drove it again (src/service/reconcile.ts): its stream record re-runs it. */
  redriveAt?: string;
  /** One line for the admin (no secrets). */
  resultText?: string;
  failureReason?: string;
  finishedAt?: string;
}

export class JobExistsError extends StoreError {
  override readonly name = "JobExistsError";
  constructor(options?: { cause?: unknown }) {
    super("a job with this ID already exists", "JobExists", options);
  }
}

export interface JobStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: () => Date;
  newId?: () => string;
  /** How long a job item stays after it was asked for (default 14 days). */
  retentionSeconds?: number;
}

const TTL = TABLE_SCHEMA.timeToLiveAttribute;
/** The attribute (and its one value) that puts a job in the openJobs index while it is not finished. */
export const OPEN_JOB_ATTRIBUTE = "openJob";
const OPEN = "OPEN";
const DEFAULT_RETENTION_SECONDS = 14 * 24 * 3600;

export class JobStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: () => Date;
  readonly #newId: () => string;
  readonly #retention: number;

  constructor(options: JobStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
    this.#retention = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
  }

  /** One conditional PutItem: the whole cost of queueing a job. */
  async enqueue(input: NewJobInput): Promise<Job> {
    const now = this.#clock();
    const at = now.toISOString();
    const job: Job = {
      ...input,
      id: this.#newId(),
      jobState: "QUEUED",
      requestedAt: at,
      updatedAt: at,
      attempts: 0,
    };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...jobKey(job.id),
            ...stripUndefined(job),
            [OPEN_JOB_ATTRIBUTE]: OPEN,
            [TTL]: Math.floor(now.getTime() / 1000) + this.#retention,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new JobExistsError({ cause: err });
      throw new StoreAccessError("job put", err);
    }
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    try {
      const out = await this.#client.send(
        new GetCommand({ TableName: this.#table, Key: jobKey(id), ConsistentRead: true }),
      );
      return out.Item ? toJob(out.Item) : undefined;
    } catch (err) {
      throw new StoreAccessError("job get", err);
    }
  }

  /**
   * QUEUED (or RUNNING with a lapsed lease) → RUNNING, leased for `leaseMs`. Returns the claimed job, or
   * `{ claimed: false, job }` with the current item when someone else holds it or it is finished.
   */
  async claim(
    id: string,
    opts: { leaseMs: number },
  ): Promise<{ claimed: true; job: Job } | { claimed: false; job: Job | undefined }> {
    const now = this.#clock();
    const nowMs = now.getTime();
    try {
      const out = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: jobKey(id),
          UpdateExpression:
            "SET jobState = :running, leaseUntil = :lease, updatedAt = :at, attempts = if_not_exists(attempts, :zero) + :one",
          ConditionExpression:
            "attribute_exists(pk) AND (jobState = :queued OR (jobState = :running AND leaseUntil < :now))",
          ExpressionAttributeValues: {
            ":running": "RUNNING",
            ":queued": "QUEUED",
            ":lease": nowMs + opts.leaseMs,
            ":now": nowMs,
            ":at": now.toISOString(),
            ":zero": 0,
            ":one": 1,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return { claimed: true, job: toJob(out.Attributes ?? {}) };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return { claimed: false, job: await this.get(id) };
      throw new StoreAccessError("job claim", err);
    }
  }

  /** RUNNING → QUEUED: hand the job back (e.g. the person's lock stayed busy and the record is retried). */
  async release(id: string): Promise<void> {
    await this.#update(id, "RUNNING", { jobState: "QUEUED", leaseUntil: 0 }, "job release");
  }

  /** RUNNING → DONE | FAILED; false when the job was not RUNNING (finished elsewhere). */
  async finish(
    id: string,
    outcome: { jobState: "DONE"; resultText: string } | { jobState: "FAILED"; failureReason: string },
  ): Promise<boolean> {
    const at = this.#clock().toISOString();
    return this.#update(id, "RUNNING", { ...outcome, finishedAt: at }, "job finish", [OPEN_JOB_ATTRIBUTE]);
  }

  /** Jobs not finished (QUEUED or RUNNING), oldest first: the reconciler's one Query per page. */
  listOpen(page: PageOptions = {}): Promise<Page<Job>> {
    return queryPage(
      { client: this.#client, tableName: this.#table },
      "list open jobs",
      page,
      {
        IndexName: INDEX.openJobs,
        KeyConditionExpression: "#open = :open",
        ExpressionAttributeNames: { "#open": OPEN_JOB_ATTRIBUTE },
        ExpressionAttributeValues: { ":open": OPEN },
      },
      toJob,
    );
  }

  /**
   * Drives a job whose stream record was lost once more: sets `redriveAt` (the provisioner runs a job
   * whose redriveAt changed) only if the job is unchanged since the caller read it.
   */
  async markRedrive(id: string, seen: Pick<Job, "jobState" | "updatedAt" | "redriveAt">, at: string) {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: jobKey(id),
          UpdateExpression: "SET redriveAt = :at",
          ConditionExpression: `jobState = :state AND updatedAt = :seen AND ${seen.redriveAt === undefined ? "attribute_not_exists(redriveAt)" : "redriveAt = :prev"}`,
          ExpressionAttributeValues: {
            ":at": at,
            ":state": seen.jobState,
            ":seen": seen.updatedAt,
            ...(seen.redriveAt ? { ":prev": seen.redriveAt } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreAccessError("job redrive", err);
    }
  }

  async #update(
    id: string,
    expected: JobState,
    set: Record<string, unknown>,
    op: string,
    remove: readonly string[] = [],
  ): Promise<boolean> {
    const fields = { ...set, updatedAt: this.#clock().toISOString() };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":expected": expected };
    remove.forEach((name, i) => {
      names[`#r${i}`] = name;
    });
    const parts = Object.entries(fields).map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: jobKey(id),
          UpdateExpression: `SET ${parts.join(", ")}${remove.length ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(", ")}` : ""}`,
          ConditionExpression: "jobState = :expected",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreAccessError(op, err);
    }
  }
}

function toJob(item: Record<string, unknown>): Job {
  const { pk: _pk, sk: _sk, [TTL]: _ttl, [OPEN_JOB_ATTRIBUTE]: _open, ...rest } = item;
  return rest as unknown as Job;
}

function stripUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
