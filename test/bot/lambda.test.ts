// The Lambda entry as deployed: configured only through its environment, which carries the bot role's
// session credentials (its synthesized policy, dev/deployed-roles.ts) and the local AWS
// stand-in's endpoints; DynamoDB goes through the stand-in, which judges each call by that policy.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DeployedRoles, deployRoles } from "../../dev/deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "../../dev/local-aws/index.ts";
import { signedEvent, slashCommandBody } from "../../dev/slack-requests.ts";
import { SecretResolutionError } from "../../src/bot/config.ts";
import { createBotHandlerFromEnv } from "../../src/bot/lambda.ts";
import { silentLogger } from "../../src/log.ts";

const SECRET = "lambda-entry-test-secret";
const SM_SIGNING = "sm-lambda-signing-secret-5e6f7a";
const SM_TOKEN = "xoxb-sm-lambda-bot-token-1b2c3d";
let dynamo: LocalDynamo;
let slack: FakeSlack;
let local: LocalAws;
let signingArn: string;
let tokenArn: string;
const deployed: DeployedRoles[] = [];

/**
 * Deploy the stack with these Slack secret ARNs: the bot role's policy names them (as grantRead does),
 * and the function gets a fresh session's environment (a deployment restarts it).
 */
async function deploy(secrets: { signingSecretArn: string; botTokenArn: string }): Promise<void> {
  const { locationId, instanceArn } = seedAccessGrantsLocation(local);
  const roles = await deployRoles(local, { tableName: dynamo.tableName, instanceArn, locationId, secrets });
  deployed.push(roles);
  for (const [k, v] of Object.entries(roles.functions.bot.env)) vi.stubEnv(k, v);
}

beforeAll(async () => {
  dynamo = await startDynamo();
  slack = await startFakeSlack();
  local = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint });
  signingArn = local.putSecret("cytoskel/slack-signing-secret", SM_SIGNING);
  tokenArn = local.putSecret("cytoskel/slack-bot-token", JSON.stringify({ SLACK_BOT_TOKEN: SM_TOKEN }));
  vi.stubEnv("AWS_PROFILE", undefined);
  await deploy({ signingSecretArn: signingArn, botTokenArn: tokenArn });
  const env: Record<string, string> = {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: "xoxb-lambda-test",
    SLACK_API_URL: slack.apiUrl,
    SLACK_BOT_ID: "BBOTCYTO",
    SLACK_BOT_USER_ID: "UBOTCYTO",
    ADMIN_USER_IDS: "UADMIN1",
    ADMIN_CHANNEL_ID: "CADMINS",
    TABLE_NAME: dynamo.tableName,
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const roles of deployed) roles.close();
  await slack?.stop();
  await local?.stop();
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

// The deployed shape: both Slack secrets live in Secrets Manager and the entry reads them by ARN on its
// cold start, through the real SDK client, from the local AWS stand-in.
describe("Lambda entry with Slack secrets in Secrets Manager", () => {
  const MISSING_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/absent-AbCdEf";
  const printed: string[] = [];

  beforeAll(async () => {
    // Deployed pointing at a signing secret that does not exist (the role may read it; it is not there).
    await deploy({ signingSecretArn: MISSING_ARN, botTokenArn: tokenArn });
    vi.stubEnv("SLACK_SIGNING_SECRET", undefined);
    vi.stubEnv("SLACK_BOT_TOKEN", undefined);
    vi.stubEnv("SLACK_SIGNING_SECRET_ARN", MISSING_ARN);
    vi.stubEnv("SLACK_BOT_TOKEN_ARN", tokenArn);
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        printed.push(args.map(String).join(" "));
      });
    }
    // A fresh module: the one above already holds a handler built from plain environment secrets.
    vi.resetModules();
  });

  afterAll(() => {
    vi.restoreAllMocks();
  });

  it("fails a cold start on a missing secret naming the variable, then retries it on the next call", async () => {
    const { handler } = await import("../../src/bot/lambda.ts");
    const body = slashCommandBody({ userId: "ULAMBDA2", text: "help", responseUrl: slack.responseUrl() });
    let err: unknown;
    try {
      await handler(signedEvent(SM_SIGNING, body), {});
    } catch (e) {
      err = e;
    }
    // By name: after resetModules the entry's SecretResolutionError is another module instance's class.
    expect(err).toMatchObject({ name: SecretResolutionError.name });
    expect((err as Error).message).toBe(
      "could not read SLACK_SIGNING_SECRET from Secrets Manager (SLACK_SIGNING_SECRET_ARN)",
    );
    expect((err as Error).cause).toMatchObject({ name: "ResourceNotFoundException" });
    const shown = `${String(err)}\n${(err as Error).stack}\n${String((err as Error).cause)}`;
    expect(shown).not.toContain(SM_SIGNING);
    expect(shown).not.toContain(SM_TOKEN);

    // The operator points the stack at the right secret and deploys again (policy and variable).
    await deploy({ signingSecretArn: signingArn, botTokenArn: tokenArn });
    vi.stubEnv("SLACK_SIGNING_SECRET_ARN", signingArn);
    const res = await handler(signedEvent(SM_SIGNING, body), {});
    expect(res.statusCode).toBe(200);
  });

  it("verifies requests with the signing secret read from Secrets Manager and posts with its bot token", async () => {
    const { handler } = await import("../../src/bot/lambda.ts");
    const reads = local.state.requests.filter((r) => r.operation === "GetSecretValue").length;
    const posted = slack.callsTo("chat.postMessage").length;
    const body = slashCommandBody({
      userId: "ULAMBDA3",
      text: "request prefix cpg0008 read",
      responseUrl: slack.responseUrl(),
    });
    const res = await handler(signedEvent(SM_SIGNING, body, { format: "function-url", base64: true }), {});
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).text).toContain("filed");
    expect(slack.callsTo("chat.postMessage")).toHaveLength(posted + 1);
    // The environment's old plain secret, or any other, is refused.
    const forged = await handler(signedEvent(SECRET, body), {});
    expect(forged.statusCode).toBe(401);
    expect(forged.body ?? "").not.toContain(SM_SIGNING);
    // Warm invocations reuse the secrets read on the cold start.
    expect(local.state.requests.filter((r) => r.operation === "GetSecretValue")).toHaveLength(reads);
  });

  it("never prints either secret", () => {
    const all = printed.join("\n");
    expect(all).not.toContain(SM_SIGNING);
    expect(all).not.toContain(SM_TOKEN);
  });
});

describe("Lambda entry after a secret rotation", () => {
  afterAll(() => {
    vi.useRealTimers();
  });

  it("verifies with the rotated signing secret once the old one's max age is over, without a redeploy", async () => {
    const before = "signing-before-rotation-0a1b";
    const after = "signing-after-rotation-2c3d";
    const rotating = local.putSecret("cytoskel/rotating-signing-secret", before);
    await deploy({ signingSecretArn: rotating, botTokenArn: tokenArn });
    vi.useFakeTimers({ toFake: ["Date"] });
    const handler = createBotHandlerFromEnv(
      {
        ...process.env,
        SLACK_SIGNING_SECRET: undefined,
        SLACK_BOT_TOKEN: undefined,
        SLACK_SIGNING_SECRET_ARN: rotating,
        SLACK_BOT_TOKEN_ARN: tokenArn,
        POWERTOOLS_PARAMETERS_MAX_AGE: "300",
      },
      { logger: silentLogger, receiverLogger: silentLogger },
    );
    const body = slashCommandBody({ userId: "ULAMBDA4", text: "help", responseUrl: slack.responseUrl() });
    expect((await handler(signedEvent(before, body), {})).statusCode).toBe(200);

    local.putSecret("cytoskel/rotating-signing-secret", after); // Slack regenerated it; put-secret-value
    // Within the max age the bot still holds the value it read.
    vi.setSystemTime(Date.now() + 299_000);
    expect((await handler(signedEvent(before, body), {})).statusCode).toBe(200);
    // After it, the next request reads the new value and the bot is rebuilt with it.
    vi.setSystemTime(Date.now() + 2_000);
    expect((await handler(signedEvent(after, body), {})).statusCode).toBe(200);
    expect((await handler(signedEvent(before, body), {})).statusCode).toBe(401);
  });
});
