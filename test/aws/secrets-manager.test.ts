// Reading Slack secrets from Secrets Manager through a real SecretsManagerClient (from our one factory)
// against the local stand-in's GetSecretValue: the path every Lambda entry takes once per cold start.
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  LOCAL_ADMIN_CREDENTIALS,
  type LocalAws,
  SECRET_NOT_FOUND,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import { signedHeaders } from "../../dev/local-aws/sigv4.ts";
import { configuredEndpoint, createSecretsManagerClient } from "../../src/aws/clients.ts";
import { loadBotConfig, resolveBotConfig, SecretResolutionError } from "../../src/bot/config.ts";
import { readSlackSecret, secretsManagerFetcher } from "../../src/runtime/secrets.ts";

const SIGNING_SECRET = "sm-test-signing-secret-0f1e2d";
const BOT_TOKEN = "xoxb-sm-test-bot-token-9a8b7c";
const MISSING_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/absent-AbCdEf";

let local: LocalAws;
let sm: SecretsManagerClient;

beforeAll(async () => {
  local = await startLocalAws();
  sm = createSecretsManagerClient({ env: local.env, maxAttempts: 1 });
});

afterAll(async () => {
  sm?.destroy();
  await local?.stop();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Everything a thrown error would show in a log or test report: message, stack, cause chain, JSON. */
function everythingShown(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    parts.push(String(e), (e as Error).stack ?? "", JSON.stringify(e) ?? "");
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("Secrets Manager client from the factory", () => {
  it("points at AWS_ENDPOINT_URL_SECRETS_MANAGER, the same variable the SDK itself reads", async () => {
    expect(configuredEndpoint("secretsManager", local.env)).toBe(local.url);
    const arn = local.putSecret("cytoskel/sdk-env", "plain-value-for-env-test");
    for (const [k, v] of Object.entries(local.env)) vi.stubEnv(k, v);
    vi.stubEnv("AWS_PROFILE", undefined);
    // Were the specific variable ignored, the generic one sends the call to a closed local port, not AWS.
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    // No endpoint passed: the SDK finds the stand-in through the environment variable alone.
    const bare = new SecretsManagerClient({ region: "us-east-1", maxAttempts: 1 });
    try {
      const out = await bare.send(new GetSecretValueCommand({ SecretId: arn }));
      expect(out.SecretString).toBe("plain-value-for-env-test");
    } finally {
      bare.destroy();
    }
  });

  it("reads a seeded secret by ARN, partial ARN or name, with AWS's response shape", async () => {
    const arn = local.putSecret("cytoskel/slack-read", SIGNING_SECRET);
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel\/slack-read-\w{6}$/);
    const out = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(out).toMatchObject({
      ARN: arn,
      Name: "cytoskel/slack-read",
      SecretString: SIGNING_SECRET,
      VersionStages: ["AWSCURRENT"],
    });
    expect(out.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs((out.CreatedDate?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    for (const id of ["cytoskel/slack-read", arn.slice(0, -7)]) {
      expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).ARN).toBe(arn);
    }
    const last = local.state.requests.at(-1);
    expect(last).toMatchObject({ service: "secretsmanager", operation: "GetSecretValue", status: 200 });
  });

  it("serves the newest value as AWSCURRENT after a rotation, the old one as AWSPREVIOUS", async () => {
    const arn = local.putSecret("cytoskel/rotated", "first-rotated-value");
    expect(local.putSecret("cytoskel/rotated", "second-rotated-value")).toBe(arn);
    const current = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(current.SecretString).toBe("second-rotated-value");
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: "AWSPREVIOUS" }));
    expect(previous).toMatchObject({ SecretString: "first-rotated-value", VersionStages: ["AWSPREVIOUS"] });
  });

  it("answers an unknown secret with ResourceNotFoundException 400 in AWS's JSON error shape", async () => {
    const request = {
      url: local.url,
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body: JSON.stringify({ SecretId: MISSING_ARN }),
    };
    const res = await fetch(local.url, {
      ...request,
      headers: signedHeaders(request, LOCAL_ADMIN_CREDENTIALS, {
        region: "us-east-1",
        service: "secretsmanager",
      }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(await res.json()).toEqual({ __type: "ResourceNotFoundException", Message: SECRET_NOT_FOUND });

    const err = await caught(sm.send(new GetSecretValueCommand({ SecretId: MISSING_ARN })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as ResourceNotFoundException).$metadata.httpStatusCode).toBe(400);
    expect((err as Error).message).toBe(SECRET_NOT_FOUND);
  });

  it("retries an injected throttle and then reads the secret", async () => {
    const arn = local.putSecret("cytoskel/throttled", "value-after-throttle");
    local.failNext("GetSecretValue", { code: "ThrottlingException", status: 400, message: "Rate exceeded" });
    const retrying = createSecretsManagerClient({ env: local.env, maxAttempts: 2 });
    try {
      const out = await retrying.send(new GetSecretValueCommand({ SecretId: arn }));
      expect(out.SecretString).toBe("value-after-throttle");
    } finally {
      retrying.destroy();
    }
    const mine = local.state.requests.filter((r) => r.service === "secretsmanager").slice(-2);
    expect(mine.map((r) => r.errorCode ?? r.status)).toEqual(["ThrottlingException", 200]);
  });
});

describe("reading the bot token by ARN (every function's cold start)", () => {
  it("reads a plain token and a token inside a JSON secret", async () => {
    expect(
      await readSlackSecret(
        secretsManagerFetcher(sm),
        local.putSecret("cytoskel/token-plain", `${BOT_TOKEN}\n`),
        "SLACK_BOT_TOKEN",
      ),
    ).toBe(BOT_TOKEN);
    const both = local.putSecret(
      "cytoskel/slack-both",
      JSON.stringify({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: BOT_TOKEN }),
    );
    expect(await readSlackSecret(secretsManagerFetcher(sm), both, "SLACK_BOT_TOKEN")).toBe(BOT_TOKEN);
  });

  it("names the variable on a missing secret, keeps the SDK error as cause, and shows no secret", async () => {
    local.putSecret("cytoskel/unrelated", BOT_TOKEN);
    const err = await caught(readSlackSecret(secretsManagerFetcher(sm), MISSING_ARN, "SLACK_BOT_TOKEN"));
    expect((err as Error).message).toBe(
      "could not read SLACK_BOT_TOKEN from Secrets Manager (SLACK_BOT_TOKEN_ARN)",
    );
    expect((err as Error).cause).toBeInstanceOf(ResourceNotFoundException);
    expect(everythingShown(err)).not.toContain(BOT_TOKEN);
  });

  it("refuses a JSON secret without the token key, without echoing what it holds", async () => {
    const arn = local.putSecret("cytoskel/wrong-key", JSON.stringify({ other: SIGNING_SECRET }));
    const err = await caught(readSlackSecret(secretsManagerFetcher(sm), arn, "SLACK_BOT_TOKEN"));
    expect((err as Error).message).toMatch(/lacks key SLACK_BOT_TOKEN/);
    expect(everythingShown(err)).not.toContain(SIGNING_SECRET);
  });
});

describe("secrets kept for their max age (Powertools Parameters)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads a secret once while its max age lasts, then reads the rotated value", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const arn = local.putSecret("cytoskel/rotating-token", "xoxb-before-rotation");
    const fetch = secretsManagerFetcher(sm, { maxAgeSeconds: 300 });
    const reads = () => local.state.requests.filter((r) => r.operation === "GetSecretValue").length;
    const start = reads();
    expect(await fetch(arn)).toBe("xoxb-before-rotation");
    local.putSecret("cytoskel/rotating-token", "xoxb-after-rotation");
    vi.setSystemTime(Date.now() + 299_000);
    expect(await fetch(arn)).toBe("xoxb-before-rotation");
    expect(reads() - start).toBe(1);
    vi.setSystemTime(Date.now() + 2_000);
    expect(await fetch(arn)).toBe("xoxb-after-rotation");
    expect(reads() - start).toBe(2);
  });

  it("shares one GetSecretValue between concurrent first reads of the same secret", async () => {
    const arn = local.putSecret("cytoskel/concurrent-token", BOT_TOKEN);
    const fetch = secretsManagerFetcher(sm);
    const before = local.state.requests.length;
    expect(await Promise.all([fetch(arn), fetch(arn)])).toEqual([BOT_TOKEN, BOT_TOKEN]);
    expect(local.state.requests.slice(before).map((r) => r.operation)).toEqual(["GetSecretValue"]);
  });
});

describe("resolveBotConfig with a Secrets Manager reader (bot Lambda)", () => {
  const baseEnv = {
    SLACK_BOT_ID: "BBOTCYTO",
    SLACK_BOT_USER_ID: "UBOTCYTO",
    ADMIN_USER_IDS: "UADMIN1",
    ADMIN_CHANNEL_ID: "CADMINS",
    TABLE_NAME: "cytoskel-test",
  };
  // `sm` exists only once beforeAll ran; each test gets its own cache.
  const reader = (arn: string) => secretsManagerFetcher(sm)(arn);

  it("reads both Slack values from one JSON secret with a single GetSecretValue", async () => {
    const arn = local.putSecret(
      "cytoskel/bot-one-secret",
      JSON.stringify({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: BOT_TOKEN }),
    );
    const before = local.state.requests.length;
    const config = loadBotConfig({ ...baseEnv, SLACK_SIGNING_SECRET_ARN: arn, SLACK_BOT_TOKEN_ARN: arn });
    const resolved = await resolveBotConfig(config, secretsManagerFetcher(sm));
    expect(resolved.slack.signingSecret).toBe(SIGNING_SECRET);
    expect(resolved.slack.botToken).toBe(BOT_TOKEN);
    expect(local.state.requests.slice(before).map((r) => r.operation)).toEqual(["GetSecretValue"]);
  });

  it("fails a missing ARN with SecretResolutionError naming the variable, not the value", async () => {
    const tokenArn = local.putSecret("cytoskel/bot-token-only", BOT_TOKEN);
    const config = loadBotConfig({
      ...baseEnv,
      SLACK_SIGNING_SECRET_ARN: MISSING_ARN,
      SLACK_BOT_TOKEN_ARN: tokenArn,
    });
    const err = await caught(resolveBotConfig(config, reader));
    expect(err).toBeInstanceOf(SecretResolutionError);
    expect((err as Error).message).toBe(
      "could not read SLACK_SIGNING_SECRET from Secrets Manager (SLACK_SIGNING_SECRET_ARN)",
    );
    expect((err as Error).cause).toBeInstanceOf(ResourceNotFoundException);
    expect(everythingShown(err)).not.toContain(BOT_TOKEN);
  });
});
