/**
 * The playground as a user drives it: `scripts/slack-client.ts` (what `npm run slack` runs) sends signed
 * HTTP requests to the bot's HTTP front (the same handler as Lambda), and reads the fake Slack's
 * /calls and /messages like any client could.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall } from "../../dev/fake-slack.ts";
import { PLAYGROUND_DEFAULTS, type Playground, startPlayground } from "../../dev/playground.ts";
import { fileClock } from "../../dev/playground-clock.ts";
import { scheduleExpiry } from "../../dev/schedule.ts";

const run = promisify(execFile);
const CLIENT_TIMEOUT_MS = 60_000;
// Each test starts up to two `npm run slack` processes (tsx compiles on start, slow on a loaded
// machine): the test may take as long as its processes may.
const PROCESS_TEST_TIMEOUT_MS = 2 * CLIENT_TIMEOUT_MS + 10_000;
let p: Playground;
// The playground's own state file (as `npm run dev` writes it), apart from any real one on this machine.
const stateDir = mkdtempSync(join(tmpdir(), "cytoskel-playground-test-"));
const STATE = join(stateDir, "state.json");

beforeAll(async () => {
  p = await startPlayground({
    quiet: true,
    retry: { backoffMs: 10, maxAttempts: 2 },
    clock: fileClock(STATE).now,
  });
  writeFileSync(STATE, JSON.stringify({ botUrl: p.botUrl, slackUrl: p.slack.url, clockOffsetMs: 0 }));
});
afterAll(async () => {
  await p?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function slack(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "scripts/slack-client.ts", "--url", p.botUrl, "--slack", p.slack.url, ...args],
    {
      env: { ...process.env, NODE_NO_WARNINGS: "1", CYTOSKEL_PLAYGROUND_STATE: STATE },
      timeout: CLIENT_TIMEOUT_MS,
    },
  );
  return stdout;
}

describe("npm run slack against the playground's HTTP front", () => {
  it(
    "files a request, approves it by ID, and the provisioner's DM shows up in /calls",
    async () => {
      const filed = await slack("--user", "UPLAY", "/cytoskel request prefix cpg0100/* read");
      expect(filed).toContain("HTTP 200");
      const id = /Request `([^`]+)` filed/.exec(filed)?.[1] ?? "";
      expect(id).not.toBe("");

      const approved = await slack("--user", PLAYGROUND_DEFAULTS.adminUserId, "approve", id);
      expect(approved).toContain("chat.update");
      await p.stream.drain();
      expect((await p.stores.requests.get(id))?.status).toBe("ACTIVE");

      const calls = (await (
        await fetch(`${p.slack.url}/calls?method=chat.postMessage`)
      ).json()) as SlackCall[];
      expect(calls.some((c) => c.args.channel === "UPLAY" && String(c.args.text).includes(id))).toBe(true);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    "rejects a request signed with the wrong secret (401) and stores nothing",
    async () => {
      const out = await slack("--secret", "wrong", "--user", "UWRONG", "/cytoskel request prefix cpg0101");
      expect(out).toContain("HTTP 401");
      expect((await p.stores.requests.listByRequester("UWRONG")).items).toEqual([]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe("npm run slack -- clock", () => {
  it("moves the playground's time for the scheduled job and the bot: a reminder, then expiry, then reset", async () => {
    const runs: unknown[] = [];
    const job = scheduleExpiry(p, {
      everyMs: 3_600_000,
      onRun: (r) => runs.push(r),
      onError: (e) => runs.push(`${e.name}: ${e.message}`),
    });
    try {
      const filed = await slack("--user", "UCLOCK", "/cytoskel request prefix cpg0102/* read for 7d");
      const id = /Request `([^`]+)` filed/.exec(filed)?.[1] ?? "";
      expect(id).not.toBe("");
      const adminPosts = () =>
        p.slack
          .callsTo("chat.postMessage")
          .filter(
            (c) =>
              c.args.channel === PLAYGROUND_DEFAULTS.adminChannelId && JSON.stringify(c.args).includes(id),
          );
      expect(adminPosts()).toHaveLength(1); // the card

      expect(await slack("clock", "+25h")).toContain("(real time +1d 1h)");
      expect(p.now().getTime() - Date.now()).toBeGreaterThan(24 * 3_600_000);
      await job.now();
      expect(runs.at(-1)).toMatchObject({ announced: 1, errors: [] });
      expect(adminPosts()).toHaveLength(2); // re-announced once
      expect(JSON.stringify(adminPosts()[1]?.args)).toContain("still waiting for a decision");

      expect(await slack("clock", "+14d")).toContain("(real time +15d 1h)");
      await job.now();
      expect(runs.at(-1)).toMatchObject({ pendingExpired: 1, announced: 0, errors: [] });
      expect((await p.stores.requests.get(id))?.status).toBe("EXPIRED");
      const dm = p.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === "UCLOCK");
      expect(String(dm.at(-1)?.args.text)).toContain("expired after 14 days without a decision");

      // The client signs at the moved time, and the bot accepts it.
      const status = await slack("--user", "UCLOCK", "/cytoskel status");
      expect(status).toContain("HTTP 200");
      expect(status).toContain(id);
    } finally {
      job.stop();
      await slack("clock", "reset");
    }
    expect(await slack("clock")).toContain("(real time)");
  }, 180_000);

  it("refuses a malformed change, naming what is allowed, and leaves the clock alone", async () => {
    const failed = await slack("clock", "+3x").then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('"+3x" is not a clock change. Use +<N>d, +<N>h or +<N>m');
    expect(await slack("clock")).toContain("(real time)");
  }, 120_000);
});
