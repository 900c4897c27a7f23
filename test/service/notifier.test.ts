import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { createSlackClient } from "../../src/runtime/slack-client.ts";
import { describeFailure, isRetryable } from "../../src/service/errors.ts";
import { createSlackNotifier, isAllowedResponseUrl, SlackNotifyError } from "../../src/service/notifier.ts";
import { InvalidSlackIdError, iamUserNameFor, slackIdsFromIamUserName } from "../../src/service/users.ts";

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.stop();
});

const notifier = () =>
  createSlackNotifier(createSlackClient("xoxb-notifier-test", { apiUrl: slack.apiUrl, maxRetries: 0 }), {
    adminChannelId: "CADMIN0002",
  });

describe("Slack notifier", () => {
  it("DMs with unfurling off and posts/updates in the admin channel", async () => {
    const n = notifier();
    const dm = await n.dmUser("U0DMTEST", { text: "hello https://example.org" });
    expect(dm.channel).toBe("U0DMTEST");
    const call = slack.callsTo("chat.postMessage").at(-1);
    expect(String(call?.args.unfurl_links)).toBe("false");
    expect(String(call?.args.unfurl_media)).toBe("false");

    const ref = await n.postAdminChannel({ text: "card" });
    expect(ref.channel).toBe("CADMIN0002");
    await n.updateAdminMessage(ref, { text: "card, decided" });
    expect(slack.messages.get(`${ref.channel}:${ref.ts}`)).toMatchObject({
      text: "card, decided",
      updates: 1,
    });
  });

  it("turns Slack refusals into SlackNotifyError with Slack's code; permanent ones are not retried", async () => {
    slack.failNext("chat.postMessage", "channel_not_found");
    const err = await notifier()
      .dmUser("U0GONE", { text: "x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackNotifyError);
    expect((err as SlackNotifyError).slackError).toBe("channel_not_found");
    expect(isRetryable(err)).toBe(false);
    expect(describeFailure(err)).toContain("channel_not_found");

    slack.failNext("chat.update", "ratelimited");
    const limited = await notifier()
      .updateAdminMessage({ channel: "C1", ts: "1.1" }, { text: "x" })
      .catch((e: unknown) => e);
    expect(isRetryable(limited)).toBe(true);
  });
});

describe("links to posted messages (chat.getPermalink)", () => {
  it("gives the message's permalink, and Slack's message_not_found for one that does not exist", async () => {
    const n = notifier();
    const ref = await n.postAdminChannel({ text: "card" });
    expect(await n.permalink?.(ref)).toBe(
      `https://cytoskel-playground.slack.com/archives/${ref.channel}/p${ref.ts.replace(".", "")}`,
    );
    const missing = await n.permalink?.({ channel: ref.channel, ts: "1.000000" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SlackNotifyError);
    expect(missing).toMatchObject({ operation: "permalink", slackError: "message_not_found" });
  });
});

describe("answers through a slash command's response_url", () => {
  it("posts an ephemeral JSON answer to the hook", async () => {
    const url = slack.responseUrl();
    await notifier().respond?.(url, { text: "Revoked `cpg0042/*` for <@U1>." });
    const call = slack.callsTo("response_url").find((c) => url.endsWith(c.hook ?? "-"));
    expect(call?.args).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(call?.args.text).toBe("Revoked `cpg0042/*` for <@U1>.");
  });

  it("posts only to Slack's hooks host or a loopback stand-in", async () => {
    expect(isAllowedResponseUrl("https://hooks.slack.com/commands/T1/123/abc")).toBe(true);
    expect(isAllowedResponseUrl("http://127.0.0.1:4000/response/x")).toBe(true);
    expect(isAllowedResponseUrl("http://hooks.slack.com/commands/T1/123/abc")).toBe(false);
    expect(isAllowedResponseUrl("https://hooks.slack.com.evil.example/x")).toBe(false);
    expect(isAllowedResponseUrl("https://169.254.169.254/latest/meta-data")).toBe(false);
    expect(isAllowedResponseUrl("not a url")).toBe(false);
    await expect(notifier().respond?.("https://example.org/hook", { text: "x" })).rejects.toBeInstanceOf(
      SlackNotifyError,
    );
  });
});

describe("IAM user names for Slack users", () => {
  it("are slack-<TEAM>-<USER>, reversible, and refuse anything that is not a Slack ID", () => {
    expect(iamUserNameFor("T0CYTOSKEL", "U012ABC")).toBe("slack-T0CYTOSKEL-U012ABC");
    expect(slackIdsFromIamUserName("slack-T0CYTOSKEL-U012ABC")).toEqual({
      teamId: "T0CYTOSKEL",
      userId: "U012ABC",
    });
    expect(slackIdsFromIamUserName("alice")).toBeUndefined();
    expect(() => iamUserNameFor("T0CYTOSKEL", "u012abc")).toThrow(InvalidSlackIdError);
    expect(() => iamUserNameFor("T0/../x", "U012ABC")).toThrow(InvalidSlackIdError);
  });
});
