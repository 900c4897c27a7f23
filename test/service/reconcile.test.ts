/**
 * Nothing stuck (issue 12, item 7): the scheduled job's reconciler after a lost approval record, a lost
 * job record and a card that never posted, and the end of FAILED requests nobody retried. The sweep runs
 * as the expiry function's synthesized role, the provisioner as its own (the local AWS judges every
 * call); the local stream stand-in sees every write from then on, so a record "lost" is one written
 * before it started. Fake clock, no sleeping.
 */
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_CHANNEL,
  ADMIN_ID,
  type Harness,
  newUserId,
  startHarness,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { type LocalStream, startLocalStream } from "../../dev/stream.ts";
import { adminCardFor } from "../../src/bot/admin-card.ts";
import { handleProvisionerEvent, provisionWithRetries } from "../../src/provisioner/handler.ts";
import type { ServiceDeps } from "../../src/service/deps.ts";
import { type ExpiryOptions, runExpiry } from "../../src/service/expiry.ts";
import { STUCK_AFTER_MINUTES } from "../../src/service/reconcile.ts";
import { JobStore } from "../../src/store/jobs.ts";

let h: Harness;
let stream: LocalStream | undefined;
/** Provisioner invocations the stream made, by what they acted on. */
const delivered: DynamoDBRecord[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await stream?.stop();
  stream = undefined;
  delivered.length = 0;
});
afterAll(async () => {
  await h?.stop();
});

const MINUTE = 60_000;
const DAY = 86_400_000;
const later = (ms: number) => () => new Date(Date.now() + ms);
const OPTS: ExpiryOptions = {
  reminderDays: 0,
  pendingExpiryDays: 14,
  adminCard: adminCardFor("staging-cellpainting-gallery"),
};

/** From now on every write reaches the provisioner (as the stream trigger would), at `now`. */
function streamToProvisioner(now: () => Date, deps: Partial<ServiceDeps> = {}): LocalStream {
  stream = startLocalStream({
    client: h.dynamo.client,
    localAws: h.aws,
    tableName: h.dynamo.tableName,
    onRecords: (event) => {
      delivered.push(...event.Records);
      return handleProvisionerEvent(h.deps({ now, ...deps }), event, {
        maxAttempts: 1,
        sleep: async () => {},
      });
    },
  });
  return stream;
}

const sweep = (ms: number, opts: Partial<ExpiryOptions> = {}) =>
  runExpiry(h.deps({ now: later(ms) }, "expiry"), { ...OPTS, ...opts });

const statusOf = async (id: string) => (await h.stores.requests.get(id))?.status;
const adminPosts = () => h.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === ADMIN_CHANNEL);

describe("the reconciler: an approval whose stream record was lost", () => {
  it("is driven again after STUCK_AFTER_MINUTES and provisioned once through the provisioner; a later run finds nothing", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId); // written before the stream: its record is lost

    const early = await sweep((STUCK_AFTER_MINUTES - 1) * MINUTE);
    expect(early.reconciled.redriven).not.toContain(approved.id);

    const at = later((STUCK_AFTER_MINUTES + 1) * MINUTE);
    streamToProvisioner(at);
    const run = await sweep((STUCK_AFTER_MINUTES + 1) * MINUTE);
    expect(run.reconciled.redriven).toEqual(expect.arrayContaining([approved.id]));
    await stream?.drain();

    expect(await statusOf(approved.id)).toBe("ACTIVE");
    expect(h.awsStateOf(userId).grants.map((g) => g.subPrefix)).toEqual(["cpg0042/*"]);
    expect(h.dmsTo(userId)).toHaveLength(1);

    const again = await sweep((2 * STUCK_AFTER_MINUTES + 2) * MINUTE);
    expect(again.reconciled.redriven).not.toContain(approved.id);
  });

  it("two runs at once drive it once (the mark is conditional on what each read)", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId);
    const [a, b] = await Promise.all([
      sweep((STUCK_AFTER_MINUTES + 1) * MINUTE),
      sweep((STUCK_AFTER_MINUTES + 1) * MINUTE),
    ]);
    const drives = [...a.reconciled.redriven, ...b.reconciled.redriven].filter((id) => id === approved.id);
    expect(drives).toHaveLength(1);
    expect((await h.stores.requests.get(approved.id))?.redriveAt).toBeDefined();
  });
});

describe("the reconciler: an admin job whose stream record was lost", () => {
  const jobStore = () => new JobStore({ client: h.dynamo.doc, tableName: h.dynamo.tableName });

  it("is driven again and runs once, even when its redrive record is delivered twice at once", async () => {
    const userId = newUserId();
    await h.active(userId);
    const job = await jobStore().enqueue({
      kind: "revoke",
      targetUserId: userId,
      teamId: TEAM_ID,
      actor: { kind: "admin", id: ADMIN_ID },
    }); // before the stream: lost

    const at = later((STUCK_AFTER_MINUTES + 1) * MINUTE);
    // Capture the redrive record without acting, then deliver it twice concurrently.
    const captured: DynamoDBRecord[] = [];
    stream = startLocalStream({
      client: h.dynamo.client,
      localAws: h.aws,
      tableName: h.dynamo.tableName,
      onRecords: (event) => {
        captured.push(...event.Records);
        return { batchItemFailures: [] };
      },
    });
    const run = await sweep((STUCK_AFTER_MINUTES + 1) * MINUTE);
    expect(run.reconciled.jobsRedriven).toEqual(expect.arrayContaining([job.id]));
    await stream.drain();
    const redrive = captured.filter((r) => r.dynamodb?.NewImage?.id?.S === job.id);
    expect(redrive).toHaveLength(1);

    const dmsBefore = h.dmsTo(userId).length;
    const event = { Records: redrive };
    await Promise.all([
      handleProvisionerEvent(h.deps({ now: at }), event, { maxAttempts: 1, sleep: async () => {} }),
      handleProvisionerEvent(h.deps({ now: at }), event, { maxAttempts: 1, sleep: async () => {} }),
    ]);

    expect((await jobStore().get(job.id))?.jobState).toBe("DONE");
    expect(h.iamUser(userId)).toBeUndefined();
    expect(h.dmsTo(userId).length - dmsBefore).toBe(1);
    // Finished: out of the open-jobs index, so the next run does not look at it.
    const open = await jobStore().listOpen();
    expect(open.items.map((j) => j.id)).not.toContain(job.id);
  });

  it("a job still within its time is left alone", async () => {
    const userId = newUserId();
    const job = await jobStore().enqueue({
      kind: "reissue",
      targetUserId: userId,
      actor: { kind: "admin", id: ADMIN_ID },
    });
    const run = await sweep(2 * MINUTE);
    expect(run.reconciled.jobsRedriven).not.toContain(job.id);
    expect((await jobStore().get(job.id))?.redriveAt).toBeUndefined();
  });
});

describe("the reconciler: a pending request whose admin card never posted", () => {
  it("gets its card (Approve / Deny) posted and recorded once; the next run and a second run at once post nothing more", async () => {
    const userId = newUserId();
    const { request } = await h.stores.requests.create({
      requesterUserId: userId,
      requesterTeamId: TEAM_ID,
      subPrefix: "cpg0099/*",
      permission: "WRITE",
      durationDays: 30,
    }); // the bot's post failed: no card recorded
    const cardsFor = () => adminPosts().filter((c) => JSON.stringify(c.args).includes(request.id));

    const tooSoon = await sweep(2 * MINUTE);
    expect(tooSoon.reconciled.cardsPosted).not.toContain(request.id);

    const [a, b] = await Promise.all([
      sweep((STUCK_AFTER_MINUTES + 1) * MINUTE),
      sweep((STUCK_AFTER_MINUTES + 1) * MINUTE),
    ]);
    expect(
      [...a.reconciled.cardsPosted, ...b.reconciled.cardsPosted].filter((id) => id === request.id),
    ).toHaveLength(1);
    expect(cardsFor()).toHaveLength(1);
    const card = JSON.stringify(cardsFor()[0]?.args);
    expect(card).toContain("cytoskel_approve");
    expect(card).toContain("cytoskel_deny");
    expect((await h.stores.requests.get(request.id))?.adminMessage?.channel).toBe(ADMIN_CHANNEL);

    await sweep(3 * STUCK_AFTER_MINUTES * MINUTE);
    expect(cardsFor()).toHaveLength(1);
  });
});

describe("the reconciler: FAILED requests nobody retried", () => {
  const failAtDm = async (userId: string, subPrefix: string) => {
    const approved = await h.approved(userId, { subPrefix });
    h.slack.failNext("chat.postMessage", "channel_not_found");
    const out = await provisionWithRetries(h.deps(), approved.id, { maxAttempts: 1, sleep: async () => {} });
    expect(out.outcome).toBe("failed");
    expect(await statusOf(approved.id)).toBe("FAILED");
    return approved;
  };

  it("past the pending window: its IAM user, key and grant are deleted when it was all the person had; EXPIRED, card without Retry, person told", async () => {
    const userId = newUserId();
    const failed = await failAtDm(userId, "cpg0101/*");
    expect(h.awsStateOf(userId).exists).toBe(true);
    expect(h.awsStateOf(userId).keyIds).toHaveLength(1);
    expect(h.awsStateOf(userId).grants).toHaveLength(1);

    const within = await sweep(13 * DAY);
    expect(within.reconciled.failedExpired).not.toContain(failed.id);
    expect(await statusOf(failed.id)).toBe("FAILED");

    const run = await sweep(15 * DAY);
    expect(run.reconciled.failedExpired).toContain(failed.id);
    expect(run.errors).toEqual([]);
    expect(await statusOf(failed.id)).toBe("EXPIRED");
    expect(h.awsStateOf(userId).exists).toBe(false);
    expect(JSON.stringify(h.dmsTo(userId).at(-1)?.args)).toContain("could not be completed");
    const updates = h.slack.callsTo("chat.update").filter((c) => JSON.stringify(c.args).includes(failed.id));
    const lastCard = JSON.stringify(updates.at(-1)?.args);
    expect(lastCard).toContain("Expired");
    expect(lastCard).not.toContain("cytoskel_retry");
  });

  it("when the person holds other access: only the failed request's grant goes; their key, user and other grant stay", async () => {
    const userId = newUserId();
    const held = await h.active(userId, { subPrefix: "cpg0102/*" });
    const keyBefore = h.awsStateOf(userId).keyIds;
    const failed = await failAtDm(userId, "cpg0103/*");
    expect(
      h
        .awsStateOf(userId)
        .grants.map((g) => g.subPrefix)
        .sort(),
    ).toEqual(["cpg0102/*", "cpg0103/*"]);

    await sweep(15 * DAY);

    expect(await statusOf(failed.id)).toBe("EXPIRED");
    expect(await statusOf(held.id)).toBe("ACTIVE");
    expect(h.awsStateOf(userId).grants.map((g) => g.subPrefix)).toEqual(["cpg0102/*"]);
    expect(h.awsStateOf(userId).keyIds).toEqual(keyBefore);
  });

  it("an admin's Retry before the end wins: the retried request is not touched", async () => {
    const userId = newUserId();
    const failed = await failAtDm(userId, "cpg0104/*");
    await h.stores.requests.transition(failed.id, {
      from: "FAILED",
      to: "APPROVED",
      actor: { kind: "admin", id: ADMIN_ID },
    });
    const run = await sweep(15 * DAY);
    expect(run.reconciled.failedExpired).not.toContain(failed.id);
    expect(await statusOf(failed.id)).not.toBe("EXPIRED");
  });
});
