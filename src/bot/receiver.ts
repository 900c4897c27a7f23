/**
 * Our Bolt receiver for Lambda (API Gateway HTTP API v2, Function URL, and v1 REST events).
 *
 * Modelled on Bolt's AwsLambdaReceiver, closing its gaps:
 *  - replay window is ±5 minutes: a timestamp from the future is refused too (Bolt only checks the past);
 *  - base64 bodies are decoded as UTF-8 (Bolt decodes ASCII, so an accented name or emoji breaks JSON);
 *  - the signature is checked BEFORE the body is parsed, so a forged or malformed request never reaches
 *    a parser or a listener, and a malformed signed body (or a block_actions payload without `actions`)
 *    is a 400, not a 500;
 *  - `Content-Type` parameters (`; charset=utf-8`) are tolerated.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { App, Receiver, ReceiverEvent } from "@slack/bolt";

export const REPLAY_WINDOW_SECONDS = 5 * 60;
/** Where the request's signature reaches listeners (Bolt's `context`), for replay protection. */
export const SIGNATURE_PROPERTY = "slackSignature";

/** The subset of a Lambda HTTP event we read (v2 and Function URL share it; v1 REST has `path`). */
export interface HttpLambdaEvent {
  body?: string | null;
  headers?: Record<string, string | undefined> | null;
  isBase64Encoded?: boolean;
  rawPath?: string;
  path?: string;
}

export interface HttpLambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

export type LambdaHttpHandler = (event: HttpLambdaEvent, context?: unknown) => Promise<HttpLambdaResult>;

export interface ReceiverLogger {
  info(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  error(...msg: unknown[]): void;
}

export interface LambdaReceiverOptions {
  signingSecret: string;
  /** Epoch milliseconds; injectable so tests pin the replay window. */
  now?: () => number;
  logger?: ReceiverLogger;
}

export type VerifyFailure = "MISSING_HEADERS" | "BAD_TIMESTAMP" | "STALE" | "FUTURE" | "BAD_SIGNATURE";

/** Slack's v0 signature check over the raw body, with a symmetric replay window. */
export function verifySlackSignature(args: {
  signingSecret: string;
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
}): { ok: true } | { ok: false; failure: VerifyFailure } {
  const { signature, timestamp } = args;
  if (!signature || !timestamp) return { ok: false, failure: "MISSING_HEADERS" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, failure: "BAD_TIMESTAMP" };
  const skew = Math.floor(args.nowMs / 1000) - Number(timestamp);
  if (skew > REPLAY_WINDOW_SECONDS) return { ok: false, failure: "STALE" };
  if (skew < -REPLAY_WINDOW_SECONDS) return { ok: false, failure: "FUTURE" };
  const expected = Buffer.from(
    `v0=${createHmac("sha256", args.signingSecret).update(`v0:${timestamp}:${args.rawBody}`).digest("hex")}`,
  );
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, failure: "BAD_SIGNATURE" };
  }
  return { ok: true };
}

export function headerValue(headers: HttpLambdaEvent["headers"], name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

/** The body exactly as Slack signed it: base64 is decoded to bytes and read as UTF-8. */
export function rawBodyOf(event: HttpLambdaEvent): string {
  if (event.body === undefined || event.body === null) return "";
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

export class BodyParseError extends Error {
  override readonly name = "BodyParseError";
}

/** Form bodies (slash commands; interactivity as `payload=<json>`) or JSON (Events API). */
export function parseSlackBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  try {
    if (type === "application/x-www-form-urlencoded") {
      const params = Object.fromEntries(new URLSearchParams(rawBody));
      if (typeof params.payload === "string") return asObject(JSON.parse(params.payload));
      return params;
    }
    return asObject(JSON.parse(rawBody));
  } catch (cause) {
    throw new BodyParseError(`request body is not valid ${type ?? "JSON"}`, { cause });
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
  return value as Record<string, unknown>;
}

const EMPTY = (statusCode: number): HttpLambdaResult => ({ statusCode, body: "" });

export class LambdaReceiver implements Receiver {
  private app: App | undefined;
  private readonly now: () => number;
  private readonly logger: ReceiverLogger;

  constructor(private readonly opts: LambdaReceiverOptions) {
    if (!opts.signingSecret) throw new Error("LambdaReceiver needs a signing secret");
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? console;
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<LambdaHttpHandler> {
    return this.toHandler();
  }

  async stop(): Promise<void> {}

  toHandler(): LambdaHttpHandler {
    // Two parameters, promise-returning: Lambda's Node 24 runtime refuses callback-style handlers.
    return async (event, _context) => this.handle(event);
  }

  private async handle(event: HttpLambdaEvent): Promise<HttpLambdaResult> {
    const rawBody = rawBodyOf(event);
    const contentType = headerValue(event.headers, "content-type");
    const verdict = verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      rawBody,
      signature: headerValue(event.headers, "x-slack-signature"),
      timestamp: headerValue(event.headers, "x-slack-request-timestamp"),
      nowMs: this.now(),
    });
    if (!verdict.ok) {
      // Slack's unsigned SSL check for slash commands: answer 200, do nothing.
      if (/(^|&)ssl_check=1(&|$)/.test(rawBody)) return EMPTY(200);
      this.logger.warn(`Refused Slack request: ${verdict.failure}`);
      return EMPTY(401);
    }

    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(rawBody, contentType);
    } catch (err) {
      this.logger.warn(`Refused Slack request: ${(err as Error).message}`);
      return EMPTY(400);
    }
    if (body.ssl_check !== undefined) return EMPTY(200);
    // Bolt reads `actions[0]` of every block_actions payload; without a list it throws (a 500).
    if (body.type === "block_actions" && (!Array.isArray(body.actions) || body.actions.length === 0)) {
      this.logger.warn("Refused Slack request: block_actions without actions");
      return EMPTY(400);
    }
    if (body.type === "url_verification") {
      return {
        statusCode: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ challenge: body.challenge }),
      };
    }

    let acked = false;
    let stored: unknown;
    const retryNum = headerValue(event.headers, "x-slack-retry-num");
    const receiverEvent: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => {
        if (acked) throw new Error("ack() called twice for one Slack request");
        acked = true;
        stored = response ?? "";
      },
      // The signature keys replay protection for a payload without a trigger_id (src/bot/replay.ts).
      customProperties: { [SIGNATURE_PROPERTY]: headerValue(event.headers, "x-slack-signature") ?? "" },
    };
    if (retryNum !== undefined) receiverEvent.retryNum = Number(retryNum);
    const retryReason = headerValue(event.headers, "x-slack-retry-reason");
    if (retryReason !== undefined) receiverEvent.retryReason = retryReason;

    try {
      await this.app?.processEvent(receiverEvent);
    } catch (err) {
      this.logger.error(
        `Unhandled error while processing a Slack request: ${(err as Error)?.name ?? "Error"}`,
      );
      return { statusCode: 500, body: "Internal server error" };
    }
    if (!acked) {
      this.logger.info(`No listener matched the request to ${event.rawPath ?? event.path ?? "/"}`);
      return EMPTY(404);
    }
    if (typeof stored === "string") return { statusCode: 200, body: stored };
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(stored) };
  }
}
