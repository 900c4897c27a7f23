/**
 * A local stand-in for the Slack Web API (and for `response_url` webhooks) on 127.0.0.1.
 *
 * It speaks what `@slack/web-api`'s WebClient sends (form-encoded, nested values JSON-encoded;
 * or JSON bodies), answers with Slack-shaped JSON, and records every call. `GET /calls` serves the
 * record as JSON so any Slack-speaking client can check what the bot said; `DELETE /calls` clears it.
 * Tokens are checked for presence/shape but never recorded.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer, limitServer, readBodyWithin, stopOnce } from "../src/runtime/local-http.ts";
import { noteSecret, noteSlackCall } from "./secrets-seen.ts";

export interface SlackCall {
  /** Web API method (e.g. `chat.postMessage`) or `response_url` for webhook posts. */
  method: string;
  args: Record<string, unknown>;
  /** For response_url posts: the hook id in the URL. */
  hook?: string;
  /** 429: answered as rate-limited (rateLimitNext), so nothing was done. */
  status?: number;
  at: string;
  seq: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  updates: number;
}

export interface FakeSlackOptions {
  port?: number;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** Members returned by usergroups.users.list, by group ID. */
  usergroups?: Record<string, string[]>;
  /** Called after each recorded call (the playground prints them). */
  onCall?: (call: SlackCall) => void;
  /** Artificial latency per call in ms (benchmarks). */
  latencyMs?: number;
}

export interface FakeSlack {
  url: string;
  /** Value for WebClient's `slackApiUrl` / SLACK_API_URL. */
  apiUrl: string;
  port: number;
  server: Server;
  calls: SlackCall[];
  messages: Map<string, StoredMessage>;
  usergroups: Record<string, string[]>;
  /** A fresh response_url pointing at this server. */
  responseUrl(): string;
  callsTo(method: string): SlackCall[];
  /** Make the next call to `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string): void;
  /**
   * Make the next `times` calls to `method` answer as Slack's rate limiter does: HTTP 429 with a
   * Retry-After header (seconds) and `{ ok: false, error: "ratelimited" }`. Recorded with `status: 429`.
   */
  rateLimitNext(method: string, retryAfterSeconds: number, times?: number): void;
  clear(): void;
  stop(): Promise<void>;
}

const TOKEN = /^Bearer xox[abp]-[A-Za-z0-9-]+$/;
const LINK_KEY = /\/s\/[A-Za-z0-9_-]+#([A-Za-z0-9_-]{16,})/g;

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const teamId = opts.teamId ?? "T0CYTOSKEL";
  const botUserId = opts.botUserId ?? "UBOTCYTO";
  const botId = opts.botId ?? "BBOTCYTO";
  const calls: SlackCall[] = [];
  const messages = new Map<string, StoredMessage>();
  const failures = new Map<string, string>();
  const rateLimits = new Map<string, { retryAfter: number; times: number }>();
  const usergroups = opts.usergroups ?? {};
  let seq = 0;
  let tsCounter = 0;
  const nextTs = () => {
    tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(tsCounter).padStart(6, "0")}`;
  };

  const record = (method: string, args: Record<string, unknown>, hook?: string): SlackCall => {
    seq += 1;
    const call: SlackCall = { method, args, at: new Date().toISOString(), seq };
    if (hook) call.hook = hook;
    calls.push(call);
    noteSlackCall(call);
    // A secret link's key (the fragment of /s/<id>#<key>) is a secret: output must never show it.
    for (const m of JSON.stringify(args).matchAll(LINK_KEY)) noteSecret("link key", m[1]);
    opts.onCall?.(call);
    return call;
  };

  const api = (method: string, args: Record<string, unknown>): Record<string, unknown> => {
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      return { ok: false, error: failure };
    }
    const str = (k: string) => (typeof args[k] === "string" ? (args[k] as string) : undefined);
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://cytoskel.example/",
          team: "cytoskel",
          user: "cytoskel",
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
        };
      case "chat.postMessage": {
        const channel = str("channel");
        if (!channel) return { ok: false, error: "channel_not_found" };
        if (!str("text") && !args.blocks) return { ok: false, error: "no_text" };
        const ts = nextTs();
        const msg: StoredMessage = { channel, ts, updates: 0 };
        const text = str("text");
        if (text !== undefined) msg.text = text;
        if (Array.isArray(args.blocks)) msg.blocks = args.blocks;
        const thread = str("thread_ts");
        if (thread) msg.thread_ts = thread;
        messages.set(`${channel}:${ts}`, msg);
        return { ok: true, channel, ts, message: { type: "message", text, ts, bot_id: botId } };
      }
      case "chat.update": {
        const channel = str("channel") ?? "";
        const ts = str("ts") ?? "";
        const msg = messages.get(`${channel}:${ts}`);
        if (!msg) return { ok: false, error: "message_not_found" };
        const text = str("text");
        if (text !== undefined) msg.text = text;
        if (Array.isArray(args.blocks)) msg.blocks = args.blocks;
        msg.updates += 1;
        return { ok: true, channel, ts, text: msg.text };
      }
      case "chat.getPermalink": {
        // As Slack documents it (docs.slack.dev chat.getPermalink: no scope needed; errors
        // channel_not_found, message_not_found). The workspace host is made up; thread permalinks
        // (?thread_ts=…&cid=…) are not modelled.
        const channel = str("channel");
        const ts = str("message_ts");
        if (!channel) return { ok: false, error: "channel_not_found" };
        if (!ts || !messages.has(`${channel}:${ts}`)) return { ok: false, error: "message_not_found" };
        return {
          ok: true,
          channel,
          permalink: `https://cytoskel-playground.slack.com/archives/${channel}/p${ts.replace(".", "")}`,
        };
      }
      case "chat.postEphemeral":
        if (!str("channel") || !str("user")) return { ok: false, error: "invalid_arguments" };
        return { ok: true, message_ts: nextTs() };
      case "views.open":
        if (!str("trigger_id") || !args.view) return { ok: false, error: "invalid_arguments" };
        return {
          ok: true,
          view: { id: `V${randomUUID().slice(0, 8).toUpperCase()}`, ...(args.view as object) },
        };
      case "views.publish": {
        // docs.slack.dev views.publish: user_id and view are required; a view over 250 KB is
        // view_too_large; a Home view holds at most 100 blocks ("Home tab views"). The answer to too
        // many blocks is modelled as invalid_arguments with a response_metadata message, as Slack
        // answers other block-limit breaches (its exact wording here is not confirmed).
        const user = str("user_id");
        const view = args.view as { type?: unknown; blocks?: unknown } | undefined;
        if (!user || !view || typeof view !== "object") return { ok: false, error: "invalid_arguments" };
        if (JSON.stringify(view).length > 250_000) return { ok: false, error: "view_too_large" };
        if (view.type !== "home" || !Array.isArray(view.blocks))
          return {
            ok: false,
            error: "invalid_arguments",
            response_metadata: { messages: ["[ERROR] must be a home view [json-pointer:/view]"] },
          };
        if (view.blocks.length > 100)
          return {
            ok: false,
            error: "invalid_arguments",
            response_metadata: {
              messages: ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"],
            },
          };
        return { ok: true, view: { id: `V${randomUUID().slice(0, 8).toUpperCase()}`, ...view } };
      }
      case "conversations.open": {
        const users = str("users");
        if (!users) return { ok: false, error: "invalid_arguments" };
        return { ok: true, channel: { id: `D${users.split(",")[0]}` } };
      }
      case "users.info": {
        const user = str("user");
        if (!user) return { ok: false, error: "user_not_found" };
        return {
          ok: true,
          user: {
            id: user,
            team_id: teamId,
            name: user.toLowerCase(),
            real_name: user,
            profile: { display_name: user },
          },
        };
      }
      case "usergroups.users.list": {
        const group = str("usergroup");
        const members = group ? usergroups[group] : undefined;
        return members ? { ok: true, users: members } : { ok: false, error: "no_such_subteam" };
      }
      default:
        return { ok: true };
    }
  };

  const server: Server = limitServer(
    createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        send(res, 500, { ok: false, error: "fake_slack_internal", detail: String(err) });
      });
    }),
  );

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/calls") {
      if (req.method === "GET") {
        const method = url.searchParams.get("method");
        return send(res, 200, method ? calls.filter((c) => c.method === method) : calls);
      }
      if (req.method === "DELETE") {
        calls.length = 0;
        return send(res, 200, { ok: true });
      }
    }
    if (url.pathname === "/messages" && req.method === "GET") return send(res, 200, [...messages.values()]);
    const raw = await readBodyWithin(req, res);
    if (!raw) return;
    const body = raw.toString("utf8");
    if (req.method === "POST" && url.pathname.startsWith("/response/")) {
      const args = parseArgs(body, req.headers["content-type"]);
      record("response_url", args, url.pathname.slice("/response/".length));
      await delay(opts.latencyMs);
      return send(res, 200, "ok", "text/plain");
    }
    if (req.method === "POST" && url.pathname.startsWith("/api/")) {
      const method = url.pathname.slice("/api/".length);
      const args = parseArgs(body, req.headers["content-type"]);
      // Tokens may also arrive in the form body (older clients); either way they are dropped here.
      const auth =
        req.headers.authorization ?? (typeof args.token === "string" ? `Bearer ${args.token}` : "");
      delete args.token;
      noteSecret("bot token", auth.replace(/^Bearer /, ""));
      const call = record(method, args);
      await delay(opts.latencyMs);
      if (!TOKEN.test(auth)) return send(res, 200, { ok: false, error: "not_authed" });
      const limit = rateLimits.get(method);
      if (limit) {
        if (--limit.times <= 0) rateLimits.delete(method);
        call.status = 429;
        res.writeHead(429, {
          "content-type": "application/json; charset=utf-8",
          "retry-after": String(limit.retryAfter),
        });
        return res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
      }
      return send(res, 200, api(method, args));
    }
    return send(res, 404, { ok: false, error: "unknown_route" });
  };

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    apiUrl: `${url}/api/`,
    port,
    server,
    calls,
    messages,
    usergroups,
    responseUrl: () => `${url}/response/${randomUUID()}`,
    callsTo: (method) => calls.filter((c) => c.method === method),
    failNext: (method, error) => void failures.set(method, error),
    rateLimitNext: (method, retryAfter, times = 1) => void rateLimits.set(method, { retryAfter, times }),
    clear: () => {
      calls.length = 0;
      messages.clear();
    },
    stop: stopOnce(() => closeServer(server)),
  };
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": `${type}; charset=utf-8` });
  res.end(text);
}

/** Form bodies carry nested values (blocks, view) as JSON strings: decode those back. */
function parseArgs(body: string, contentType: string | undefined): Record<string, unknown> {
  if (!body) return {};
  if (contentType?.includes("application/json")) {
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { _raw: body };
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (/^[[{]/.test(value)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // plain text that happens to start with a bracket
      }
    }
    args[key] = value;
  }
  return args;
}

function delay(ms: number | undefined): Promise<void> {
  return ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
