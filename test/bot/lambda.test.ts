import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalDynamo, startDynamo } from "../support/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";
import { signedEvent, slashCommandBody } from "../support/slack-requests.ts";

const SECRET = "lambda-entry-test-secret";
let dynamo: LocalDynamo;
let slack: FakeSlack;

beforeAll(async () => {
  dynamo = await startDynamo();
  slack = await startFakeSlack();
  const env: Record<string, string> = {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: "xoxb-lambda-test",
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_ID: "BBOTCYTO",
    SLACK_BOT_USER_ID: "UBOTCYTO",
    ADMIN_USER_IDS: "UADMIN1",
    ADMIN_CHANNEL_ID: "CADMINS",
    TABLE_NAME: dynamo.tableName,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.stubEnv("AWS_PROFILE", undefined);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await slack?.stop();
  await dynamo?.stop();
});

describe("Lambda entry (src/bot/lambda.ts)", () => {
  it("is a 2-argument async handler whose import and cold start call nothing (no auth.test)", async () => {
    const mod = await import("../../src/bot/lambda.ts");
    expect(mod.handler.length).toBe(2);
    expect(slack.calls).toEqual([]);
  });

  it("serves a signed Function URL request end to end and never calls auth.test", async () => {
    const { handler } = await import("../../src/bot/lambda.ts");
    const body = slashCommandBody({
      userId: "ULAMBDA",
      text: "request prefix cpg0007 read",
      responseUrl: slack.responseUrl(),
    });
    const res = await handler(signedEvent(SECRET, body, { format: "function-url", base64: true }), {});
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).text).toContain("filed");
    expect(slack.calls.map((c) => c.method)).toEqual(["chat.postMessage"]);
    const forged = await handler(signedEvent("wrong", body), {});
    expect(forged.statusCode).toBe(401);
  });
});
