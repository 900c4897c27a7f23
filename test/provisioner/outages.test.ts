/**
 * Throttling and outages (issue 13, Deliver 4), against the stand-ins with real clients: each failure
 * class is retried by the one layer src/runtime/retry.ts names, within the invocation's time, and then
 * fails visibly — never a call that waits until Lambda kills it, never retries stacked on retries,
 * nothing made twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, newUserId, startHarness } from "../../dev/service-harness.ts";
import { createAwsClients, destroyAwsClients } from "../../src/aws/clients.ts";
import { retriedBySdk } from "../../src/aws/errors.ts";
import { createUser, findUser } from "../../src/aws/iam-users.ts";
import { userTextFor } from "../../src/bot/errors.ts";
import { provisionWithRetries } from "../../src/provisioner/handler.ts";
import { retriesInProcess } from "../../src/provisioner/retry.ts";
import { readSlackSecret, secretsManagerFetcher } from "../../src/runtime/secrets.ts";
import { createSlackClient } from "../../src/runtime/slack-client.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** The stand-in's answers since `start`, as "Operation:status" (0: the connection was broken). */
const answersSince = (start: number) =>
  h.aws.state.requests.slice(start).map((r) => `${r.operation || r.errorCode}:${r.status}`);

/** A fake clock for the provisioner's waits: records them, sleeps not at all. */
function fakeWaits() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

/** Real DMs: Slack answered them (a rate-limited call did nothing). */
const deliveredDms = (userId: string) => h.dmsTo(userId).filter((c) => c.status !== 429);

describe("AWS: dropped and hung connections", () => {
  it("a dropped connection is retried by the SDK and the user is made once", async () => {
    const clients = createAwsClients({ env: h.aws.env, requestTimeoutMs: 1_000 });
    try {
      const start = h.aws.state.requests.length;
      h.aws.breakNextRequests("drop");
      await createUser(clients.iam, { name: "outage-dropped" });
      expect(answersSince(start)).toEqual(["ConnectionDropped:0", "CreateUser:200"]);
      expect(await findUser(clients.iam, "outage-dropped")).toBeDefined();
    } finally {
      destroyAwsClients(clients);
    }
  });

  it("a hung request is cut at the request timeout and retried; after the SDK's tries it fails as one the provisioner does not retry again", async () => {
    const clients = createAwsClients({ env: h.aws.env, requestTimeoutMs: 300 });
    try {
      const start = h.aws.state.requests.length;
      h.aws.breakNextRequests("hang");
      await createUser(clients.iam, { name: "outage-hung" });
      expect(answersSince(start)).toEqual(["ConnectionHung:0", "CreateUser:200"]);

      const began = Date.now();
      h.aws.breakNextRequests("hang", 3);
      const err = await createUser(clients.iam, { name: "outage-hung-3" }).catch((e: unknown) => e);
      // 3 tries of 300 ms plus the SDK's short backoffs: bounded, not Lambda's timeout.
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(retriedBySdk(err)).toBe(true);
      expect(retriesInProcess(err)).toBe(false);
      expect(await findUser(clients.iam, "outage-hung-3")).toBeUndefined();
    } finally {
      destroyAwsClients(clients);
    }
  });
});

describe("AWS: 5xx from DynamoDB and Secrets Manager", () => {
  it("a DynamoDB 500 during provisioning is retried by the SDK: ACTIVE, one key, one DM", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0201/*" });
    const start = h.aws.state.requests.length;
    h.aws.failNext("TransactWriteItems", { code: "InternalServerError", status: 500 });
    const out = await provisionWithRetries(h.deps(), approved.id, { maxAttempts: 1 });
    expect(out.outcome).toBe("activated");
    expect(answersSince(start)).toContain("TransactWriteItems:500");
    expect(h.awsStateOf(userId).keyIds).toHaveLength(1);
    expect(deliveredDms(userId)).toHaveLength(1);
  });

  it("a Secrets Manager 500 on the bot token is retried by the SDK", async () => {
    const clients = createAwsClients({ env: h.aws.env, region: "us-east-1" });
    try {
      const start = h.aws.state.requests.length;
      h.aws.failNext("GetSecretValue", { code: "InternalServiceError", status: 500 });
      const token = await readSlackSecret(
        secretsManagerFetcher(clients.secretsManager),
        h.botTokenArn,
        "SLACK_BOT_TOKEN",
      );
      expect(token.startsWith("xoxb-")).toBe(true);
      expect(answersSince(start)).toEqual(["GetSecretValue:500", "GetSecretValue:200"]);
    } finally {
      destroyAwsClients(clients);
    }
  });
});

describe("Slack: 429 with Retry-After", () => {
  it("the WebClient rejects a 429 at once with its Retry-After instead of sleeping it out", async () => {
    const client = createSlackClient("xoxb-test-token", { apiUrl: h.slack.apiUrl });
    h.slack.rateLimitNext("chat.postMessage", 120);
    const began = Date.now();
    const err = (await client.chat.postMessage({ channel: "C1", text: "hi" }).catch((e: unknown) => e)) as {
      code?: string;
      retryAfter?: number;
    };
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(err.code).toBe("slack_webapi_rate_limited_error");
    expect(err.retryAfter).toBe(120);
  });

  it("the bot tells the person at once that Slack is rate-limiting, with the wait", async () => {
    const client = createSlackClient("xoxb-test-token", { apiUrl: h.slack.apiUrl });
    h.slack.rateLimitNext("chat.postEphemeral", 30);
    const err = await client.chat
      .postEphemeral({ channel: "C1", user: "U1", text: "hi" })
      .catch((e: unknown) => e);
    expect(userTextFor(err)).toContain("try again in 30 seconds");
  });

  it("the provisioner waits at least the Retry-After before its next attempt: ACTIVE, one key, one DM", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0202/*" });
    const clock = fakeWaits();
    h.slack.rateLimitNext("chat.postMessage", 7);
    const out = await provisionWithRetries(h.deps(), approved.id, {
      maxAttempts: 3,
      backoffMs: 10,
      sleep: clock.sleep,
      remainingTimeMs: () => 100_000,
      attemptBudgetMs: 1_000,
    });
    expect(out.outcome).toBe("activated");
    expect(Math.max(...clock.waits)).toBeGreaterThanOrEqual(7_000);
    expect(h.awsStateOf(userId).keyIds).toHaveLength(1);
    expect(deliveredDms(userId)).toHaveLength(1);
  });

  it("a Retry-After longer than the invocation has left is not waited: FAILED at once with a reason, and an admin's Retry then completes with one key", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0203/*" });
    const clock = fakeWaits();
    h.slack.rateLimitNext("chat.postMessage", 600);
    const out = await provisionWithRetries(h.deps(), approved.id, {
      maxAttempts: 3,
      sleep: clock.sleep,
      remainingTimeMs: () => 60_000,
      attemptBudgetMs: 1_000,
    });
    expect(out.outcome).toBe("failed");
    expect(clock.waits).toEqual([]);
    const failed = await h.stores.requests.get(approved.id);
    expect(failed?.status).toBe("FAILED");
    expect(failed?.failureReason).toMatch(/slack/i);

    await h.stores.requests.transition(approved.id, {
      from: "FAILED",
      to: "APPROVED",
      actor: { kind: "admin", id: "UADMIN0001" },
    });
    const retried = await provisionWithRetries(h.deps(), approved.id, { maxAttempts: 1 });
    expect(retried.outcome).toBe("activated");
    expect(h.awsStateOf(userId).keyIds).toHaveLength(1);
    expect(h.awsStateOf(userId).grants).toHaveLength(1);
  });
});
