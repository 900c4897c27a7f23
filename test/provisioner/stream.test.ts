/**
 * The provisioner driven the way Lambda drives it: store writes → (local stand-in for the table's
 * stream) → DynamoDBStreamEvent batches → handleProvisionerEvent → batchItemFailures.
 */
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeployedRoles, deployRoles } from "../../dev/deployed-roles.ts";
import { ADMIN_ID, type Harness, newUserId, startHarness, TEAM_ID } from "../../dev/service-harness.ts";
import { type LocalStream, startLocalStream } from "../../dev/stream.ts";
import { handleProvisionerEvent, type RetryPolicy } from "../../src/provisioner/handler.ts";
import type { CrashPoint, ServiceDeps } from "../../src/service/deps.ts";
import { personLockName } from "../../src/service/deps.ts";
import { RETRY_ACTION_ID } from "../../src/service/messages.ts";
import { createDynamoUserLocks } from "../../src/service/user-lock.ts";

let h: Harness;
/** The functions' roles as the harness seeded them (same policies; clients of our own). */
let roles: DeployedRoles;
let stream: LocalStream;
/** Per-test knobs the handler reads on each batch. */
let depsOverride: Partial<ServiceDeps> = {};
let policy: RetryPolicy = {};
const batches: { sequenceNumbers: string[]; failures: string[] }[] = [];

beforeAll(async () => {
  h = await startHarness();
  const instanceArn = h.aws.state.accessGrants.get("us-east-1")?.arn ?? "";
  roles = await deployRoles(h.aws, { tableName: h.dynamo.tableName, instanceArn, locationId: h.locationId });
  stream = startLocalStream({
    client: h.dynamo.client,
    tableName: h.dynamo.tableName,
    retryDelayMs: 20,
    maxRetries: 5,
    onRecords: async (event) => {
      const res = await handleProvisionerEvent(h.deps(depsOverride), event, {
        sleep: async () => {},
        ...policy,
      });
      batches.push({
        sequenceNumbers: event.Records.map((r) => r.dynamodb?.SequenceNumber ?? ""),
        failures: res.batchItemFailures.map((f) => f.itemIdentifier),
      });
      return res;
    },
  });
});
afterAll(async () => {
  await stream?.stop();
  roles?.close();
  await h?.stop();
});

const approve = (id: string, admin = ADMIN_ID) =>
  h.stores.requests.transition(id, { from: "PENDING", to: "APPROVED", actor: { kind: "admin", id: admin } });

const file = (userId: string, subPrefix = "cpg0042/*") =>
  h.stores.requests
    .create({
      requesterUserId: userId,
      requesterTeamId: TEAM_ID,
      subPrefix,
      permission: "READWRITE",
      durationDays: 7,
    })
    .then((r) => r.request);

describe("local stream stand-in", () => {
  it("delivers INSERT and MODIFY records with keys and old/new images in AttributeValue form", async () => {
    const before = stream.records.length;
    const req = await file(newUserId(), "cpg0900/*");
    await h.stores.requests.transition(req.id, {
      from: "PENDING",
      to: "CANCELLED",
      actor: { kind: "requester", id: req.requesterUserId },
    });
    await stream.drain();
    const mine = stream.records
      .slice(before)
      .filter((r) => r.dynamodb?.Keys?.pk?.S === `REQ#${req.id}` && r.dynamodb?.Keys?.sk?.S === "META");
    expect(mine.map((r) => r.eventName)).toEqual(["INSERT", "MODIFY"]);
    const modify = mine[1];
    expect(modify?.eventSource).toBe("aws:dynamodb");
    expect(modify?.dynamodb?.StreamViewType).toBe("NEW_AND_OLD_IMAGES");
    expect(modify?.dynamodb?.OldImage?.status).toEqual({ S: "PENDING" });
    expect(unmarshall(modify?.dynamodb?.NewImage as never).status).toBe("CANCELLED");
    const seq = mine.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? "0"));
    expect(seq[1]).toBeGreaterThan(seq[0] ?? 0n);
  });
});

describe("provisioner on the stream", () => {
  it("approval → ACTIVE with one DM, and progress writes (APPROVED → APPROVED) start nothing more", async () => {
    const userId = newUserId();
    const req = await file(userId);
    await approve(req.id);
    await stream.drain();
    expect((await h.stores.requests.get(req.id))?.status).toBe("ACTIVE");
    expect(h.dmsTo(userId)).toHaveLength(1);
    expect(h.iamUser(userId)?.accessKeys).toHaveLength(1);
  });

  it("two admins approving at once: one transition wins, one user, one key, one grant, one DM", async () => {
    const userId = newUserId();
    const req = await file(userId);
    const results = await Promise.allSettled([approve(req.id, ADMIN_ID), approve(req.id, "UADMIN0002")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    await stream.drain();
    expect((await h.stores.requests.get(req.id))?.status).toBe("ACTIVE");
    expect(h.iamUser(userId)?.accessKeys).toHaveLength(1);
    expect(await h.grantsOf(userId)).toHaveLength(1);
    expect(h.dmsTo(userId)).toHaveLength(1);
  });

  it("after the last in-process retry: FAILED with the reason and a Retry button; Retry then provisions once", async () => {
    const userId = newUserId();
    const req = await file(userId);
    const card = await h.deps().notifier.postAdminChannel({ text: "request card" });
    await h.stores.requests.annotate(req.id, { adminMessage: card });
    let tries = 0;
    depsOverride = {
      hooks: {
        at: (p: CrashPoint) => {
          if (p === "grant") {
            tries += 1;
            throw new Error("S3 Control hiccup");
          }
        },
      },
    };
    policy = { maxAttempts: 3, backoffMs: 1 };
    try {
      await approve(req.id);
      await stream.drain();
    } finally {
      depsOverride = {};
      policy = {};
    }
    expect(tries).toBe(3);
    const failed = await h.stores.requests.get(req.id);
    expect(failed?.status).toBe("FAILED");
    expect(failed?.failureReason).toMatch(/Unexpected error/);
    expect(failed?.attempts).toBe(3);
    const shown = h.slack.messages.get(`${card.channel}:${card.ts}`);
    expect(JSON.stringify(shown?.blocks)).toContain(RETRY_ACTION_ID);
    expect(JSON.stringify(shown?.blocks)).toContain(`"value":"${req.id}"`);
    // The requester's one failure notice (test/provisioner/failure-notice.test.ts).
    expect(h.dmsTo(userId).map((c) => c.args.text)).toEqual([
      expect.stringContaining("setting up your access failed"),
    ]);

    // What the bot's Retry button does: FAILED → APPROVED by an admin; the stream does the rest.
    await h.stores.requests.transition(req.id, {
      from: "FAILED",
      to: "APPROVED",
      actor: { kind: "admin", id: ADMIN_ID },
    });
    await stream.drain();
    expect((await h.stores.requests.get(req.id))?.status).toBe("ACTIVE");
    expect(h.iamUser(userId)?.accessKeys).toHaveLength(1);
    expect(await h.grantsOf(userId)).toHaveLength(1);
    // The failure notice, then the access DM.
    expect(h.dmsTo(userId).map((c) => c.args.text)).toEqual([
      expect.stringContaining("setting up your access failed"),
      expect.stringContaining("is ready"),
    ]);
    expect(h.slack.messages.get(`${card.channel}:${card.ts}`)?.text).toContain("access is active");
  });

  it("a failure no retry can fix goes to FAILED at once (posting a card when there was none)", async () => {
    const userId = newUserId();
    const req = await file(userId, "cpg0300/*");
    depsOverride = { locationId: "no-such-location" };
    try {
      await approve(req.id);
      await stream.drain();
    } finally {
      depsOverride = {};
    }
    const failed = await h.stores.requests.get(req.id);
    expect(failed?.status).toBe("FAILED");
    expect(failed?.attempts).toBe(1);
    expect(failed?.adminMessage).toBeDefined();
    const card = h.slack.messages.get(`${failed?.adminMessage?.channel}:${failed?.adminMessage?.ts}`);
    expect(card?.text).toContain("Provisioning failed");
    expect(JSON.stringify(card?.blocks)).toContain(RETRY_ACTION_ID);
  });

  it("a person's lock held elsewhere: the record goes back to Lambda (batchItemFailures) and succeeds on redelivery", async () => {
    const userId = newUserId();
    const req = await file(userId);
    // Another provisioner invocation holds it.
    const otherLocks = createDynamoUserLocks({
      doc: roles.doc("provisioner"),
      tableName: h.dynamo.tableName,
    });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let acquired: () => void = () => {};
    const isHeld = new Promise<void>((resolve) => {
      acquired = resolve;
    });
    const holder = otherLocks.withLock(personLockName(userId), async () => {
      acquired();
      await held;
    });
    await isHeld;
    depsOverride = {
      locks: createDynamoUserLocks({
        doc: roles.doc("provisioner"),
        tableName: h.dynamo.tableName,
        waitMs: 30,
      }),
    };
    policy = { maxAttempts: 1 };
    const batchesBefore = batches.length;
    try {
      await approve(req.id);
      // Let the first delivery fail, then free the lock for the redelivery.
      for (let i = 0; i < 200 && !batches.slice(batchesBefore).some((b) => b.failures.length > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      release();
      await holder;
      await stream.drain();
    } finally {
      depsOverride = {};
      policy = {};
    }
    const failedBatch = batches.slice(batchesBefore).find((b) => b.failures.length > 0);
    expect(failedBatch?.failures).toHaveLength(1);
    expect(failedBatch?.sequenceNumbers).toContain(failedBatch?.failures[0]);
    expect((await h.stores.requests.get(req.id))?.status).toBe("ACTIVE");
    expect(h.dmsTo(userId)).toHaveLength(1);
  });
});
