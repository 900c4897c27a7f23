/**
 * The playground's servers (the bot's HTTP front, the fake Slack, the secret-link server) against a
 * client that sends too much, and stopped twice (Ctrl-C during a stop); issue 13, hole 7.
 */
import { request, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSlack } from "../../dev/fake-slack.ts";
import { serveHandler } from "../../dev/playground.ts";
import type { HttpLambdaResult } from "../../src/bot/receiver.ts";
import { closeServer, LOCAL_HTTP_LIMITS } from "../../src/runtime/local-http.ts";
import { startSecretLinkServer } from "../../src/secret-link/node-server.ts";

const LIMIT = LOCAL_HTTP_LIMITS.maxBodyBytes;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Served {
  url: string;
  server: Server;
  /** How many requests reached the code behind the server. */
  handled: () => number;
}

async function botFront(): Promise<Served> {
  let n = 0;
  const bot = await serveHandler(async (): Promise<HttpLambdaResult> => {
    n += 1;
    return { statusCode: 200, body: "ok" };
  }, 0);
  stops.push(() => closeServer(bot.server));
  return { url: `${bot.url}/slack/events`, server: bot.server, handled: () => n };
}

async function fakeSlack(): Promise<Served> {
  const slack = await startFakeSlack();
  stops.push(() => slack.stop());
  // The fake records every API call it reads: a call recorded is a body read.
  return { url: `${slack.apiUrl}chat.postMessage`, server: slack.server, handled: () => slack.calls.length };
}

async function secretLink(): Promise<Served> {
  let n = 0;
  const link = await startSecretLinkServer(async () => {
    n += 1;
    return { status: 200, headers: {}, body: "" };
  });
  stops.push(() => link.close());
  return { url: `${link.url}/s/x`, server: link.server, handled: () => n };
}

/** POSTs `bytes` bytes, chunked (no Content-Length) unless `declare`; the status, or "reset". */
function post(
  url: string,
  bytes: number,
  declare = false,
): Promise<{ status: number | "reset"; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: "Bearer xoxb-test",
        ...(declare ? { "content-length": String(bytes) } : {}),
      },
    });
    req.on("response", (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, sent });
      req.destroy();
    });
    req.on("error", () => resolve({ status: "reset", sent }));
    const chunk = Buffer.alloc(64 * 1024, "a");
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

const SERVERS: Array<[string, () => Promise<Served>]> = [
  ["the bot's HTTP front", botFront],
  ["the fake Slack", fakeSlack],
];

describe("a body over the limit", () => {
  it.each(SERVERS)(
    "%s answers 413 to a streamed body past the limit and passes nothing on",
    async (_, start) => {
      const s = await start();
      const before = s.handled();
      const out = await post(s.url, 50 * 1024 * 1024);
      expect(out.status).toBe(413);
      // It stopped reading: far less than the 50 MB was taken (socket buffers allow some slack).
      expect(out.sent).toBeLessThan(10 * LIMIT);
      expect(s.handled()).toBe(before);
    },
  );

  it.each(SERVERS)("%s refuses a declared Content-Length over the limit before reading", async (_, start) => {
    const s = await start();
    const before = s.handled();
    expect((await post(s.url, LIMIT + 1, true)).status).toBe(413);
    expect(s.handled()).toBe(before);
  });

  it.each(SERVERS)("%s still takes a body at the limit", async (_, start) => {
    const s = await start();
    expect((await post(s.url, LIMIT - (LIMIT % (64 * 1024)))).status).toBe(200);
  });
});

describe("slow clients", () => {
  it.each([...SERVERS, ["the secret-link server", secretLink] as [string, () => Promise<Served>]])(
    "%s gives headers, a request and an idle keep-alive seconds, not Node's 300 s",
    async (_, start) => {
      const { server } = await start();
      expect(server.headersTimeout).toBeLessThanOrEqual(10_000);
      expect(server.requestTimeout).toBeGreaterThan(0);
      expect(server.requestTimeout).toBeLessThanOrEqual(30_000);
      expect(server.keepAliveTimeout).toBeLessThanOrEqual(5_000);
    },
  );
});

describe("stopping twice", () => {
  it("the fake Slack and the secret-link server stop twice (at once or one after the other) without ERR_SERVER_NOT_RUNNING", async () => {
    const slack = await startFakeSlack();
    const link = await startSecretLinkServer(async () => ({ status: 200, headers: {}, body: "" }));
    await Promise.all([slack.stop(), slack.stop(), link.close(), link.close()]);
    await expect(slack.stop()).resolves.toBeUndefined();
    await expect(link.close()).resolves.toBeUndefined();
  });

  it("closeServer on a server already closed resolves", async () => {
    const bot = await serveHandler(async () => ({ statusCode: 200, body: "" }), 0);
    await closeServer(bot.server);
    await expect(closeServer(bot.server)).resolves.toBeUndefined();
  });
});
