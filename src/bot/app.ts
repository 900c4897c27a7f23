/**
 * The Bolt app: builds the listeners' context and registers each listener (src/bot/listeners/, one
 * file per Bolt registration). Listeners only check who may act, flip request state, and say so.
 * Nothing here calls IAM or S3 Control — provisioning runs from the table's stream after the state change.
 *
 * Ack budget (Slack allows 3 s including a cold start, and on Lambda the response leaves only after the
 * listener returns): each listener makes at most ONE store write operation and at most ONE Slack call,
 * but for one small mark, below.
 *  - The requester's receipt / status / help / errors are the slash command's ack body (no Slack call).
 *  - request: store.create (duplicate → the open one is answered, nothing filed) + chat.postMessage of
 *    the admin card, then one UpdateItem recording where the card is (store.recordAdminCard; it leaves
 *    updatedAt alone, so the copy the Approve button carries stays current). It is the exception to
 *    "one write": without it a request nobody decides could never lose its card's buttons when it
 *    expires, nor be linked from the expiry job's reminders. A decision records the clicked card too.
 *  - extension (the expiry reminder's button): one conditional UpdateItem records the ask (requester,
 *    ACTIVE, not asked yet) + chat.postMessage to the admin channel; a repeat gets one ephemeral.
 *  - approve / retry / deny-submit: store.transition (conditional: exactly one winner) + chat.update of
 *    the card. Self-approval (and an admin's Retry of their own request) is judged on the stored
 *    requester inside the transition (`guard`: the write is conditioned on the requester of the copy it
 *    judged), so a forged button value cannot decide it and no read is needed first.
 *  - deny button: no write; views.open of the reason modal. A modal submission that loses a race is
 *    answered inside the modal (response_action "errors"), not with another call.
 *  - refusals and lost races: no write; one chat.postEphemeral to the clicker.
 *  - cancel: store.transition + one Slack call: chat.update of the card when its ts is known, else a
 *    short note in the admin channel.
 *  - revoke / reissue (admin): one conditional put of a job item (src/store/jobs.ts), no Slack call (the
 *    "I'll confirm" answer is the ack body); the provisioner runs the job from the stream and confirms
 *    through the command's response_url, the person's DM and the admin channel.
 *  - audit (admin) and its "Older events" button: no write; reads one page of the trail (a deep prefix
 *    may take a few Queries to fill it); the command answers in its ack body, the button through the
 *    click's response_url (its one Slack call).
 * The one exception is admin membership through ADMIN_USERGROUP_ID: usergroups.users.list is called
 * when the clicker is not a listed admin and the cached membership is older than the cache TTL.
 */

import { App, LogLevel, type Receiver, type webApi } from "@slack/bolt";
import { jsonLogger } from "../log.ts";
import { slackClientOptions } from "../runtime/slack-client.ts";
import type { ResolvedBotConfig } from "./config.ts";
import { type BotLogger, type BotStore, createBotContext, type JobQueue } from "./context.ts";
import * as appHome from "./listeners/app-home.ts";
import * as approve from "./listeners/approve.ts";
import * as approveShorter from "./listeners/approve-shorter.ts";
import * as auditOlder from "./listeners/audit-older.ts";
import * as cancel from "./listeners/cancel.ts";
import * as command from "./listeners/command.ts";
import * as deny from "./listeners/deny.ts";
import * as denySubmit from "./listeners/deny-submit.ts";
import * as extend from "./listeners/extend.ts";
import * as retry from "./listeners/retry.ts";

export type { BotLogger, BotStore, JobQueue } from "./context.ts";

export interface BotAppDeps {
  config: ResolvedBotConfig;
  store: BotStore;
  receiver: Receiver;
  clock?: () => Date;
  /** Extra WebClient options (tests: fewer retries); slackApiUrl comes from config.slack.apiUrl. */
  clientOptions?: webApi.WebClientOptions;
  /** Admin jobs (revoke / reissue); without it those commands say they are not wired. */
  jobs?: JobQueue;
  logger?: BotLogger;
}

const LISTENERS = [
  command,
  approve,
  approveShorter,
  retry,
  deny,
  denySubmit,
  extend,
  cancel,
  auditOlder,
  appHome,
];

export function createBotApp(deps: BotAppDeps): App {
  const { config } = deps;
  const ctx = createBotContext({
    config,
    store: deps.store,
    jobs: deps.jobs,
    log: deps.logger ?? jsonLogger,
    clock: deps.clock ?? (() => new Date()),
  });

  const app = new App({
    receiver: deps.receiver,
    token: config.slack.botToken,
    // Both IDs given: Bolt never calls auth.test (offline it would hang through its retries).
    botId: config.slack.botId,
    botUserId: config.slack.botUserId,
    convoStore: false,
    // One Slack client policy for every function (src/runtime/slack-client.ts); tests may override.
    clientOptions: { ...slackClientOptions(config.slack), ...deps.clientOptions },
    logLevel: LogLevel.WARN,
  });

  app.error(async (err) => {
    ctx.log.error("listener_failed", { error: err, code: err.code });
  });

  for (const listener of LISTENERS) listener.register(app, ctx);
  return app;
}
