/**
 * The Lambda entry itself: configured only through environment variables (pointing at the local
 * stand-ins, with the provisioner role's session credentials as Lambda would give them), fed the
 * stream records the table produces, answering with batchItemFailures.
 */
import type { Context, DynamoDBStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeployedRoles, deployRoles } from "../../dev/deployed-roles.ts";
import {
  ADMIN_CHANNEL,
  ADMIN_ID,
  type Harness,
  newUserId,
  startHarness,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { type LocalStream, startLocalStream } from "../../dev/stream.ts";
import { ConfigError } from "../../src/config/env.ts";
import { silentLogger } from "../../src/log.ts";
import { createProvisionerHandlerFromEnv, type ProvisionerHandler } from "../../src/provisioner/lambda.ts";
import { loadServiceConfig } from "../../src/service/runtime.ts";

let h: Harness;
let roles: DeployedRoles;
let stream: LocalStream;
let handler: ProvisionerHandler;
const responses: { batchItemFailures: { itemIdentifier: string }[] }[] = [];
const context = { getRemainingTimeInMillis: () => 120_000 } as unknown as Context;

beforeAll(async () => {
  h = await startHarness();
  // The provisioner's synthesized role as the harness seeded it; the entry gets its session's env.
  const instanceArn = h.aws.state.accessGrants.get("us-east-1")?.arn ?? "";
  roles = await deployRoles(h.aws, { tableName: h.dynamo.tableName, instanceArn, locationId: h.locationId });
  handler = createProvisionerHandlerFromEnv(
    {
      ...roles.functions.provisioner.env,
      TABLE_NAME: h.dynamo.tableName,
      ADMIN_CHANNEL_ID: ADMIN_CHANNEL,
      SLACK_BOT_TOKEN: "xoxb-lambda-test",
      SLACK_API_URL: h.slack.apiUrl,
      SECRET_LINK_BASE_URL: "http://127.0.0.1:9/links",
      PROVISION_BACKOFF_MS: "1",
      // As the stack sets it: the role may not list or read locations (cdk/lib/identity-work.ts).
      ACCESS_GRANTS_LOCATION_ID: h.locationId,
    },
    { log: silentLogger },
  );
  stream = startLocalStream({
    client: h.dynamo.client,
    tableName: h.dynamo.tableName,
    onRecords: async (event: DynamoDBStreamEvent) => {
      const res = await handler(event, context);
      responses.push(res);
      return res;
    },
  });
});
afterAll(async () => {
  await stream?.stop();
  roles?.close();
  await h?.stop();
});

describe("provisioner Lambda entry", () => {
  it("provisions an approved request from its stream record with config from the environment only", async () => {
    const userId = newUserId();
    const { request } = await h.stores.requests.create({
      requesterUserId: userId,
      requesterTeamId: TEAM_ID,
      subPrefix: "cpg0042/*",
      permission: "READ",
      durationDays: 14,
    });
    await h.stores.requests.transition(request.id, {
      from: "PENDING",
      to: "APPROVED",
      actor: { kind: "admin", id: ADMIN_ID },
    });
    await stream.drain();
    const done = await h.stores.requests.get(request.id);
    expect(done?.status).toBe("ACTIVE");
    // Location from ACCESS_GRANTS_LOCATION_ID, account from STS (no AWS_ACCOUNT_ID).
    expect(await h.grantsOf(userId)).toEqual([
      { id: expect.any(String), subPrefix: "cpg0042/*", permission: "READ" },
    ]);
    expect(h.dmsTo(userId)).toHaveLength(1);
    expect(responses.every((r) => r.batchItemFailures.length === 0)).toBe(true);
  });

  it("ignores records that are not approvals, and approvals whose request is gone", async () => {
    const res = await handler(
      {
        Records: [
          {
            eventName: "INSERT",
            dynamodb: {
              Keys: { pk: { S: "SECRET#x" }, sk: { S: "SECRET" } },
              NewImage: { pk: { S: "SECRET#x" }, sk: { S: "SECRET" }, status: { S: "APPROVED" } },
              SequenceNumber: "1",
            },
          },
          {
            // An approval whose request was deleted since: logged, not retried forever.
            eventName: "MODIFY",
            dynamodb: {
              Keys: { pk: { S: "REQ#gone0001" }, sk: { S: "META" } },
              NewImage: {
                pk: { S: "REQ#gone0001" },
                sk: { S: "META" },
                id: { S: "gone0001" },
                status: { S: "APPROVED" },
              },
              OldImage: {
                pk: { S: "REQ#gone0001" },
                sk: { S: "META" },
                id: { S: "gone0001" },
                status: { S: "PENDING" },
              },
              SequenceNumber: "2",
            },
          },
          {
            eventName: "REMOVE",
            dynamodb: { Keys: { pk: { S: "REQ#y" }, sk: { S: "META" } }, SequenceNumber: "2" },
          },
        ],
      },
      context,
    );
    expect(res).toEqual({ batchItemFailures: [] });
  });
});

describe("provisioner config", () => {
  it("fails fast naming every missing setting, never printing values", () => {
    let error: unknown;
    try {
      loadServiceConfig({ SLACK_BOT_TOKEN: "not-a-token", PROVISION_MAX_ATTEMPTS: "zero" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      "TABLE_NAME",
      "ADMIN_CHANNEL_ID",
      "SECRET_LINK_BASE_URL",
      "SLACK_BOT_TOKEN",
      "PROVISION_MAX_ATTEMPTS",
      "ACCESS_GRANTS_LOCATION_ID",
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain("not-a-token");
  });

  it("accepts a Secrets Manager ARN for the bot token instead of the token", () => {
    const config = loadServiceConfig({
      TABLE_NAME: "requests",
      ADMIN_CHANNEL_ID: "C0ADMIN",
      SLACK_BOT_TOKEN_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel-slack-AbCdEf",
      SECRET_LINK_BASE_URL: "https://links.example.org",
      ACCESS_GRANTS_LOCATION_ID: "a1b2c3d4-0000-4000-8000-000000000001",
    });
    expect(config.slack.botToken).toEqual({
      arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel-slack-AbCdEf",
      variable: "SLACK_BOT_TOKEN",
    });
    expect(config.slack.apiUrl).toBe("https://slack.com/api/");
    expect(config.provision).toEqual({ maxAttempts: 3, backoffMs: 1000 });
    expect(config.target).toMatchObject({ uploadersGroup: "staging_cpg_uploaders", iamPath: "/cytoskel/" });
  });

  it("takes the uploaders group and IAM path the grants stack made", () => {
    const config = loadServiceConfig({
      TABLE_NAME: "requests",
      ADMIN_CHANNEL_ID: "C0ADMIN",
      SLACK_BOT_TOKEN: "xoxb-1",
      SECRET_LINK_BASE_URL: "https://links.example.org",
      ACCESS_GRANTS_LOCATION_ID: "a1b2c3d4-0000-4000-8000-000000000001",
      UPLOADERS_GROUP: "cytoskel-uploaders",
      IAM_PATH: "/cytoskel/staging/",
    });
    expect(config.target).toMatchObject({
      uploadersGroup: "cytoskel-uploaders",
      iamPath: "/cytoskel/staging/",
    });
    expect(() =>
      loadServiceConfig({
        TABLE_NAME: "requests",
        ADMIN_CHANNEL_ID: "C0ADMIN",
        SLACK_BOT_TOKEN: "xoxb-1",
        SECRET_LINK_BASE_URL: "https://links.example.org",
        IAM_PATH: "cytoskel",
      }),
    ).toThrow(/IAM_PATH/);
  });
});
