/**
 * Admin job items on the local DynamoDB engine: one conditional put to queue, one conditional update to
 * claim (so a redelivered stream record cannot run a job twice), lease takeover, finish, TTL, and no
 * leak into the request indexes.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { createStores } from "../../src/store/index.ts";
import { JobExistsError, JobStore, jobKey } from "../../src/store/jobs.ts";

let dynamo: LocalDynamo;
let now = new Date("2026-11-28T03:00:00.000Z");
const clock = () => now;
let n = 0;
const newId = () => `job-${++n}`;
let jobs: JobStore;

beforeAll(async () => {
  dynamo = await startDynamo();
  jobs = new JobStore({
    client: dynamo.doc,
    tableName: dynamo.tableName,
    clock,
    newId,
    retentionSeconds: 3600,
  });
}, 60_000);
afterAll(async () => {
  await dynamo?.stop();
});

const revoke = {
  kind: "revoke" as const,
  targetUserId: "UTARGET1",
  actor: { kind: "admin" as const, id: "UADMIN" },
};

describe("JobStore", () => {
  it("queues a job as one QUEUED item with a TTL, and refuses a second item with the same ID", async () => {
    const job = await jobs.enqueue({
      ...revoke,
      subPrefix: "cpg0042/*",
      replyTo: { responseUrl: "http://127.0.0.1:1/r/x" },
    });
    expect(job).toMatchObject({ jobState: "QUEUED", attempts: 0, requestedAt: now.toISOString() });
    const raw = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: jobKey(job.id) }));
    expect(raw.Item?.ttl).toBe(Math.floor(now.getTime() / 1000) + 3600);
    expect(await jobs.get(job.id)).toEqual(job);

    const fixed = new JobStore({
      client: dynamo.doc,
      tableName: dynamo.tableName,
      clock,
      newId: () => job.id,
    });
    await expect(fixed.enqueue(revoke)).rejects.toBeInstanceOf(JobExistsError);
  });

  it("lets exactly one claimer run a job; a finished job is never claimed again", async () => {
    const job = await jobs.enqueue({ ...revoke, kind: "reissue" });
    const [a, b] = await Promise.all([
      jobs.claim(job.id, { leaseMs: 60_000 }),
      jobs.claim(job.id, { leaseMs: 60_000 }),
    ]);
    expect([a.claimed, b.claimed].filter(Boolean)).toHaveLength(1);
    const loser = a.claimed ? b : a;
    expect(loser.job?.jobState).toBe("RUNNING");

    expect(await jobs.finish(job.id, { jobState: "DONE", resultText: "done" })).toBe(true);
    expect(await jobs.finish(job.id, { jobState: "FAILED", failureReason: "late" })).toBe(false);
    const again = await jobs.claim(job.id, { leaseMs: 60_000 });
    expect(again.claimed).toBe(false);
    expect(again.job).toMatchObject({ jobState: "DONE", resultText: "done", attempts: 1 });
  });

  it("takes over a RUNNING job only once its lease has lapsed, and a released job can be claimed again", async () => {
    const job = await jobs.enqueue(revoke);
    expect((await jobs.claim(job.id, { leaseMs: 10_000 })).claimed).toBe(true);
    expect((await jobs.claim(job.id, { leaseMs: 10_000 })).claimed).toBe(false);
    now = new Date(now.getTime() + 11_000);
    const takeover = await jobs.claim(job.id, { leaseMs: 10_000 });
    expect(takeover).toMatchObject({ claimed: true, job: { attempts: 2 } });

    await jobs.release(job.id);
    expect((await jobs.get(job.id))?.jobState).toBe("QUEUED");
    expect((await jobs.claim(job.id, { leaseMs: 10_000 })).claimed).toBe(true);
  });

  it("a claim of a missing job claims nothing", async () => {
    expect(await jobs.claim("no-such-job", { leaseMs: 1000 })).toEqual({ claimed: false, job: undefined });
  });

  it("jobs never show up in the request indexes (a FAILED job is not a FAILED request)", async () => {
    const job = await jobs.enqueue(revoke);
    await jobs.claim(job.id, { leaseMs: 1000 });
    await jobs.finish(job.id, { jobState: "FAILED", failureReason: "x" });
    const { requests } = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
    expect((await requests.listByStatus("FAILED")).items).toEqual([]);
    expect((await requests.listByRequester("UTARGET1")).items).toEqual([]);
  });
});
