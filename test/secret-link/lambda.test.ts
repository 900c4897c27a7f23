// The Lambda entry end to end: config from the environment (with the secret-link role's session
// credentials, dev/deployed-roles.ts), DynamoDB through the local AWS stand-in (which judges each
// call by that role's synthesized policy) to DynamoDB Local, WebClient to the local fake Slack; events
// shaped like API Gateway HTTP API v2 and Lambda Function URL events.
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type DeployedRoles, deployRoles } from "../../dev/deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "../../dev/local-aws/index.ts";
import { ConfigError } from "../../src/config/env.ts";
import { loadSecretLinkConfig } from "../../src/secret-link/config.ts";
import { type CredentialsPayload, issueSecretLink } from "../../src/secret-link/issue.ts";
import { createSecretLinkHandleFromEnv, fromLambdaEvent, handler } from "../../src/secret-link/lambda.ts";
import { REVEAL_HEADER, REVEAL_HEADER_VALUE } from "../../src/secret-link/page.ts";
import { createStores, type Stores } from "../../src/store/index.ts";

const payload: CredentialsPayload = {
  accessKeyId: "AKIALAMBDAEXAMPLE001",
  secretAccessKey: "lambda/secret/example",
  bucket: "staging-cellpainting-gallery",
  region: "us-east-1",
  scopes: ["cpg0042/*"],
};

let dynamo: LocalDynamo;
let local: LocalAws;
/** The admin's stores (straight to the engine): the tests issue links with them, as the provisioner would. */
let stores: Stores;
let slack: FakeSlack;
let env: Record<string, string>;
const deployed: DeployedRoles[] = [];

/**
 * Deploy the stack with this bot-token secret ARN (the role's policy names it, as grantRead does) and
 * return the secret-link function's environment: its fresh session and the stand-in's endpoints.
 */
async function deploySecretLink(botTokenArn?: string): Promise<Record<string, string>> {
  const { locationId, instanceArn } = seedAccessGrantsLocation(local);
  const roles = await deployRoles(local, {
    tableName: dynamo.tableName,
    instanceArn,
    locationId,
    ...(botTokenArn ? { secrets: { botTokenArn } } : {}),
  });
  deployed.push(roles);
  return roles.functions.secretLink.env;
}

function event(
  method: string,
  rawPath: string,
  opts: { headers?: Record<string, string>; stage?: string; functionUrl?: boolean } = {},
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: "",
    headers: { host: "links.example.org", "user-agent": "test", ...opts.headers },
    isBase64Encoded: false,
    requestContext: {
      accountId: opts.functionUrl ? "anonymous" : "123456789012",
      apiId: "abc123",
      domainName: opts.functionUrl ? "abc123.lambda-url.us-east-1.on.aws" : "links.example.org",
      domainPrefix: "abc123",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "req",
      routeKey: "$default",
      stage: opts.stage ?? "$default",
      time: "28/Nov/2026:01:00:00 +0000",
      timeEpoch: Date.now(),
    },
  } as APIGatewayProxyEventV2;
}

async function issue(requestId: string) {
  const link = await issueSecretLink({
    secrets: stores.secrets,
    baseUrl: "https://links.example.org",
    payload,
    requestId,
    requesterUserId: "U0LAMBDA",
  });
  return new URL(link.url).pathname;
}

beforeAll(async () => {
  [dynamo, slack] = await Promise.all([startDynamo(), startFakeSlack()]);
  local = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint });
  stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  env = {
    ...(await deploySecretLink()),
    TABLE_NAME: dynamo.tableName,
    SLACK_BOT_TOKEN: "xoxb-lambda-test",
    SLACK_API_URL: slack.apiUrl,
  };
});

afterAll(async () => {
  for (const roles of deployed) roles.close();
  await slack?.stop();
  await local?.stop();
  await dynamo?.stop();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("secret-link Lambda entry", () => {
  it("serves GET and a one-time POST for Function URL events, DMing the requester", async () => {
    const path = await issue("lambda-req-1");
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const ctx = {} as Context;

    const page = await handler(event("GET", path, { functionUrl: true }), ctx);
    expect(page.statusCode).toBe(200);
    expect(page.headers?.["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.body).toContain("Reveal credentials");

    const reveal = { functionUrl: true, headers: { [REVEAL_HEADER]: REVEAL_HEADER_VALUE } };
    const first = await handler(event("POST", path, reveal), ctx);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body ?? "{}")).toHaveProperty("ciphertext");
    const second = await handler(event("POST", path, reveal), ctx);
    expect(second.statusCode).toBe(410);
    expect(slack.callsTo("chat.postMessage").map((c) => c.args.channel)).toEqual(["U0LAMBDA"]);
  });

  it("strips a named HTTP API stage from the path and lower-cases header names", async () => {
    const req = fromLambdaEvent(
      event("POST", "/prod/s/abc", { stage: "prod", headers: { "X-Requested-With": "cytoskel-reveal" } }),
    );
    expect(req).toEqual({
      method: "POST",
      path: "/s/abc",
      headers: expect.objectContaining({ "x-requested-with": "cytoskel-reveal" }),
    });
    expect(fromLambdaEvent(event("GET", "/s/abc")).path).toBe("/s/abc");
  });

  it("builds a working handler from an explicit environment (API Gateway v2 event)", async () => {
    const path = await issue("lambda-req-2");
    const handle = createSecretLinkHandleFromEnv(env);
    const res = await handle(fromLambdaEvent(event("GET", path)));
    expect(res.status).toBe(200);
  });
});

describe("secret-link config", () => {
  it("names every missing setting at once, without values", () => {
    let err: unknown;
    try {
      loadSecretLinkConfig({ SLACK_API_URL: "not a url" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    expect(problems).toContain("TABLE_NAME is required");
    expect(problems).toContain("one of SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_ARN is required");
    expect(problems).toContain("SLACK_API_URL must be an http(s) URL");
  });

  it("takes the token, or the ARN of a secret holding it (the bot's variable names), but not both", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/slack-AbCdEf";
    expect(loadSecretLinkConfig({ TABLE_NAME: "cytoskel", SLACK_BOT_TOKEN_ARN: arn }).slack.botToken).toEqual(
      { arn, variable: "SLACK_BOT_TOKEN" },
    );
    const both = () =>
      loadSecretLinkConfig({ TABLE_NAME: "cytoskel", SLACK_BOT_TOKEN: "xoxb-1", SLACK_BOT_TOKEN_ARN: arn });
    expect(both).toThrow(/set only one of SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_ARN/);
    const badToken = () => loadSecretLinkConfig({ TABLE_NAME: "cytoskel", SLACK_BOT_TOKEN: "s3cr3t-value" });
    expect(badToken).toThrow(/SLACK_BOT_TOKEN must be a bot token/);
    expect(badToken).not.toThrow(/s3cr3t-value/);
  });
});

// The deployed shape: the bot token lives in Secrets Manager; the entry reads it by ARN on its cold start
// through the real SDK client, here from the local AWS stand-in.
describe("secret-link Lambda entry with the bot token in Secrets Manager", () => {
  const SM_TOKEN = "xoxb-sm-secret-link-token-4d5e6f";
  const MISSING_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/absent-AbCdEf";
  /** The function's environment when the stack was deployed with the token in secret `arn`. */
  const smEnv = async (arn: string) => {
    const { SLACK_BOT_TOKEN: _plain, ...rest } = env;
    return { ...rest, ...(await deploySecretLink(arn)), SLACK_BOT_TOKEN_ARN: arn };
  };

  it("reads the token by ARN and serves a one-time reveal that DMs the requester", async () => {
    const arn = local.putSecret("cytoskel/secret-link-token", JSON.stringify({ SLACK_BOT_TOKEN: SM_TOKEN }));
    const path = await issue("lambda-req-sm");
    const handle = createSecretLinkHandleFromEnv(await smEnv(arn));
    const dms = slack.callsTo("chat.postMessage").length;
    const reveal = { headers: { [REVEAL_HEADER]: REVEAL_HEADER_VALUE } };
    const res = await handle(fromLambdaEvent(event("POST", path, reveal)));
    expect(res.status).toBe(200);
    // Read once, on the first request (nothing runs at import), then kept for its max age.
    await handle(fromLambdaEvent(event("GET", path)));
    expect(local.state.requests.filter((r) => r.operation === "GetSecretValue")).toEqual([
      expect.objectContaining({ service: "secretsmanager", status: 200 }),
    ]);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(dms + 1);
    expect(JSON.stringify(slack.calls)).not.toContain(SM_TOKEN);
  });

  it("fails the cold start on a missing secret without showing any token", async () => {
    local.putSecret("cytoskel/other-token", SM_TOKEN);
    let err: unknown;
    try {
      // Deployed pointing at a secret that does not exist: the role may read it, but it is not there.
      await createSecretLinkHandleFromEnv(await smEnv(MISSING_ARN))(fromLambdaEvent(event("GET", "/s/x")));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      name: "SecretResolutionError",
      message: "could not read SLACK_BOT_TOKEN from Secrets Manager (SLACK_BOT_TOKEN_ARN)",
      cause: { name: "ResourceNotFoundException" },
    });
    expect(`${String(err)}\n${(err as Error).stack}`).not.toContain(SM_TOKEN);
  });

  it("refuses a JSON secret without a token key, without echoing what it holds", async () => {
    const arn = local.putSecret("cytoskel/wrong-key", JSON.stringify({ signingSecret: SM_TOKEN }));
    const deployedEnv = await smEnv(arn);
    const handle = createSecretLinkHandleFromEnv(deployedEnv);
    const first = handle(fromLambdaEvent(event("GET", "/s/x")));
    await expect(first).rejects.toThrow(
      "the secret in SLACK_BOT_TOKEN_ARN is empty or lacks key SLACK_BOT_TOKEN",
    );
    // The failed start is forgotten: the next request tries again (and fails the same way, silently).
    await expect(handle(fromLambdaEvent(event("GET", "/s/x")))).rejects.not.toThrow(SM_TOKEN);
  });
});
