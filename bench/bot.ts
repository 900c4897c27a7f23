// Bot bench: the Lambda handler end to end (HMAC check, Bolt, listener) against local stand-ins —
// DynamoDB Local (one JVM for the run), the fake Slack Web API over HTTP. Figures: handler time per slash
// command and per click (p50/p99 over >= 500 signed requests each), the network calls each makes before returning
// (counted for real: a middleware on the DynamoDB client, the fake Slack's call log), and the time from
// an Approve click to the requester's DM through the stream stand-in and the provisioner.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { build } from "esbuild";
import { esbuildOptions } from "../cdk/lib/bundling.ts";
import { startDynamo } from "../dev/dynamodb.ts";
import { startFakeSlack } from "../dev/fake-slack.ts";
import { PLAYGROUND_DEFAULTS, startPlayground } from "../dev/playground.ts";
import { blockActionBody, signedEvent, slashCommandBody, viewSubmissionBody } from "../dev/slack-requests.ts";
import { loadBotConfig, type ResolvedBotConfig, resolveBotConfig } from "../src/bot/config.ts";
import { createBotHandler } from "../src/bot/handler.ts";
import { silentLogger } from "../src/log.ts";
import { createStores } from "../src/store/index.ts";
import { type BenchFigure, type BenchSection, percentile } from "./section.ts";

const N = 500;
const COLD_STARTS = 5;
const FLOW_RUNS = 30;
const SECRET = "bench-signing-secret";
const ADMIN = "UBENCHADMIN";
const CHANNEL = "CBENCHADMINS";

function dynamoCounter(client: DynamoDBClient) {
  const seen: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push(String(context.commandName).replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize", name: "benchBotCallCounter" },
  );
  return seen;
}

/** The bot's settings for the bench, in-process and for the bundled entry's child process alike. */
function botEnv(slackApiUrl: string, tableName: string): Record<string, string> {
  return {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: "xoxb-bench",
    SLACK_API_URL: slackApiUrl,
    SLACK_BOT_ID: "BBENCH",
    SLACK_BOT_USER_ID: "UBENCHBOT",
    ADMIN_USER_IDS: ADMIN,
    ADMIN_CHANNEL_ID: CHANNEL,
    TABLE_NAME: tableName,
  };
}
export const section: BenchSection = {
  name: "bot",
  async run(): Promise<BenchFigure[]> {
    const figures: BenchFigure[] = [];
    const db = await startDynamo();
    const slack = await startFakeSlack();
    try {
      const dynamoCalls = dynamoCounter(db.client);
      const stores = createStores({ client: db.doc, tableName: db.tableName });
      const config: ResolvedBotConfig = await resolveBotConfig(
        loadBotConfig(botEnv(slack.apiUrl, db.tableName)),
      );
      const handler = createBotHandler({
        config,
        store: stores.requests,
        clientOptions: { retryConfig: { retries: 0 } },
        logger: silentLogger,
        receiverLogger: silentLogger,
      });
      const slash = (user: string, text: string) =>
        signedEvent(SECRET, slashCommandBody({ userId: user, text, responseUrl: slack.responseUrl() }));
      const click = (user: string, actionId: string, value: string, card: { channel: string; ts: string }) =>
        signedEvent(
          SECRET,
          blockActionBody({
            userId: user,
            actionId,
            value,
            channelId: card.channel,
            messageTs: card.ts,
            responseUrl: slack.responseUrl(),
          }),
        );

      /** Time each event through the handler, one at a time (what one warm Lambda does). */
      const timeAll = async (label: string, events: Array<() => ReturnType<typeof slash>>) => {
        const ms: number[] = [];
        for (const make of events) {
          const event = make();
          const t = performance.now();
          const res = await handler(event, {});
          ms.push(performance.now() - t);
          if (res.statusCode !== 200) throw new Error(`${label}: HTTP ${res.statusCode}`);
        }
        ms.sort((a, b) => a - b);
        figures.push({ metric: `${label} p50`, value: percentile(ms, 50), unit: "ms" });
        figures.push({ metric: `${label} p99`, value: percentile(ms, 99), unit: "ms" });
      };

      /** Network calls one event makes before the handler returns, and which. */
      const countOne = async (label: string, event: ReturnType<typeof slash>) => {
        dynamoCalls.length = 0;
        const before = slack.calls.length;
        await handler(event, {});
        const slackCalls = slack.calls.slice(before).map((c) => c.method);
        const writes = dynamoCalls.filter((c) => /Put|Update|Delete|Write/.test(c));
        figures.push({
          metric: `${label} calls: DynamoDB ${writes.length}w/${dynamoCalls.length - writes.length}r [${dynamoCalls.join(",")}] + Slack [${slackCalls.join(",")}]`,
          value: dynamoCalls.length + slackCalls.length,
          unit: "calls",
        });
      };

      // Warm-up: JIT, sockets, DynamoDB Local.
      for (let i = 0; i < 50; i++) await handler(slash(`UWARM${i}`, "status"), {});

      // Slash commands.
      await timeAll(
        "/cytoskel request (new)",
        Array.from(
          { length: N },
          (_, i) => () => slash(`UB${i}`, `request prefix cpg${i}/* write for 30d bench`),
        ),
      );
      await timeAll(
        "/cytoskel request (duplicate)",
        Array.from({ length: N }, (_, i) => () => slash(`UB${i}`, `request prefix cpg${i}/* write`)),
      );
      await timeAll(
        "/cytoskel status",
        Array.from({ length: N }, (_, i) => () => slash(`UB${i}`, "status")),
      );
      await timeAll(
        "/cytoskel help",
        Array.from({ length: N }, () => () => slash("UHELP", "help")),
      );
      await timeAll(
        "/cytoskel <malformed>",
        Array.from({ length: N }, () => () => slash("UBAD", "request prefix ../x")),
      );

      // Clicks on the cards the requests above posted.
      const cards = slack.calls
        .filter((c) => c.method === "chat.postMessage")
        .map((c, i) => {
          const blocks = c.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
          const value =
            blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === "cytoskel_approve")?.value ??
            "";
          return { value, id: JSON.parse(value).id as string, i };
        });
      const messageOf = (id: string) => {
        const m = [...slack.messages.values()].find((x) => JSON.stringify(x.blocks).includes(id));
        if (!m) throw new Error(`no card for ${id}`);
        return { channel: m.channel, ts: m.ts };
      };
      const half = Math.floor(cards.length / 2);
      const toApprove = cards.slice(0, half);
      const toDeny = cards.slice(half);
      await timeAll(
        "click Approve (non-admin, refused)",
        toApprove.map((c) => () => click("UNOTADMIN", "cytoskel_approve", c.value, messageOf(c.id))),
      );
      await timeAll(
        "click Approve",
        toApprove.map((c) => () => click(ADMIN, "cytoskel_approve", c.value, messageOf(c.id))),
      );
      await timeAll(
        "click Approve (already decided)",
        toApprove.map((c) => () => click(ADMIN, "cytoskel_approve", c.value, messageOf(c.id))),
      );
      await timeAll(
        "click Deny (opens modal)",
        toDeny.map((c) => () => click(ADMIN, "cytoskel_deny", c.value, messageOf(c.id))),
      );
      await timeAll(
        "submit Deny modal",
        toDeny.map(
          (c) => () =>
            signedEvent(
              SECRET,
              viewSubmissionBody({
                userId: ADMIN,
                callbackId: "cytoskel_deny_modal",
                privateMetadata: JSON.stringify({ id: c.id, ...messageOf(c.id) }),
                values: { reason: { reason_input: { type: "plain_text_input", value: "bench" } } },
              }),
            ),
        ),
      );
      figures.push({ metric: "requests per timed series", value: N, unit: "" });

      // Exact network calls for one of each.
      await countOne("request (new)", slash("UCOUNT", "request prefix cpg9999/* read"));
      const counted = slack.calls.filter((c) => c.method === "chat.postMessage").at(-1);
      const countedValue =
        ((counted?.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
          .flatMap((b) => b.elements ?? [])
          .find((e) => e.action_id === "cytoskel_approve")?.value ?? "";
      const countedId = JSON.parse(countedValue).id as string;
      await countOne("request (duplicate)", slash("UCOUNT", "request prefix cpg9999/* read"));
      await countOne("status", slash("UCOUNT", "status"));
      await countOne("help (non-admin)", slash("UCOUNT", "help"));
      await countOne("malformed command", slash("UCOUNT", "request prefix ../x"));
      await countOne(
        "click Approve (non-admin)",
        click("UNOTADMIN", "cytoskel_approve", countedValue, messageOf(countedId)),
      );
      await countOne("click Deny (modal)", click(ADMIN, "cytoskel_deny", countedValue, messageOf(countedId)));
      await countOne(
        "click Approve (first click)",
        click(ADMIN, "cytoskel_approve", countedValue, messageOf(countedId)),
      );
      await countOne(
        "click Approve (second click)",
        click(ADMIN, "cytoskel_approve", countedValue, messageOf(countedId)),
      );
      const filed = await handler(slash("UCOUNT2", "request prefix cpg9998/* read"), {});
      const cancelId = /Request `([^`]+)` filed/.exec(JSON.parse(filed.body).text ?? "")?.[1] ?? "";
      await countOne("cancel", slash("UCOUNT2", `cancel ${cancelId}`));
    } finally {
      await slack.stop();
      await db.stop();
    }

    // Approve → DM through the stream stand-in and the provisioner (local AWS stand-in for IAM/Access Grants).
    const dmWaiters = new Map<string, (t: number) => void>();
    const pg = await startPlayground({
      quiet: true,
      onSlackCall: (call) => {
        const channel = String(call.args.channel ?? "");
        if (call.method === "chat.postMessage" && dmWaiters.has(channel))
          dmWaiters.get(channel)?.(performance.now());
      },
    });
    try {
      const d = PLAYGROUND_DEFAULTS;
      const times: number[] = [];
      for (let i = 0; i < FLOW_RUNS; i++) {
        const user = `UFLOWBENCH${i}`;
        await pg.handler(
          signedEvent(
            d.signingSecret,
            slashCommandBody({
              userId: user,
              teamId: d.teamId,
              text: `request prefix cpg${i}/* write`,
              responseUrl: pg.slack.responseUrl(),
            }),
          ),
          {},
        );
        const msg = [...pg.slack.messages.values()].find(
          (m) => m.channel === d.adminChannelId && JSON.stringify(m.blocks).includes(`<@${user}>`),
        );
        const blocks = (msg?.blocks ?? []) as Array<{
          elements?: Array<{ action_id?: string; value?: string }>;
        }>;
        const value =
          blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === "cytoskel_approve")?.value ??
          "";
        const dm = new Promise<number>((resolve) => dmWaiters.set(user, resolve));
        const t = performance.now();
        await pg.handler(
          signedEvent(
            d.signingSecret,
            blockActionBody({
              userId: d.adminUserId,
              teamId: d.teamId,
              actionId: "cytoskel_approve",
              value,
              channelId: msg?.channel ?? "",
              messageTs: msg?.ts ?? "",
              responseUrl: pg.slack.responseUrl(),
            }),
          ),
          {},
        );
        times.push((await dm) - t);
        await pg.stream.drain();
      }
      times.sort((a, b) => a - b);
      figures.push({
        metric: `approve → DM via stream + provisioner p50 (n=${FLOW_RUNS})`,
        value: percentile(times, 50),
        unit: "ms",
      });
      figures.push({
        metric: `approve → DM via stream + provisioner p99 (n=${FLOW_RUNS})`,
        value: percentile(times, 99),
        unit: "ms",
      });
    } finally {
      await pg.stop();
    }
    figures.push(...(await coldStart()));
    return figures;
  },
};

/**
 * Cold start as Lambda sees it: src/bot/lambda.ts bundled with the stack's own bundling config
 * (cdk/lib/bundling.ts: ESM, minified, AWS SDK included, Bolt's unused receivers stubbed), imported by a fresh node process that then handles one signed slash
 * command (config load, clients, Bolt, one DynamoDB query) and a second one warm.
 */
export async function coldStart(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), "cytoskel-bench-"));
  const db = await startDynamo();
  const slack = await startFakeSlack();
  try {
    const bundle = join(dir, "bot.mjs");
    await build(esbuildOptions("src/bot/lambda.ts", bundle));
    const child = `
      const t0 = performance.now();
      const { handler } = await import(${JSON.stringify(bundle)});
      const t1 = performance.now();
      const events = JSON.parse(process.env.BENCH_EVENTS);
      const r1 = await handler(events[0], {});
      const t2 = performance.now();
      const r2 = await handler(events[1], {});
      const t3 = performance.now();
      console.log(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, warmMs: t3 - t2, status: [r1.statusCode, r2.statusCode] }));
    `;
    const runs: Array<{ importMs: number; firstMs: number; warmMs: number; status: number[] }> = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      const events = [0, 1].map(() =>
        signedEvent(
          SECRET,
          slashCommandBody({ userId: `UCOLD${i}`, text: "status", responseUrl: slack.responseUrl() }),
          {
            format: "function-url",
            base64: true,
          },
        ),
      );
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", child], {
        env: {
          PATH: process.env.PATH ?? "",
          NODE_NO_WARNINGS: "1",
          BENCH_EVENTS: JSON.stringify(events),
          ...botEnv(slack.apiUrl, db.tableName),
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
        },
        timeout: 60_000,
      });
      const run = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
      if (run.status?.[0] !== 200) throw new Error(`cold start run answered ${run.status}`);
      runs.push(run);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    return [
      {
        metric: `cold start: import bundled lambda.ts (median of ${COLD_STARTS})`,
        value: median(runs.map((r) => r.importMs)),
        unit: "ms",
      },
      {
        metric: "cold start: first request (config, clients, Bolt, 1 query)",
        value: median(runs.map((r) => r.firstMs)),
        unit: "ms",
      },
      { metric: "cold start: second request (warm)", value: median(runs.map((r) => r.warmMs)), unit: "ms" },
    ];
  } finally {
    await slack.stop();
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
