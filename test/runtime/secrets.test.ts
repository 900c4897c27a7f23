// What a Slack secret in Secrets Manager may hold, and what the error says when it holds nothing usable.
import { describe, expect, it } from "vitest";
import { readSlackSecret, SecretResolutionError } from "../../src/runtime/secrets.ts";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/slack-AbCdEf";
const holding = (value: string) => async () => value;

describe("readSlackSecret", () => {
  it("takes a plain string, trimmed", async () => {
    expect(await readSlackSecret(holding("xoxb-plain\n"), ARN, "SLACK_BOT_TOKEN")).toBe("xoxb-plain");
  });

  it("takes the variable's key or its camelCase from a JSON secret holding both values", async () => {
    const both = holding('{"SLACK_SIGNING_SECRET":"sign-1","botToken":"xoxb-camel"}');
    expect(await readSlackSecret(both, ARN, "SLACK_SIGNING_SECRET")).toBe("sign-1");
    expect(await readSlackSecret(both, ARN, "SLACK_BOT_TOKEN")).toBe("xoxb-camel");
    expect(await readSlackSecret(holding('{"signingSecret":"sign-2"}'), ARN, "SLACK_SIGNING_SECRET")).toBe(
      "sign-2",
    );
  });

  it("names the setting, never the value, when the secret lacks the key or is empty", async () => {
    const lacking = readSlackSecret(holding('{"other":"xoxb-leak"}'), ARN, "SLACK_BOT_TOKEN");
    await expect(lacking).rejects.toThrow(
      new SecretResolutionError("the secret in SLACK_BOT_TOKEN_ARN is empty or lacks key SLACK_BOT_TOKEN"),
    );
    await expect(readSlackSecret(holding("  "), ARN, "SLACK_BOT_TOKEN")).rejects.toBeInstanceOf(
      SecretResolutionError,
    );
    const err = await readSlackSecret(holding('{"other":"xoxb-leak"}'), ARN, "SLACK_BOT_TOKEN").catch(
      (e) => e,
    );
    expect(JSON.stringify({ message: err.message, stack: err.stack })).not.toContain("xoxb-leak");
  });

  it("wraps a failed read in SecretResolutionError with the cause", async () => {
    const denied = new Error("AccessDeniedException");
    const err = await readSlackSecret(() => Promise.reject(denied), ARN, "SLACK_SIGNING_SECRET").catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SecretResolutionError);
    expect(err.message).toBe(
      "could not read SLACK_SIGNING_SECRET from Secrets Manager (SLACK_SIGNING_SECRET_ARN)",
    );
    expect(err.cause).toBe(denied);
  });
});
