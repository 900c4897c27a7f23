import { AwsLambdaReceiver } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORM, lambdaEvent, signedEvent, slashCommandBody, toReply } from "../../dev/slack-requests.ts";
import { signSlackRequest } from "../../dev/slack-signing.ts";
import { verifySlackSignature } from "../../src/bot/receiver.ts";
import { type Harness, SIGNING_SECRET, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

async function nothingHappened(user: string, callsBefore: number) {
  expect((await h.stores.requests.listByRequester(user)).items).toEqual([]);
  expect(h.slack.calls.length).toBe(callsBefore);
}

describe("request verification (401, nothing stored, nothing said)", () => {
  const body = () =>
    slashCommandBody({
      userId: "UATTACK",
      text: "request prefix cpg0042",
      responseUrl: h.slack.responseUrl(),
    });

  it("refuses a forged signature", async () => {
    const n = h.slack.calls.length;
    const reply = toReply(await h.handler(signedEvent("not-the-secret", body())));
    expect(reply.status).toBe(401);
    await nothingHappened("UATTACK", n);
  });

  it("refuses a body altered after signing", async () => {
    const n = h.slack.calls.length;
    const original = body();
    const headers = { "content-type": FORM, ...signSlackRequest(SIGNING_SECRET, original) };
    const reply = toReply(await h.handler(lambdaEvent(original.replace("cpg0042", "cpg0043"), headers)));
    expect(reply.status).toBe(401);
    await nothingHappened("UATTACK", n);
  });

  it("refuses a stale timestamp (more than 5 minutes old) and accepts one just inside the window", async () => {
    const n = h.slack.calls.length;
    const stale = toReply(await h.handler(signedEvent(SIGNING_SECRET, body(), { timestamp: now() - 301 })));
    expect(stale.status).toBe(401);
    await nothingHappened("UATTACK", n);
    const fresh = toReply(
      await h.handler(
        signedEvent(SIGNING_SECRET, slashCommandBody({ userId: "UEDGE", text: "status", responseUrl: "" }), {
          timestamp: now() - 290,
        }),
      ),
    );
    expect(fresh.status).toBe(200);
  });

  it("refuses a timestamp more than 5 minutes in the future (Bolt's own receiver accepts it)", async () => {
    const n = h.slack.calls.length;
    const event = () => signedEvent(SIGNING_SECRET, body(), { timestamp: now() + 3600 });
    const reply = toReply(await h.handler(event()));
    expect(reply.status).toBe(401);
    await nothingHappened("UATTACK", n);

    // The gap we close: Bolt's AwsLambdaReceiver lets the same future-dated request through to the app.
    const bolt = new AwsLambdaReceiver({ signingSecret: SIGNING_SECRET, logLevel: "error" as never });
    let reached = false;
    bolt.init({
      processEvent: async (e: { ack: (r?: unknown) => Promise<void> }) => {
        reached = true;
        await e.ack();
      },
    } as never);
    const boltReply = await bolt.toHandler()(event() as never, {} as never);
    expect(reached).toBe(true);
    expect(boltReply.statusCode).toBe(200);
  });

  it("refuses missing signature or timestamp headers, and a non-numeric timestamp", async () => {
    const n = h.slack.calls.length;
    const b = body();
    const signed = signSlackRequest(SIGNING_SECRET, b);
    const variants: Record<string, string>[] = [
      { "content-type": FORM },
      { "content-type": FORM, "x-slack-signature": signed["x-slack-signature"] },
      { "content-type": FORM, "x-slack-request-timestamp": signed["x-slack-request-timestamp"] },
      { "content-type": FORM, ...signed, "x-slack-request-timestamp": "soon" },
    ];
    for (const headers of variants) {
      expect(toReply(await h.handler(lambdaEvent(b, headers))).status).toBe(401);
    }
    await nothingHappened("UATTACK", n);
  });

  it("verifySlackSignature names why it refused", () => {
    const ts = String(now());
    const args = { signingSecret: "s", rawBody: "x", nowMs: Date.now() };
    expect(verifySlackSignature({ ...args, signature: undefined, timestamp: ts })).toEqual({
      ok: false,
      failure: "MISSING_HEADERS",
    });
    expect(verifySlackSignature({ ...args, signature: "v0=ab", timestamp: ts })).toEqual({
      ok: false,
      failure: "BAD_SIGNATURE",
    });
    expect(verifySlackSignature({ ...args, signature: "v0=ab", timestamp: String(now() + 400) })).toEqual({
      ok: false,
      failure: "FUTURE",
    });
    expect(verifySlackSignature({ ...args, signature: "v0=ab", timestamp: String(now() - 400) })).toEqual({
      ok: false,
      failure: "STALE",
    });
  });
});

describe("body handling", () => {
  const homeEvent = (name: string) =>
    JSON.stringify({
      token: "x",
      team_id: "T0CYTOSKEL",
      api_app_id: "ACYTOSKEL",
      type: "event_callback",
      event_id: "Ev01",
      event_time: now(),
      authorizations: [{ team_id: "T0CYTOSKEL", user_id: "UBOTCYTO", is_bot: true }],
      event: {
        type: "app_home_opened",
        user: "UHOME",
        channel: "DHOME",
        tab: "home",
        event_ts: `${now()}.000100`,
        view: { title: name },
      },
    });

  it("handles a base64 JSON event with accented names and emoji (Bolt's receiver decodes ASCII and fails)", async () => {
    const body = homeEvent("Zoë Ünlü 🧬");
    const n = h.slack.calls.length;
    const reply = toReply(
      await h.handler(
        signedEvent(SIGNING_SECRET, body, {
          contentType: "application/json",
          base64: true,
          format: "function-url",
        }),
      ),
    );
    expect(reply.status).toBe(200);
    // (usergroups.users.list may precede it: the admin-group cache filling, once per warm container)
    const calls = h.slack.calls.slice(n).filter((c) => c.method !== "usergroups.users.list");
    expect(calls.map((c) => c.method)).toEqual(["views.publish"]);
    expect(calls[0]?.args.user_id).toBe("UHOME");

    const bolt = new AwsLambdaReceiver({ signingSecret: SIGNING_SECRET, logLevel: "error" as never });
    bolt.init({ processEvent: async (e: { ack: () => Promise<void> }) => e.ack() } as never);
    const event = signedEvent(SIGNING_SECRET, body, { contentType: "application/json", base64: true });
    await expect(async () => {
      const r = await bolt.toHandler()(event as never, {} as never);
      if (r.statusCode !== 200) throw new Error(String(r.statusCode));
    }).rejects.toThrow();
  });

  it("answers url_verification with the challenge", async () => {
    const body = JSON.stringify({ type: "url_verification", token: "x", challenge: "c-123" });
    const reply = toReply(
      await h.handler(signedEvent(SIGNING_SECRET, body, { contentType: "application/json" })),
    );
    expect(reply.json).toEqual({ challenge: "c-123" });
  });

  it("answers a signed but malformed body with 400 and reaches no listener", async () => {
    const n = h.slack.calls.length;
    for (const [body, type] of [
      ["payload=%7Bnot-json", FORM],
      ["{not json", "application/json"],
      ["[1,2]", "application/json"],
      // A signed block_actions payload whose `actions` is null or empty (Bolt would throw: a 500).
      [
        `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", user: { id: "UX" }, actions: null }))}`,
        FORM,
      ],
      [
        `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", user: { id: "UX" }, actions: [] }))}`,
        FORM,
      ],
    ] as const) {
      expect(toReply(await h.handler(signedEvent(SIGNING_SECRET, body, { contentType: type }))).status).toBe(
        400,
      );
    }
    expect(h.slack.calls.length).toBe(n);
  });

  it("accepts content types with parameters, both event formats, and 404s what no listener handles", async () => {
    const body = slashCommandBody({ userId: "UCT", text: "status", responseUrl: "" });
    for (const format of ["http-api-v2", "function-url"] as const) {
      const reply = toReply(
        await h.handler(signedEvent(SIGNING_SECRET, body, { contentType: `${FORM}; charset=utf-8`, format })),
      );
      expect(reply.status).toBe(200);
      expect(reply.json.text).toContain("no access requests");
    }
    const other = slashCommandBody({ userId: "UCT", text: "status", command: "/other", responseUrl: "" });
    expect(toReply(await h.handler(signedEvent(SIGNING_SECRET, other))).status).toBe(404);
  });
});
