/**
 * The one Slack Web API client set-up: every function (the bot through Bolt, the provisioner, the
 * expiry job and the secret link) talks to Slack with these options, so there is one retry policy.
 * A call is tried 1 + maxRetries times on 5xx / network errors (a call unanswered after
 * SLACK_REQUEST_TIMEOUT_MS included), waiting 200 ms, then 400 ms … at most 1 s. The bot has 3 s to
 * answer Slack, so the default (1 retry) keeps a failing call short. A 429 is rejected at once
 * (`rejectRateLimitedCalls`; WebAPIRateLimitedError carries `retryAfter`) instead of the WebClient's
 * default of sleeping the whole Retry-After, which may be longer than the function may live: the
 * provisioner's attempts wait it out when it fits (src/runtime/retry.ts states the whole budget).
 */
import { LogLevel, WebClient, type WebClientOptions } from "@slack/web-api";
import { DEFAULT_SLACK_RETRIES, SLACK_API_DEFAULT, SLACK_REQUEST_TIMEOUT_MS } from "./settings.ts";

export interface SlackClientSettings {
  /** Defaults to Slack's https://slack.com/api/; tests and the playground point it at a stand-in. */
  apiUrl?: string;
  /** Retries of one call; default 1. */
  maxRetries?: number;
}

/** WebClient options (also what Bolt's App takes as `clientOptions`). */
export function slackClientOptions(settings: SlackClientSettings = {}): WebClientOptions {
  return {
    slackApiUrl: settings.apiUrl ?? SLACK_API_DEFAULT,
    retryConfig: {
      retries: settings.maxRetries ?? DEFAULT_SLACK_RETRIES,
      factor: 2,
      minTimeout: 200,
      maxTimeout: 1_000,
    },
    rejectRateLimitedCalls: true,
    timeout: SLACK_REQUEST_TIMEOUT_MS,
    // The default logger prints request URLs only, but keep it quiet in Lambda logs.
    logLevel: LogLevel.WARN,
  };
}

export function createSlackClient(token: string, settings: SlackClientSettings = {}): WebClient {
  return new WebClient(token, slackClientOptions(settings));
}

/** Slack's Retry-After of a rejected 429 (the WebClient does not wait it out: src/runtime/slack-client.ts). */
export function slackRetryAfterMs(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const { code, retryAfter } = e as { code?: unknown; retryAfter?: unknown };
    if (code === "slack_webapi_rate_limited_error" && typeof retryAfter === "number")
      return retryAfter * 1000;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
