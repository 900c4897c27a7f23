import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeFailure, isRetryable } from "../../src/service/errors.ts";
import { createSlackNotifier, createWebClient, SlackNotifyError } from "../../src/service/notifier.ts";
import { InvalidSlackIdError, iamUserNameFor, slackIdsFromIamUserName } from "../../src/service/users.ts";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.ts";

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.stop();
});

const notifier = () =>
  createSlackNotifier(
    createWebClient({ token: "xoxb-notifier-test", slackApiUrl: slack.apiUrl, retries: 0 }),
    {
      adminChannelId: "CADMIN0002",
    },
  );

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
