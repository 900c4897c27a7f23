import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  botScopes,
  buildSlackManifest,
  checkRequestUrl,
  ManifestInputError,
  requestUrlFromOutputs,
} from "../../cdk/lib/manifest.ts";
import { BOT_STACK_NAME } from "../../cdk/lib/names.ts";
import { REPO_ROOT } from "./cli-synth.ts";

const URL_OK = "https://abc123.execute-api.us-east-1.amazonaws.com/slack/events";

describe("Slack app manifest", () => {
  it("asks only for the bot scopes the bot uses; usergroups:read only with an admin user group", () => {
    expect(botScopes(false)).toEqual(["commands", "chat:write"]);
    expect(botScopes(true)).toEqual(["commands", "chat:write", "usergroups:read"]);
    const manifest = buildSlackManifest({ requestUrl: URL_OK }) as {
      oauth_config: { scopes: Record<string, unknown> };
    };
    expect(manifest.oauth_config.scopes).toEqual({ bot: ["commands", "chat:write"] });
  });

  it("registers /cytoskel with escaping, interactivity and the App Home event at the one URL, Socket Mode off", () => {
    expect(buildSlackManifest({ requestUrl: URL_OK })).toMatchObject({
      features: { slash_commands: [{ command: "/cytoskel", url: URL_OK, should_escape: true }] },
      settings: {
        interactivity: { is_enabled: true, request_url: URL_OK },
        event_subscriptions: { request_url: URL_OK, bot_events: ["app_home_opened"] },
        socket_mode_enabled: false,
      },
    });
  });

  it.each([
    ["http://abc123.execute-api.us-east-1.amazonaws.com/slack/events", /https/],
    ["https://abc123.execute-api.us-east-1.amazonaws.com/", /\/slack\/events/],
    ["https://abc123.execute-api.us-east-1.amazonaws.com/slack/events?x=1", /no query/],
    ["abc123/slack/events", /not a URL/],
  ])("refuses a request URL Slack could not use: %s", (url, message) => {
    expect(() => checkRequestUrl(url)).toThrow(ManifestInputError);
    expect(() => checkRequestUrl(url)).toThrow(message);
  });

  it("reads the request URL from a cdk deploy outputs file, and says what is missing", () => {
    expect(requestUrlFromOutputs({ [BOT_STACK_NAME]: { SlackRequestUrl: URL_OK } }, BOT_STACK_NAME)).toBe(
      URL_OK,
    );
    expect(() => requestUrlFromOutputs({ Other: {} }, BOT_STACK_NAME)).toThrow(
      /CytoskelBot\.SlackRequestUrl/,
    );
  });

  it("`npm run manifest` writes manifest.json from the outputs file", () => {
    const dir = mkdtempSync(join(tmpdir(), "cytoskel-manifest-"));
    const outputs = join(dir, "cdk-outputs.json");
    const out = join(dir, "manifest.json");
    writeFileSync(outputs, JSON.stringify({ [BOT_STACK_NAME]: { SlackRequestUrl: URL_OK } }));
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "scripts/manifest.ts", "--outputs", outputs, "--out", out, "--usergroups"],
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(
      buildSlackManifest({ requestUrl: URL_OK, adminUserGroup: true }),
    );
    const bad = spawnSync(
      process.execPath,
      ["--import", "tsx", "scripts/manifest.ts", "http://x/slack/events"],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^manifest: Slack only calls https:\/\/ URLs/);
  });
});
