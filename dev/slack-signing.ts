/**
 * Slack request signing (v0 scheme) with the real HMAC, exactly as Slack signs requests:
 * `v0=` + hex(HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`)).
 */
import { createHmac } from "node:crypto";
import { noteSecret } from "./secrets-seen.ts";

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface SignedHeaders {
  "x-slack-signature": string;
  "x-slack-request-timestamp": string;
}

/** Headers for `body` signed at `timestamp` (epoch seconds; default now). */
export function signSlackRequest(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): SignedHeaders {
  noteSecret("signing secret", secret);
  return {
    "x-slack-signature": slackSignature(secret, timestamp, body),
    "x-slack-request-timestamp": String(timestamp),
  };
}
