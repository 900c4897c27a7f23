/**
 * The playground as a user drives it: `scripts/slack-client.ts` (what `npm run slack` runs) sends signed
 * HTTP requests to the bot's HTTP front (the same handler as Lambda), and reads the fake Slack's
 * /calls and /messages like any client could.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall } from "../../dev/fake-slack.ts";
import { PLAYGROUND_DEFAULTS, type Playground, startPlayground } from "../../dev/playground.ts";

const run = promisify(execFile);
const CLIENT_TIMEOUT_MS = 60_000;
// Each test starts up to two `npm run slack` processes (tsx compiles on start, slow on a loaded
// machine): the test may take as long as its processes may.
const PROCESS_TEST_TIMEOUT_MS = 2 * CLIENT_TIMEOUT_MS + 10_000;
let p: Playground;

beforeAll(async () => {
  p = await startPlayground({ quiet: true, retry: { backoffMs: 10, maxAttempts: 2 } });
});
afterAll(async () => {
  await p?.stop();
});

async function slack(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "scripts/slack-client.ts", "--url", p.botUrl, "--slack", p.slack.url, ...args],
    { env: { ...process.env, NODE_NO_WARNINGS: "1" }, timeout: CLIENT_TIMEOUT_MS },
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
