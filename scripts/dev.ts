/**
 * `npm run dev` — the whole of cytoskel on this machine, zero config:
 * DynamoDB Local (needs Java 17+: the store writes with transactions; in memory, telemetry off, killed
 * when this process exits), the local AWS stand-in, a fake Slack Web API that prints what the bot
 * says, the secret-link server, the provisioner fed by the local stream stand-in, and the bot's Lambda
 * handler over HTTP on 127.0.0.1. Drive it with `npm run slack` (or any client that signs requests).
 *
 * With real SLACK_BOT_TOKEN + SLACK_APP_TOKEN (+ SLACK_BOT_ID, SLACK_BOT_USER_ID, ADMIN_USER_IDS,
 * ADMIN_CHANNEL_ID) the same app runs in Socket Mode against a real workspace; AWS and DynamoDB stay local.
 */

import { rmSync, unwatchFile, watchFile } from "node:fs";
import { SocketModeReceiver } from "@slack/bolt";
import { javaMissingReason } from "../dev/dynamodb.ts";
import type { SlackCall } from "../dev/fake-slack.ts";
import { PLAYGROUND_DEFAULTS, startPlayground } from "../dev/playground.ts";
import {
  describeOffset,
  fileClock,
  playgroundStateFile,
  writePlaygroundState,
} from "../dev/playground-clock.ts";
import { type Schedule, scheduleExpiry } from "../dev/schedule.ts";
import { createBotApp } from "../src/bot/app.ts";
import { loadBotConfig } from "../src/bot/config.ts";
import type { ExpiryResult } from "../src/expiry/lambda.ts";
import { stopOnce } from "../src/runtime/local-http.ts";
import { SLACK_API_DEFAULT } from "../src/runtime/settings.ts";
import { createStores } from "../src/store/index.ts";

// It holds the signing secret: this user's only (dev/playground-clock.ts). CYTOSKEL_PLAYGROUND_STATE:
// another place (tests, or two playgrounds on one machine).
export const STATE_FILE = playgroundStateFile();

const env = process.env;
const socketMode = Boolean(env.SLACK_APP_TOKEN && env.SLACK_BOT_TOKEN);
const port = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

function summarize(call: SlackCall): string {
  const a = call.args;
  const where = [a.channel, a.user, a.user_id].filter((x) => typeof x === "string").join(" → ");
  const text = typeof a.text === "string" ? a.text : "";
  const view = a.view ? ` [modal ${(a.view as { callback_id?: string }).callback_id ?? ""}]` : "";
  const blocks = Array.isArray(a.blocks) ? blockText(a.blocks) : "";
  const body = [text, blocks && blocks !== text ? blocks : ""].filter(Boolean).join("\n");
  return `\n[slack] ${call.method}${where ? ` (${where})` : ""}${view}\n${indent(body)}`;
}

/** What a run of the scheduled job did, when it did anything. */
function printJobRun(now: () => Date) {
  return (r: ExpiryResult) => {
    const did =
      r.expired +
      r.reminded +
      r.pendingExpired +
      r.announced +
      r.redriven +
      r.cardsPosted +
      r.failedExpired +
      r.errors.length;
    if (did === 0) return;
    const errors = r.errors.length ? `, errors: ${r.errors.map((e) => `${e.id} ${e.error}`).join("; ")}` : "";
    console.log(
      `\n[expiry job @ ${now().toISOString()}] expired ${r.expired}, warned ${r.reminded}, pending expired ${r.pendingExpired}, re-announced ${r.announced}, driven again ${r.redriven}, cards posted ${r.cardsPosted}, failed closed ${r.failedExpired}${errors}`,
    );
  };
}

function blockText(blocks: unknown[]): string {
  const out: string[] = [];
  for (const b of blocks as Array<Record<string, unknown>>) {
    const t = (b.text as { text?: string } | undefined)?.text;
    if (t) out.push(t);
    for (const f of (b.fields as Array<{ text: string }> | undefined) ?? [])
      out.push(f.text.replace(/\n/g, ": "));
    for (const e of (b.elements as Array<Record<string, unknown>> | undefined) ?? []) {
      if (e.type === "button") out.push(`[${(e.text as { text: string }).text}]`);
      else if (typeof e.text === "string") out.push(e.text);
    }
  }
  return out.join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

// The store needs DynamoDB Local, which needs Java: say so plainly instead of a stack trace.
const noJava = javaMissingReason();
if (noJava) {
  console.error(`cytoskel dev: cannot start the local DynamoDB: ${noJava}.`);
  process.exit(1);
}

if (socketMode) {
  // Real Slack for chat, local everything else. loadBotConfig names whatever is missing.
  const fromEnv = loadBotConfig({
    TABLE_NAME: "cytoskel-playground",
    SLACK_SIGNING_SECRET: "unused-in-socket-mode",
    ...env,
  });
  const pg = await startPlayground({
    botPort: port("BOT_PORT", 0),
    realSlack: {
      apiUrl: env.SLACK_API_URL ?? SLACK_API_DEFAULT,
      botToken: env.SLACK_BOT_TOKEN ?? "",
      botId: fromEnv.slack.botId,
      botUserId: fromEnv.slack.botUserId,
      adminUserIds: fromEnv.admins.userIds,
      adminChannelId: fromEnv.admins.channelId,
    },
  });
  const app = createBotApp({
    config: pg.config,
    // The bot's store signs as the bot's synthesized role, as in the HTTP front.
    store: createStores({ client: pg.roles.doc("bot"), tableName: pg.dynamo.tableName }).requests,
    jobs: pg.jobs,
    receiver: new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN ?? "" }),
  });
  await app.start();
  const schedule = scheduleExpiry(pg, { onRun: printJobRun(pg.now) });
  console.log(
    `cytoskel dev: Socket Mode against your Slack workspace; DynamoDB, AWS and secret links local (${pg.secretLinkUrl}).`,
  );
  const stop = stopOnce(async () => {
    await app.stop();
    schedule.stop();
    await pg.stop();
    process.exit(0);
  });
  process.on("SIGINT", () => void stop());
} else {
  // A state file left by a playground that died keeps its clock offset: start from the real time.
  rmSync(STATE_FILE, { force: true });
  let schedule: Schedule | undefined;
  // `npm run slack -- clock +3d` rewrites the state file; the job then runs at once at the new time.
  const clock = fileClock(STATE_FILE, {
    onChange: (offset) => {
      console.log(`\n[clock] playground time is now ${describeOffset(offset)}`);
      void schedule?.now();
    },
  });
  const pg = await startPlayground({
    clock: clock.now,
    botPort: port("BOT_PORT", PLAYGROUND_DEFAULTS.botPort),
    slackPort: port("SLACK_PORT", PLAYGROUND_DEFAULTS.slackPort),
    secretLinkPort: port("SECRET_LINK_PORT", PLAYGROUND_DEFAULTS.secretLinkPort),
    onSlackCall: (call) => console.log(summarize(call)),
  });
  const d = PLAYGROUND_DEFAULTS;
  const state = {
    botUrl: pg.botUrl,
    slackUrl: pg.slack.url,
    signingSecret: d.signingSecret,
    adminUserId: d.adminUserId,
    adminChannelId: d.adminChannelId,
    teamId: d.teamId,
    pid: process.pid,
    clockOffsetMs: 0,
  };
  writePlaygroundState(STATE_FILE, state);
  schedule = scheduleExpiry(pg, { onRun: printJobRun(pg.now) });
  // Notice a moved clock even while nothing else asks the time.
  watchFile(STATE_FILE, { interval: 500 }, () => void clock.offsetMs());
  console.log(`cytoskel playground is up (everything local; nothing leaves 127.0.0.1)

  bot (Slack request URL)   ${pg.botUrl}
  signing secret            ${d.signingSecret}
  admin user / channel      ${d.adminUserId} / ${d.adminChannelId}   (team ${d.teamId})
  fake Slack Web API        ${pg.slack.apiUrl}   — every call as JSON: GET ${pg.slack.url}/calls
  secret links              ${pg.secretLinkUrl}/s/<id>#<key>
  DynamoDB Local            ${pg.dynamo.endpoint}   table ${pg.dynamo.tableName}
  local AWS (IAM/STS/S3C)   ${pg.localAws.url}   account ${pg.localAws.accountId}, location ${pg.locationId}
                            judges every call by IAM policy; each function signs as its synthesized role
  expiry / reminder job     every minute, at the playground's time (npm run slack -- clock +3d moves it)

Try, in another shell:
  npm run slack -- --user U123 "/cytoskel request prefix cpg0042/* write for 30d new plates"
  npm run slack -- --user ${d.adminUserId} approve <request-id>
  npm run slack -- --user U123 "/cytoskel status"
  npm run slack -- --user ${d.adminUserId} "/cytoskel revoke <@U123>"
  npm run slack -- clock +15d        # then watch the job expire what waited too long
Ctrl-C stops everything.`);
  // tsx and the terminal may both deliver Ctrl-C: stop once, exit when done.
  const stop = stopOnce(async () => {
    schedule?.stop();
    unwatchFile(STATE_FILE);
    rmSync(STATE_FILE, { force: true });
    await pg.stop();
    process.exit(0);
  });
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}
