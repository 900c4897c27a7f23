// The App Home tab: what each person sees (src/bot/home.ts) and what its buttons do through the
// signed bot handler, with the bot's DynamoDB calls judged as its synthesized role.
import type { types } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { homeActionBody, signedEvent, toReply } from "../../dev/slack-requests.ts";
import { HOME_LIST_LIMIT, HOME_MAX_BLOCKS, homeView } from "../../src/bot/home.ts";
import {
  APPROVE_ACTION_ID,
  CANCEL_ACTION_ID,
  EXTEND_ACTION_ID,
  RETRY_ACTION_ID,
} from "../../src/slack/action-ids.ts";
import type { AccessRequest } from "../../src/store/types.ts";
import { ADMIN, ADMIN_CHANNEL, type Harness, requestIdIn, SIGNING_SECRET, startHarness } from "./harness.ts";

const HOSTILE = "<!channel> see <https://evil.example|Re-approve here> <@UVICTIM>";

function request(over: Partial<AccessRequest>): AccessRequest {
  return {
    id: "req-1",
    requesterUserId: "UALICE",
    requesterTeamId: "T0CYTOSKEL",
    subPrefix: "cpg0042/*",
    permission: "READWRITE",
    durationDays: 30,
    status: "PENDING",
    createdAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-01T10:00:00.000Z",
    progress: {},
    attempts: 0,
    ...over,
  };
}

const none = { items: [], more: false };
const textOf = (view: types.HomeView) => JSON.stringify(view.blocks);
const buttons = (view: types.HomeView) =>
  (view.blocks as types.KnownBlock[]).flatMap((b) => {
    if (b.type === "actions") return b.elements as types.Button[];
    if (b.type === "section" && b.accessory?.type === "button") return [b.accessory as types.Button];
    return [];
  });

describe("homeView", () => {
  const base = {
    bucket: "staging-cellpainting-gallery",
    commandName: "/cytoskel",
    reminderDays: 3,
    help: ["help text"],
  };

  it("shows a person their grants with 'Ask for more time' and their pending requests with Cancel, and no admin lists", () => {
    const view = homeView({
      ...base,
      mine: {
        active: {
          items: [request({ id: "act-1", status: "ACTIVE", expiresAt: "2027-01-01T00:00:00.000Z" })],
          more: false,
        },
        open: {
          items: [request({ id: "pen-1" }), request({ id: "apr-1", status: "APPROVED" })],
          more: false,
        },
      },
    });
    expect(view.type).toBe("home");
    expect(buttons(view).map((b) => [b.action_id, b.value])).toEqual([
      [EXTEND_ACTION_ID, "act-1"],
      [CANCEL_ACTION_ID, "pen-1"],
    ]);
    expect(textOf(view)).not.toContain("Waiting for a decision");
  });

  it("adds for admins the queue with Approve / Deny, grants ending soon, and failures with Retry — buttons carry only the ID", () => {
    const view = homeView({
      ...base,
      mine: { active: none, open: none },
      admin: {
        pending: { items: [request({ id: "pen-2", requesterUserId: "UBOB" })], more: true },
        ending: {
          items: [request({ id: "end-1", status: "ACTIVE", expiresAt: "2026-12-02T00:00:00.000Z" })],
          more: false,
        },
        failed: {
          items: [request({ id: "fail-1", status: "FAILED", failureReason: "IAM said no" })],
          more: false,
        },
      },
    });
    expect(buttons(view).map((b) => [b.action_id, b.value])).toEqual([
      [APPROVE_ACTION_ID, "pen-2"],
      ["cytoskel_deny", "pen-2"],
      [RETRY_ACTION_ID, "fail-1"],
    ]);
    const text = textOf(view);
    expect(text).toContain("Ending within 3 days");
    expect(text).toContain("…and more");
  });

  it("keeps what people typed inert: no mention, channel ping or disguised link survives from a reason", () => {
    const view = homeView({
      ...base,
      mine: { active: none, open: none },
      admin: { pending: { items: [request({ reason: HOSTILE })], more: false }, ending: none, failed: none },
    });
    const text = textOf(view);
    expect(text).not.toContain("<!channel>");
    expect(text).not.toContain("<https://evil.example|");
    expect(text).not.toContain("<@UVICTIM>");
  });

  it("stays within Slack's 100 blocks with every list full", () => {
    const many = (status: AccessRequest["status"]) => ({
      items: Array.from({ length: HOME_LIST_LIMIT + 5 }, (_, i) =>
        request({ id: `r-${status}-${i}`, status }),
      ),
      more: true,
    });
    const view = homeView({
      ...base,
      mine: { active: many("ACTIVE"), open: many("PENDING") },
      admin: { pending: many("PENDING"), ending: many("ACTIVE"), failed: many("FAILED") },
    });
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_MAX_BLOCKS);
    // Every list still ends with its "more" line: nothing was cut off silently.
    expect(textOf(view).match(/…and more/g)).toHaveLength(5);
  });
});

describe("the App Home through the bot", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const openHome = async (userId: string) => {
    const n = h.slack.calls.length;
    const body = JSON.stringify({
      type: "event_callback",
      team_id: "T0CYTOSKEL",
      api_app_id: "ACYTOSKEL",
      event_id: `Ev${Date.now()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: "T0CYTOSKEL", user_id: "UBOTCYTO", is_bot: true }],
      event: {
        type: "app_home_opened",
        user: userId,
        channel: `D${userId}`,
        tab: "home",
        event_ts: `${Date.now() / 1000}`,
      },
    });
    const reply = toReply(
      await h.handler(signedEvent(SIGNING_SECRET, body, { contentType: "application/json" })),
    );
    expect(reply.status).toBe(200);
    return publishedSince(n, userId);
  };
  const publishedSince = (n: number, userId: string) => {
    const published = h.slack.calls
      .slice(n)
      .filter((c) => c.method === "views.publish" && c.args.user_id === userId);
    expect(published.length).toBeGreaterThan(0);
    return published.at(-1)?.args.view as types.HomeView;
  };
  const homeClick = async (userId: string, actionId: string, value: string) =>
    toReply(await h.handler(signedEvent(SIGNING_SECRET, homeActionBody({ userId, actionId, value }))));

  it("shows a non-admin their own pending request with Cancel, and Cancel cancels it and republishes the Home", async () => {
    const id = requestIdIn((await h.slash("UHOMER", "request prefix cpg0901/* read")).json.text);
    const before = await openHome("UHOMER");
    expect(buttons(before).map((b) => [b.action_id, b.value])).toEqual([[CANCEL_ACTION_ID, id]]);
    expect(textOf(before)).not.toContain("Waiting for a decision");

    const n = h.slack.calls.length;
    expect((await homeClick("UHOMER", CANCEL_ACTION_ID, id)).status).toBe(200);
    expect((await h.stores.requests.get(id))?.status).toBe("CANCELLED");
    // Told in the app's DM (a Home click has no channel for an ephemeral), then the Home shows it gone.
    const told = h.slack.calls
      .slice(n)
      .find((c) => c.method === "chat.postMessage" && c.args.channel === "UHOMER");
    expect(String(told?.args.text)).toContain("is cancelled");
    expect(buttons(publishedSince(n, "UHOMER"))).toEqual([]);
  });

  it("lets nobody cancel someone else's request from the Home, and changes nothing", async () => {
    const id = requestIdIn((await h.slash("UOWNER", "request prefix cpg0902/* read")).json.text);
    await homeClick("UINTRUDER", CANCEL_ACTION_ID, id);
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
  });

  it("shows an admin the queue; Approve from the Home approves and updates the admin card in place", async () => {
    const id = requestIdIn((await h.slash("UHOMEE", "request prefix cpg0903/* write")).json.text);
    const card = h.slack.calls.findLast(
      (c) => c.method === "chat.postMessage" && c.args.channel === ADMIN_CHANNEL,
    );
    expect(card).toBeDefined();
    const home = await openHome(ADMIN);
    expect(buttons(home).some((b) => b.action_id === APPROVE_ACTION_ID && b.value === id)).toBe(true);

    const n = h.slack.calls.length;
    expect((await homeClick(ADMIN, APPROVE_ACTION_ID, id)).status).toBe(200);
    const approved = await h.stores.requests.get(id);
    expect(approved?.status).toBe("APPROVED");
    expect(approved?.decidedBy).toBe(ADMIN);
    // The card in the admin channel lost its buttons (it was found through the stored card reference).
    const update = h.slack.calls.slice(n).find((c) => c.method === "chat.update");
    expect(update?.args.channel).toBe(ADMIN_CHANNEL);
    expect(JSON.stringify(update?.args.blocks)).not.toContain(APPROVE_ACTION_ID);
    expect(buttons(publishedSince(n, ADMIN)).some((b) => b.value === id)).toBe(false);
  });

  it("refuses Approve from a non-admin's Home, telling them in the app's DM, and changes nothing", async () => {
    const id = requestIdIn((await h.slash("UHOMEF", "request prefix cpg0904/* read")).json.text);
    const n = h.slack.calls.length;
    await homeClick("UNOTADMIN", APPROVE_ACTION_ID, id);
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
    const told = h.slack.calls
      .slice(n)
      .find((c) => c.method === "chat.postMessage" && c.args.channel === "UNOTADMIN");
    expect(told).toBeDefined();
  });
});
