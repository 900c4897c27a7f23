// `/cytoskel help` answers through the signed bot handler: the configured defaults, how to extend, the
// contributor guide when HELP_URL is set, and the admin commands wherever an admin sees help.
import type { types } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedEvent, toReply } from "../../dev/slack-requests.ts";
import { ADMIN, GROUP_ADMIN, type Harness, SIGNING_SECRET, startHarness } from "./harness.ts";

const GUIDE = "https://example.org/cytoskel/docs/access-cpg-staging.md";
const ADMIN_LINE = "revoke @user [prefix|all] [reason…]";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { DEFAULT_DURATION_DAYS: "14", MAX_DURATION_DAYS: "60", HELP_URL: GUIDE } });
});
afterAll(async () => {
  await h?.stop();
});

/** Opens the person's App Home and returns its text as published. */
async function homeTextOf(userId: string): Promise<string> {
  const n = h.slack.calls.length;
  const body = JSON.stringify({
    type: "event_callback",
    team_id: "T0CYTOSKEL",
    api_app_id: "ACYTOSKEL",
    event_id: `EvHelp${userId}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T0CYTOSKEL", user_id: "UBOTCYTO", is_bot: true }],
    event: { type: "app_home_opened", user: userId, channel: `D${userId}`, tab: "home", event_ts: "1.000" },
  });
  const reply = toReply(
    await h.handler(signedEvent(SIGNING_SECRET, body, { contentType: "application/json" })),
  );
  expect(reply.status).toBe(200);
  const view = h.slack.calls.slice(n).find((c) => c.method === "views.publish" && c.args.user_id === userId)
    ?.args.view as types.HomeView;
  expect(view).toBeDefined();
  return JSON.stringify(view.blocks);
}

describe("help with the bot's settings", () => {
  it("tells a non-admin the configured defaults, how to extend and where the guide is, without admin commands", async () => {
    const text = String((await h.slash("UHELPME", "help")).json.text);
    expect(text).toContain("*Defaults:* READWRITE (read and write) for 14 days");
    expect(text).toContain("up to 60 days");
    expect(text).toContain("ask again for a prefix you hold");
    expect(text).toContain("*Request extension* button");
    expect(text).toContain(`<${GUIDE}|how to upload with your access>`);
    expect(text).not.toContain("Admin commands");
    expect(text).not.toContain(ADMIN_LINE);
  });

  it("gives admins (listed or in the user group) the same help plus the admin commands", async () => {
    for (const admin of [ADMIN, GROUP_ADMIN]) {
      const text = String((await h.slash(admin, "help")).json.text);
      expect(text, admin).toContain("for 14 days");
      expect(text, admin).toContain(GUIDE);
      expect(text, admin).toContain("*Admin commands*");
      expect(text, admin).toContain(ADMIN_LINE);
    }
  });

  it("follows a command it doesn't know with the whole help, admin commands for admins only", async () => {
    const user = String((await h.slash("UHELPME", "frobnicate")).json.text);
    const admin = String((await h.slash(ADMIN, "frobnicate")).json.text);
    for (const text of [user, admin]) {
      expect(text).toMatch(/^I don't know `frobnicate`\./);
      expect(text).toContain("for 14 days");
      expect(text).toContain(GUIDE);
    }
    expect(user).not.toContain(ADMIN_LINE);
    expect(admin).toContain(ADMIN_LINE);
  });

  it("follows a malformed command with that command's usage only, for admins too", async () => {
    const text = String((await h.slash(ADMIN, "cancel")).json.text);
    expect(text).toBe("Which request? Give its ID.\nUsage: `/cytoskel cancel <request-id>`");
  });

  it("shows the help in the App Home, with the admin commands for an admin only", async () => {
    const user = await homeTextOf("UHELPHOME");
    const admin = await homeTextOf(ADMIN);
    for (const text of [user, admin]) {
      expect(text).toContain("for 14 days");
      expect(text).toContain("ask again for a prefix you hold");
      expect(text).toContain(GUIDE);
    }
    expect(user).not.toContain("Admin commands");
    expect(admin).toContain("*Admin commands*");
    expect(admin).toContain(ADMIN_LINE);
  });
});
