import { describe, expect, it } from "vitest";
import { loadBotConfig, resolveBotConfig } from "../../src/bot/config.ts";
import { ConfigError } from "../../src/config/env.ts";

const minimal = {
  SLACK_SIGNING_SECRET: "sekret-value-123",
  SLACK_BOT_TOKEN: "xoxb-1-abc",
  SLACK_BOT_ID: "B0BOT",
  SLACK_BOT_USER_ID: "U0BOT",
  ADMIN_USER_IDS: "U0ADMIN, U0OTHER",
  ADMIN_CHANNEL_ID: "C0ADMINS",
  TABLE_NAME: "cytoskel-requests",
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadBotConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("loadBotConfig", () => {
  it("reads a minimal environment with documented defaults", () => {
    const config = loadBotConfig(minimal);
    expect(config).toMatchObject({
      slack: {
        apiUrl: "https://slack.com/api/",
        botId: "B0BOT",
        botUserId: "U0BOT",
        commandName: "/cytoskel",
      },
      admins: { userIds: ["U0ADMIN", "U0OTHER"], channelId: "C0ADMINS", allowSelfApproval: false },
      tableName: "cytoskel-requests",
      target: { name: "cpgstaging", bucket: "staging-cellpainting-gallery", region: "us-east-1" },
      durations: { defaultDays: 30, maxDays: 90 },
      reminderDays: 3,
    });
  });

  it("takes HELP_URL as the guide's https address and refuses one that would break a Slack link", () => {
    expect(loadBotConfig(minimal).helpUrl).toBeUndefined();
    const url = "https://github.com/example/cytoskel/blob/main/docs/access-cpg-staging.md";
    expect(loadBotConfig({ ...minimal, HELP_URL: url }).helpUrl).toBe(url);
    for (const bad of [
      "http://example.org/guide",
      "https://example.org/a|b",
      "https://example.org/<x>",
      "guide",
    ])
      expect(problemsOf({ ...minimal, HELP_URL: bad })).toEqual([
        "HELP_URL must be an https URL without spaces, <, > or |",
      ]);
  });

  it("names every missing setting at once", () => {
    const problems = problemsOf({});
    for (const name of [
      "SLACK_SIGNING_SECRET",
      "SLACK_BOT_TOKEN",
      "SLACK_BOT_ID",
      "SLACK_BOT_USER_ID",
      "ADMIN_USER_IDS",
      "ADMIN_CHANNEL_ID",
      "TABLE_NAME",
    ]) {
      expect(problems.join("\n")).toContain(name);
    }
  });

  it("names malformed settings without echoing secret values", () => {
    const problems = problemsOf({
      ...minimal,
      SLACK_BOT_TOKEN: "xoxp-user-token-secret",
      ADMIN_USER_IDS: "U0ADMIN,alice",
      ADMIN_CHANNEL_ID: "#admins",
      SLACK_API_URL: "ftp://x",
      MAX_DURATION_DAYS: "ten",
      DEFAULT_DURATION_DAYS: "400",
      ALLOW_SELF_APPROVAL: "maybe",
      TARGET: "prod",
    }).join("\n");
    for (const name of [
      "SLACK_BOT_TOKEN",
      "ADMIN_USER_IDS has malformed user IDs: alice",
      "ADMIN_CHANNEL_ID",
      "SLACK_API_URL",
      "MAX_DURATION_DAYS",
      "DEFAULT_DURATION_DAYS",
      "ALLOW_SELF_APPROVAL",
      "TARGET must be one of: cpgstaging",
    ]) {
      expect(problems).toContain(name);
    }
    expect(problems).not.toContain("xoxp-user-token-secret");
  });

  it("refuses both a value and an ARN for the same secret", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf";
    expect(problemsOf({ ...minimal, SLACK_BOT_TOKEN_ARN: arn }).join()).toContain(
      "set only one of SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_ARN",
    );
    expect(
      problemsOf({ ...minimal, SLACK_BOT_TOKEN: "", SLACK_BOT_TOKEN_ARN: "not-an-arn" }).join(),
    ).toContain("SLACK_BOT_TOKEN_ARN must be");
  });
});

describe("resolveBotConfig", () => {
  const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel-slack-AbCdEf";

  it("reads both secrets from one JSON secret (each variable's key)", async () => {
    const config = loadBotConfig({
      ...minimal,
      SLACK_SIGNING_SECRET: "",
      SLACK_BOT_TOKEN: "",
      SLACK_SIGNING_SECRET_ARN: arn,
      SLACK_BOT_TOKEN_ARN: arn,
    });
    const fetched: string[] = [];
    const resolved = await resolveBotConfig(config, async (a) => {
      fetched.push(a);
      return JSON.stringify({ SLACK_SIGNING_SECRET: "from-sm", botToken: "xoxb-from-sm" });
    });
    expect(resolved.slack.signingSecret).toBe("from-sm");
    expect(resolved.slack.botToken).toBe("xoxb-from-sm");
    // Sharing one GetSecretValue is the fetcher's cache (test/aws/secrets-manager.test.ts).
    expect(new Set(fetched)).toEqual(new Set([arn]));
  });

  it("reports a failed or empty secret by variable name, never by value", async () => {
    const config = loadBotConfig({ ...minimal, SLACK_BOT_TOKEN: "", SLACK_BOT_TOKEN_ARN: arn });
    await expect(resolveBotConfig(config, async () => JSON.stringify({ other: "x" }))).rejects.toThrow(
      /SLACK_BOT_TOKEN_ARN/,
    );
    await expect(
      resolveBotConfig(config, async () => {
        throw new Error("AccessDenied");
      }),
    ).rejects.toThrow(/could not read SLACK_BOT_TOKEN/);
  });
});
