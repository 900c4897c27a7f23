/**
 * The provisioner's share of the retry budget (src/provisioner/retry.ts) and what the handler does with
 * a record it cannot or should not start: a malformed stream image, no time left. Fake deps, no clock.
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { InvalidRequestError, ServiceUnavailableError, ThrottledError } from "../../src/aws/errors.ts";
import { approvedRequestId, handleProvisionerEvent } from "../../src/provisioner/handler.ts";
import { queuedJob } from "../../src/provisioner/jobs.ts";
import { retriesInProcess, withRetries } from "../../src/provisioner/retry.ts";
import { markRetried } from "../../src/runtime/retry.ts";
import type { ServiceDeps } from "../../src/service/deps.ts";
import { SlackNotifyError } from "../../src/service/notifier.ts";
import { LockBusyError } from "../../src/service/user-lock.ts";
import { StoreAccessError } from "../../src/store/errors.ts";

describe("what the provisioner's attempts retry", () => {
  it("does not retry what the SDK already retried (throttling, 5xx, network), wrapped or not", () => {
    expect(retriesInProcess(new ThrottledError({ operation: "CreateAccessGrant" }))).toBe(false);
    expect(retriesInProcess(new ServiceUnavailableError("503", { operation: "CreateUser" }))).toBe(false);
    const sdkThrottle = Object.assign(new Error("slow down"), {
      name: "ProvisionedThroughputExceededException",
      $metadata: { httpStatusCode: 400, attempts: 3 },
    });
    expect(retriesInProcess(new StoreAccessError("get request", sdkThrottle))).toBe(false);
    const sdk500 = Object.assign(new Error("boom"), {
      name: "InternalServerError",
      $metadata: { httpStatusCode: 500 },
    });
    expect(retriesInProcess(new StoreAccessError("record progress", sdk500))).toBe(false);
  });

  it("does not retry what the WebClient already retried, nor a permanent Slack error", () => {
    expect(retriesInProcess(new SlackNotifyError("dmUser", "slack_webapi_request_error"))).toBe(false);
    expect(retriesInProcess(new SlackNotifyError("dmUser", "slack_webapi_http_error"))).toBe(false);
    expect(retriesInProcess(new SlackNotifyError("dmUser", "channel_not_found"))).toBe(false);
    expect(retriesInProcess(new SlackNotifyError("dmUser", "internal_error"))).toBe(true);
  });

  it("retries what only it can fix: IAM's eventual consistency, unknown errors", () => {
    expect(
      retriesInProcess(new InvalidRequestError("grantee not found", { operation: "CreateAccessGrant" })),
    ).toBe(true);
    expect(retriesInProcess(new Error("S3 Control hiccup"))).toBe(true);
  });

  it("does not retry the lock's LockBusyError once the lock's own wait gave up on it", async () => {
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls += 1;
        throw markRetried(new LockBusyError("PERSON#U1"));
      },
      { maxAttempts: 3, sleep: async () => {} },
    );
    expect(calls).toBe(1);
    expect(result).toMatchObject({ ok: false, stoppedBy: "not-retryable" });
  });
});

const SEQ = { bad: "100", denied: "200", approved: "300" };

function requestRecord(
  seq: string,
  eventName: DynamoDBRecord["eventName"],
  next: Record<string, unknown>,
  prev?: Record<string, unknown>,
): DynamoDBRecord {
  const keys = { pk: `REQ#${String(next.id)}`, sk: "META" };
  return {
    eventName,
    eventSource: "aws:dynamodb",
    dynamodb: {
      SequenceNumber: seq,
      Keys: marshall(keys) as never,
      NewImage: marshall({ ...keys, ...next }, { removeUndefinedValues: true }) as never,
      ...(prev ? { OldImage: marshall({ ...keys, ...prev }) as never } : {}),
    },
  };
}

const denied = {
  id: "r2",
  requesterUserId: "U2",
  subPrefix: "cpg0042/*",
  permission: "READ",
  status: "DENIED",
  decidedBy: "UADMIN",
  progress: {},
  attempts: 0,
};

/** Deps that log and DM; anything else the handler touched would throw. */
function fakeDeps() {
  const logged: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const dms: { userId: string; text: string }[] = [];
  const log = (level: string) => (event: string, fields?: Record<string, unknown>) =>
    void logged.push({ level, event, ...(fields ? { fields } : {}) });
  const untouchable = new Proxy(
    {},
    {
      get(_t, prop) {
        throw new Error(`the handler touched deps.store.${String(prop)}`);
      },
    },
  );
  const deps = {
    log: { info: log("info"), warn: log("warn"), error: log("error") },
    target: { bucket: "staging-bucket" },
    store: untouchable,
    notifier: {
      async dmUser(userId: string, message: { text: string }) {
        dms.push({ userId, text: message.text });
        return { channel: "D1", ts: "1" };
      },
    },
  } as unknown as ServiceDeps;
  return { deps, logged, dms };
}

describe("a malformed stream image", () => {
  it("is skipped with the bad field logged, and the records after it still run", async () => {
    const { deps, logged, dms } = fakeDeps();
    const malformed = requestRecord(SEQ.bad, "MODIFY", { ...denied, id: "r1", status: "APPROVEDISH" });
    const deniedRecord = requestRecord(SEQ.denied, "MODIFY", denied, { ...denied, status: "PENDING" });
    const result = await handleProvisionerEvent(deps, { Records: [malformed, deniedRecord] });
    expect(result.batchItemFailures).toEqual([]);
    const entry = logged.find((l) => l.event === "provisioner.malformed_image");
    expect(entry?.level).toBe("error");
    expect(entry?.fields).toMatchObject({ sequenceNumber: SEQ.bad, field: "status" });
    expect(String((entry?.fields?.error as Error | undefined)?.message)).toContain('got "APPROVEDISH"');
    expect(dms).toEqual([{ userId: "U2", text: expect.stringContaining("was denied by <@UADMIN>") }]);
  });

  it("a denial whose image lacks what the DM needs is skipped, naming the field", async () => {
    const { deps, logged, dms } = fakeDeps();
    const record = requestRecord(
      SEQ.denied,
      "MODIFY",
      { ...denied, subPrefix: undefined },
      { ...denied, status: "PENDING" },
    );
    const result = await handleProvisionerEvent(deps, { Records: [record] });
    expect(result.batchItemFailures).toEqual([]);
    expect(dms).toEqual([]);
    expect(logged.find((l) => l.event === "provisioner.malformed_image")?.fields).toMatchObject({
      field: "subPrefix",
    });
  });

  it("a queued job without an actor is skipped before its claim", async () => {
    const { deps, logged } = fakeDeps();
    const keys = { pk: "JOB#j1", sk: "JOB" };
    const record: DynamoDBRecord = {
      eventName: "INSERT",
      dynamodb: {
        SequenceNumber: SEQ.bad,
        NewImage: marshall({
          ...keys,
          id: "j1",
          kind: "revoke",
          jobState: "QUEUED",
          targetUserId: "U1",
        }) as never,
      },
    };
    expect(queuedJob(record)).toMatchObject({ id: "j1" });
    const jobs = new Proxy({}, { get: () => () => Promise.reject(new Error("claimed a malformed job")) });
    const result = await handleProvisionerEvent({ ...deps, jobs } as ServiceDeps, { Records: [record] });
    expect(result.batchItemFailures).toEqual([]);
    expect(logged.find((l) => l.event === "provisioner.malformed_image")?.fields).toMatchObject({
      field: "actor",
    });
  });

  it("the routing predicates answer undefined for it (never throw)", () => {
    const record = requestRecord(SEQ.bad, "INSERT", { ...denied, status: "APPROVED", permission: "ROOT" });
    expect(approvedRequestId(record)).toBeUndefined();
    expect(queuedJob(record)).toBeUndefined();
  });
});

describe("no time left for an attempt", () => {
  it("hands the record back untouched (no store call) so a fresh invocation starts it", async () => {
    const { deps } = fakeDeps();
    const record = requestRecord(
      SEQ.approved,
      "MODIFY",
      { ...denied, status: "APPROVED" },
      { ...denied, status: "PENDING" },
    );
    const result = await handleProvisionerEvent(
      deps,
      { Records: [record] },
      { remainingTimeMs: () => 5_000 },
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: SEQ.approved }]);
  });
});
