/**
 * `npm run slack` — act as Slack towards the playground (or any bot URL): sends properly signed slash
 * commands and button clicks, then prints the bot's answer and every Slack call the bot made meanwhile.
 *
 *   npm run slack -- --user U123 "/cytoskel request prefix cpg0042/*"
 *   npm run slack -- --user UADMIN approve <request-id>
 *   npm run slack -- --user UADMIN deny <request-id> [reason…]
 *   npm run slack -- --user UADMIN retry <request-id>
 *   npm run slack -- calls            # every Slack call the fake Slack API received, as JSON
 *   npm run slack -- clock            # the playground's time
 *   npm run slack -- clock +3d        # move it forward (+<N>d, +<N>h, +<N>m); the scheduled job runs at once
 *   npm run slack -- clock reset      # back to the real time
 * Options: --url <bot URL> --slack <fake Slack URL> --secret <signing secret> --team <T…>
 * Defaults come from the running `npm run dev` (its state file), else the playground defaults.
 */
import { readFileSync } from "node:fs";
import type { SlackCall, StoredMessage } from "../dev/fake-slack.ts";
import { PLAYGROUND_DEFAULTS } from "../dev/playground.ts";
import {
  applyClockCommand,
  ClockCommandError,
  describeOffset,
  parseClockCommand,
  playgroundStateFile,
  readClockOffset,
  readPlaygroundState,
  writeClockOffset,
} from "../dev/playground-clock.ts";
import { blockActionBody, FORM, slashCommandBody, viewSubmissionBody } from "../dev/slack-requests.ts";
import { signSlackRequest } from "../dev/slack-signing.ts";

const STATE_FILE = playgroundStateFile();
const state = (readPlaygroundState(STATE_FILE) ?? {}) as Record<string, string>;

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
}
const d = PLAYGROUND_DEFAULTS;
const user = option("--user") ?? "U123";
const botUrl = option("--url") ?? state.botUrl ?? `http://127.0.0.1:${d.botPort}/slack/events`;
const slackUrl = option("--slack") ?? state.slackUrl ?? `http://127.0.0.1:${d.slackPort}`;
const secret = option("--secret") ?? state.signingSecret ?? d.signingSecret;
const team = option("--team") ?? state.teamId ?? d.teamId;

function usage(): never {
  console.error(
    readFileSync(new URL(import.meta.url), "utf8")
      .split("*/")[0]
      ?.replace(/^\/\*\*|^ \* ?/gm, "") ?? "",
  );
  process.exit(2);
}

async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    console.error(
      `Can't reach ${new URL(url).origin} — is \`npm run dev\` running? (or pass --url / --slack)`,
    );
    process.exit(1);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const res = await reach(`${slackUrl}${path}`);
  if (!res.ok) throw new Error(`GET ${slackUrl}${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function post(body: string): Promise<void> {
  const before = (await getJson<SlackCall[]>("/calls")).length;
  const res = await reach(botUrl, {
    method: "POST",
    // Slack signs at the playground's time: its bot judges the signature's age by that clock.
    headers: {
      "content-type": FORM,
      ...signSlackRequest(secret, body, Math.floor((Date.now() + readClockOffset(STATE_FILE)) / 1000)),
    },
    body,
  });
  const text = await res.text();
  console.log(`HTTP ${res.status}`);
  if (text) {
    try {
      const json = JSON.parse(text) as { text?: string };
      console.log(json.text ?? JSON.stringify(json, null, 2));
    } catch {
      console.log(text);
    }
  }
  // Give the provisioner a moment, then show what the bot said in Slack meanwhile.
  await printCallsSince(before, 300);
}

async function printCallsSince(before: number, waitMs: number): Promise<void> {
  await new Promise((r) => setTimeout(r, waitMs));
  const calls = (await getJson<SlackCall[]>("/calls")).slice(before);
  for (const call of calls)
    console.log(
      `\n[slack] ${call.method} ${JSON.stringify(call.args.channel ?? call.args.user ?? call.args.user_id ?? "")}\n    ${String(call.args.text ?? "").replace(/\n/g, "\n    ")}`,
    );
}

type Button = { action_id?: string; value?: string };

/**
 * The button as the bot last posted it (from the recorded calls, so a stale card can be clicked again —
 * exactly what a second admin with an old view does) and where that card is now.
 */
async function findButton(id: string, actionId: string): Promise<{ msg: StoredMessage; value: string }> {
  const calls = await getJson<SlackCall[]>("/calls");
  let value: string | undefined;
  let channel: string | undefined;
  for (const call of calls.reverse()) {
    const blocks = (call.args.blocks ?? []) as Array<{ elements?: Button[] }>;
    const button = blocks
      .flatMap((b) => b.elements ?? [])
      .find((b) => b.action_id === actionId && b.value?.includes(id));
    if (button?.value) {
      value = button.value;
      channel = String(call.args.channel ?? "");
      break;
    }
  }
  const messages = await getJson<StoredMessage[]>("/messages");
  const msg = messages
    .reverse()
    .find((m) => m.channel === channel && JSON.stringify(m.blocks ?? m.text ?? "").includes(id));
  if (!value || !msg) {
    console.error(`The bot never posted a ${actionId} button for request ${id}.`);
    process.exit(1);
  }
  return { msg, value };
}

const [first, ...rest] = args;
if (!first) usage();

if (first === "clock") {
  try {
    const cmd = parseClockCommand(rest[0]);
    if (rest.length > 1)
      throw new ClockCommandError(`clock takes one argument, got ${rest.length}: ${rest.join(" ")}`);
    const before = readClockOffset(STATE_FILE);
    const after = applyClockCommand(before, cmd);
    const calls = cmd.kind === "show" ? 0 : (await getJson<SlackCall[]>("/calls")).length;
    if (cmd.kind !== "show") writeClockOffset(STATE_FILE, after);
    console.log(`playground time: ${new Date(Date.now() + after).toISOString()} (${describeOffset(after)})`);
    // The dev process notices the change and runs the scheduled job: show what it said in Slack.
    if (cmd.kind !== "show") await printCallsSince(calls, 2_000);
  } catch (err) {
    if (!(err instanceof ClockCommandError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
} else if (first === "calls") {
  console.log(JSON.stringify(await getJson<SlackCall[]>("/calls"), null, 2));
} else if (first.startsWith("/")) {
  const [command, ...words] = first.split(/\s+/);
  const text = [...words, ...rest].join(" ");
  await post(
    slashCommandBody({ userId: user, teamId: team, text, command, responseUrl: `${slackUrl}/response/cli` }),
  );
} else if (["approve", "deny", "retry"].includes(first)) {
  const [id, ...reason] = rest;
  if (!id) usage();
  const actionId = `cytoskel_${first}`;
  const { msg, value } = await findButton(id, actionId);
  const click = (a: string, v: string) =>
    blockActionBody({
      userId: user,
      teamId: team,
      actionId: a,
      value: v,
      channelId: msg.channel,
      messageTs: msg.ts,
      responseUrl: `${slackUrl}/response/cli`,
    });
  if (first !== "deny") {
    await post(click(actionId, value));
  } else {
    await post(click(actionId, value));
    // The deny button opened a modal (views.open); submit it like Slack would.
    const opened = (await getJson<SlackCall[]>("/calls?method=views.open")).at(-1);
    const meta = (opened?.args.view as { private_metadata?: string } | undefined)?.private_metadata;
    if (!meta?.includes(id)) process.exit(1);
    await post(
      viewSubmissionBody({
        userId: user,
        teamId: team,
        callbackId: "cytoskel_deny_modal",
        privateMetadata: meta,
        values: { reason: { reason_input: { type: "plain_text_input", value: reason.join(" ") || null } } },
      }),
    );
  }
} else {
  usage();
}
