/**
 * The secrets scan itself (test/support/secrets-scan.ts, issue 13 Deliver 3): a secret the stand-ins
 * noted or a test registered, showing up in output, an error or a Slack call, is found and named by
 * kind and place without its value; the requester's DM may carry the link key.
 */
import { describe, expect, it } from "vitest";
import { startFakeSlack } from "../../dev/fake-slack.ts";
import { secretAccessKey } from "../../dev/local-aws/state.ts";
import { secretsSeen } from "../../dev/secrets-seen.ts";
import { signSlackRequest } from "../../dev/slack-signing.ts";
import { describeLeaks, findLeaks } from "../support/secrets-scan.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const LINK_KEY = "q3Vx0mJ9kLr2sT8uW1yZ4aB6cD7eF5gH0iJkLmNoPqR";
const secrets = new Map([
  [SECRET, "secret access key" as const],
  [LINK_KEY, "link key" as const],
]);

describe("findLeaks", () => {
  it("finds a planted secret in a log line and names its kind and place, not its value", () => {
    const leaks = findLeaks(secrets, [{ where: "console.error", text: `provisioned: key=${SECRET}` }], []);
    expect(leaks).toEqual([{ kind: "secret access key", where: "console.error" }]);
    const message = describeLeaks("test/x.test.ts", leaks);
    expect(message).toContain("a secret access key in console.error");
    expect(message).not.toContain(SECRET);
  });

  it("finds a link key in output and a secret access key in a Slack call, but allows the link key in the DM", () => {
    const dm = { method: "chat.postMessage", seq: 3, args: { text: `http://127.0.0.1:1/s/abc#${LINK_KEY}` } };
    const admin = {
      method: "chat.update",
      seq: 4,
      args: { blocks: [{ text: { text: `secret ${SECRET}` } }] },
    };
    const leaks = findLeaks(secrets, [{ where: "stdout", text: `opened ${LINK_KEY}` }], [dm, admin]);
    expect(leaks).toEqual([
      { kind: "link key", where: "stdout" },
      { kind: "secret access key", where: "Slack call #4 chat.update" },
    ]);
  });

  it("finds nothing in clean output, and ignores values too short to be told from ordinary words", () => {
    const short = new Map([["wrong", "signing secret" as const]]);
    expect(findLeaks(short, [{ where: "stdout", text: "HTTP 401 wrong signature" }], [])).toEqual([]);
    expect(findLeaks(secrets, [{ where: "stdout", text: "all fine" }], [])).toEqual([]);
  });
});

describe("what the stand-ins note for the scan", () => {
  it("the local AWS's secret access keys, the signing secrets requests are signed with, the bot tokens and link keys the fake Slack sees", async () => {
    const seen = secretsSeen();
    expect(seen, "the setup file is on: test/support/secrets-scan-setup.ts").toBeDefined();
    const key = secretAccessKey();
    signSlackRequest("a-signing-secret-of-a-test", "body");
    const slack = await startFakeSlack();
    try {
      await fetch(`${slack.apiUrl}chat.postMessage`, {
        method: "POST",
        headers: { authorization: "Bearer xoxb-scan-test-token", "content-type": "application/json" },
        body: JSON.stringify({ channel: "U1", text: `your link: http://127.0.0.1:9/s/abcd#${LINK_KEY}` }),
      });
    } finally {
      await slack.stop();
    }
    expect(seen?.secrets.get(key)).toBe("secret access key");
    expect(seen?.secrets.get("a-signing-secret-of-a-test")).toBe("signing secret");
    expect(seen?.secrets.get("xoxb-scan-test-token")).toBe("bot token");
    expect(seen?.secrets.get(LINK_KEY)).toBe("link key");
    // The DM with the link is recorded for the scan, and passes it.
    expect(seen?.slackCalls.some((c) => c.method === "chat.postMessage")).toBe(true);
    expect(findLeaks(seen?.secrets ?? new Map(), [], seen?.slackCalls ?? [])).toEqual([]);
  });
});
