/**
 * Requests nobody decided, with a fake clock: the expiry job re-announces them to the admin channel
 * once per interval (one digest when several wait, each linked to its card), two runs at once post
 * once, and a request that expires undecided tells its requester and loses its card's buttons. The
 * job runs as the expiry function's synthesized role (the local AWS judges every call).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_CHANNEL, type Harness, newUserId, startHarness, TEAM_ID } from "../../dev/service-harness.ts";
import { adminRequestCard } from "../../src/bot/views.ts";
import { type ExpiryOptions, runExpiry } from "../../src/service/expiry.ts";
import { remindPending } from "../../src/service/reminders.ts";
import type { AccessRequest } from "../../src/store/types.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const HOUR = 3_600_000;
const OPTS: ExpiryOptions = { reminderDays: 3, pendingExpiryDays: 14, pendingReminderHours: 24 };
/** A clock `hours` from now (the store stamps real times; the job compares against this). */
const at = (hours: number) => () => new Date(Date.now() + hours * HOUR);
const run = (hours: number, opts: ExpiryOptions = OPTS) =>
  runExpiry(h.deps({ now: at(hours) }, "expiry"), opts);

async function pending(input: { subPrefix?: string; reason?: string } = {}): Promise<AccessRequest> {
  const { request } = await h.stores.requests.create({
    requesterUserId: newUserId(),
    requesterTeamId: TEAM_ID,
    subPrefix: input.subPrefix ?? "cpg0200/*",
    permission: "READ",
    durationDays: 30,
    ...(input.reason ? { reason: input.reason } : {}),
  });
  return request;
}

/** The card as the bot posts it, and its place recorded as the bot records it. */
async function withCard(request: AccessRequest) {
  const card = await h
    .deps()
    .notifier.postAdminChannel(adminRequestCard("staging-cellpainting-gallery", request));
  expect(await h.stores.requests.recordAdminCard(request.id, card)).toBe(true);
  return card;
}

/** Admin-channel posts (not card updates) that name `id`. */
const remindersOf = (id: string) =>
  h.slack
    .callsTo("chat.postMessage")
    .filter((c) => c.args.channel === ADMIN_CHANNEL && JSON.stringify(c.args).includes(id));

describe("reminders of pending requests", () => {
  it("re-announces a waiting request once per interval: not before, once, again after the next", async () => {
    const r = await pending();

    expect((await run(23)).announced).not.toContain(r.id);
    expect(remindersOf(r.id)).toHaveLength(0);

    expect((await run(25)).announced).toContain(r.id);
    expect(remindersOf(r.id)).toHaveLength(1);
    expect(String(remindersOf(r.id)[0]?.args.text)).toContain("still waiting for a decision");

    expect((await run(30)).announced).not.toContain(r.id);
    expect((await run(48)).announced).not.toContain(r.id); // 23 h after the last announcement
    expect(remindersOf(r.id)).toHaveLength(1);

    expect((await run(49.5)).announced).toContain(r.id);
    expect(remindersOf(r.id)).toHaveLength(2);
  });

  it("sends one digest when several are due, linking each recorded card and escaping reasons", async () => {
    const a = await pending({ subPrefix: "cpg0201/*" });
    const b = await pending({ subPrefix: "cpg0202/*", reason: "<!channel> see <https://evil.example|here>" });
    const c = await pending({ subPrefix: "cpg0203/*" });
    const cardA = await withCard(a);
    await withCard(b);
    const posts = h.slack.callsTo("chat.postMessage").length;

    const report = await run(25);

    expect(report.announced).toEqual(expect.arrayContaining([a.id, b.id, c.id]));
    const digest = h.slack.callsTo("chat.postMessage").slice(posts);
    expect(digest).toHaveLength(1);
    const shown = JSON.stringify(digest[0]?.args.blocks);
    for (const id of [a.id, b.id, c.id]) expect(shown).toContain(id);
    expect(String(digest[0]?.args.text)).toMatch(/^\d+ requests are still waiting/);
    expect(shown).toContain(`/archives/${cardA.channel}/p${cardA.ts.replace(".", "")}|open the card`);
    expect(shown.match(/open the card/g)).toHaveLength(2); // c has no recorded card: no link
    expect(shown).toContain("&lt;!channel&gt;");
    expect(shown).not.toContain("<!channel>");
    expect(shown).not.toContain("<https://evil.example");
  });

  it("two runs at once post a due request once", async () => {
    const r = await pending({ subPrefix: "cpg0204/*" });
    const [one, two] = await Promise.all([run(26), run(26)]);

    expect([...one.announced, ...two.announced].filter((id) => id === r.id)).toHaveLength(1);
    expect(remindersOf(r.id)).toHaveLength(1);
  });

  it("costs one conditional UpdateItem per due request and nothing for the others", async () => {
    const due = [await pending({ subPrefix: "cpg0205/*" }), await pending({ subPrefix: "cpg0206/*" })];
    const fresh = await pending({ subPrefix: "cpg0207/*" });
    const later = new Date(Date.parse(fresh.createdAt) + 12 * HOUR);
    // `fresh` is 12 h old at that time; the other two are treated as filed a day earlier.
    const listing = [
      ...due.map((r) => ({ ...r, createdAt: new Date(later.getTime() - 25 * HOUR).toISOString() })),
      fresh,
    ];
    const start = h.aws.state.requests.length;

    const outcome = await remindPending(h.deps({ now: () => later }, "expiry"), listing, {
      intervalHours: 24,
      pendingExpiryDays: 14,
    });

    expect(outcome.announced.sort()).toEqual(due.map((r) => r.id).sort());
    const calls = h.aws.state.requests.slice(start).map((r) => `${r.service}:${r.operation}:${r.status}`);
    expect(calls).toEqual(["dynamodb:UpdateItem:200", "dynamodb:UpdateItem:200"]);
  });

  it("gives the claims back when the post fails, so the next run announces them", async () => {
    const r = await pending({ subPrefix: "cpg0208/*" });
    h.slack.failNext("chat.postMessage", "channel_not_found");

    const failed = await run(27);
    expect(failed.announced).not.toContain(r.id);
    expect(failed.errors).toContainEqual(expect.objectContaining({ id: r.id, error: "SlackNotifyError" }));
    expect((await h.stores.requests.get(r.id))?.announcedAt).toBeUndefined();

    expect((await run(27.1)).announced).toContain(r.id);
  });

  it("stays quiet with PENDING_REMINDER_HOURS=0", async () => {
    const r = await pending({ subPrefix: "cpg0209/*" });
    const report = await run(100, { ...OPTS, pendingReminderHours: 0 });
    expect(report.announced).toEqual([]);
    expect(remindersOf(r.id)).toHaveLength(0);
  });
});

describe("a pending request that expires unanswered", () => {
  it("tells the requester what they can do and takes the buttons off the admin card", async () => {
    const r = await pending({ subPrefix: "cpg0210/*" });
    const card = await withCard(r);
    expect(JSON.stringify(h.slack.messages.get(`${card.channel}:${card.ts}`)?.blocks)).toContain(
      "cytoskel_approve",
    );

    const report = await run(15 * 24);

    expect(report.pendingExpired).toContain(r.id);
    expect(report.errors.filter((e) => e.id === r.id)).toEqual([]);
    const updated = h.slack.messages.get(`${card.channel}:${card.ts}`);
    expect(updated?.text).toContain("expired without a decision");
    expect(JSON.stringify(updated?.blocks)).not.toMatch(/cytoskel_approve|cytoskel_deny|"actions"/);
    const dm = h.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === r.requesterUserId);
    expect(dm).toHaveLength(1);
    expect(String(dm[0]?.args.text)).toContain("expired after 14 days without a decision");
    expect(String(dm[0]?.args.text)).toContain(
      "file it again: `/cytoskel request prefix cpg0210/* read for 30d`",
    );
  });
});
