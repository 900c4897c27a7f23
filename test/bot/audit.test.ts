// `/cytoskel audit` through the real handler: signed requests, the bot's store signing as its
// synthesized role (so the ReadAuditTrail statement is what lets these Queries through), the fake Slack
// recording the "Older events" page sent to the click's response_url.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_OLDER_ACTION_ID } from "../../src/slack/action-ids.ts";
import type { NewAuditEvent } from "../../src/store/types.ts";
import { ADMIN, type Harness, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

let seq = 0;
const freshUser = () => `UAUD${String(++seq).padStart(3, "0")}${Date.now().toString(36).toUpperCase()}`;
const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 12, minute)).toISOString();

/** One event per minute, oldest first; `n` numbers them in `details` so the order is visible. */
async function seed(events: Array<Partial<NewAuditEvent> & { subjectUserId: string }>): Promise<void> {
  for (const [n, e] of events.entries()) {
    await h.stores.audit.append({
      actor: { kind: "admin", id: ADMIN },
      action: "request.transition",
      at: at(n),
      details: { n },
      ...e,
    });
  }
}

type Block = {
  type: string;
  text?: { text: string };
  elements?: Array<{ value?: string; action_id?: string }>;
};
const blocksOf = (reply: { json: Record<string, unknown> }) => (reply.json.blocks ?? []) as Block[];
const numbers = (blocks: Block[]) =>
  blocks.flatMap((b) => [...(b.text?.text ?? "").matchAll(/n=(\d+)/g)].map((m) => Number(m[1])));
const olderButton = (blocks: Block[]) =>
  blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === AUDIT_OLDER_ACTION_ID);

describe("/cytoskel audit", () => {
  it("is refused to a non-admin, as a command and as a button, reading nothing", async () => {
    const user = freshUser();
    await seed([{ subjectUserId: user, reason: "private" }]);
    const queries = () =>
      h.aws.state.authorizations.filter(
        (a) => a.principalArn === h.roles.functions.bot.sessionArn && a.action === "dynamodb:Query",
      ).length;
    const queriesBefore = queries();
    const reply = await h.slash("UPLAIN", `audit <@${user}>`);
    expect(reply.json.text).toBe("Only cytoskel admins can read the audit trail — nothing was changed.");
    expect(reply.json.blocks).toBeUndefined();
    expect(queries()).toBe(queriesBefore);

    const first = await h.slash(ADMIN, `audit <@${user}>`);
    expect(JSON.stringify(first.json)).toContain("private");
    expect(queries()).toBe(queriesBefore + 1); // the admin's read is one Query, judged as the bot's role
    const before = h.slack.callsTo("response_url").length;
    const queriesBeforeClick = queries();
    await h.click("UPLAIN", AUDIT_OLDER_ACTION_ID, JSON.stringify({ u: user, c: "eyJ4IjoxfQ" }));
    expect(queries()).toBe(queriesBeforeClick);
    const sent = h.slack.callsTo("response_url").slice(before);
    expect(sent.map((c) => c.args.text)).toEqual([
      "Only cytoskel admins can read the audit trail — nothing was changed.",
    ]);
  });

  it("shows a person's events newest first, ten a page, and the Older events button pages to the rest", async () => {
    const user = freshUser();
    await seed(Array.from({ length: 13 }, () => ({ subjectUserId: user })));
    const reply = await h.slash(ADMIN, `audit <@${user}|someone>`);
    expect(reply.json.response_type).toBe("ephemeral");
    const blocks = blocksOf(reply);
    expect(numbers(blocks)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    const button = olderButton(blocks);
    expect(button?.value).toBeDefined();

    const before = h.slack.callsTo("response_url").length;
    await h.click(ADMIN, AUDIT_OLDER_ACTION_ID, button?.value ?? "");
    const [page2] = h.slack.callsTo("response_url").slice(before);
    expect(page2?.args).toMatchObject({ response_type: "ephemeral", replace_original: false });
    const blocks2 = (page2?.args.blocks ?? []) as Block[];
    expect(numbers(blocks2)).toEqual([2, 1, 0]);
    expect(olderButton(blocks2)).toBeUndefined();
    expect(String(page2?.args.text)).toContain("Older events");
  });

  it("shows every scope at or under a prefix (cpg0042/ has cpg0042/a/, not cpg00421/), naming whom each is about", async () => {
    const [a, b, c] = [freshUser(), freshUser(), freshUser()];
    const dataset = `cpg9${String(seq).padStart(3, "0")}`;
    await seed([
      { subjectUserId: a, scope: `${dataset}/*` },
      { subjectUserId: b, scope: `${dataset}/a/*` },
      { subjectUserId: c, scope: `${dataset}1/*` },
    ]);
    const reply = await h.slash(ADMIN, `audit prefix ${dataset}`);
    const text = JSON.stringify(reply.json.blocks);
    expect(numbers(blocksOf(reply))).toEqual([1, 0]);
    expect(text).toContain(`about <@${b}>`);
    expect(text).toContain(`about <@${a}>`);
    expect(text).not.toContain(c);
    expect(olderButton(blocksOf(reply))).toBeUndefined();
  });

  it("escapes reasons and details before they reach Slack: no mention, no link survives", async () => {
    const user = freshUser();
    await seed([
      {
        subjectUserId: user,
        reason: "bye <!channel> <https://evil.example|click me> & <@UVICTIM>",
        details: { note: "<!here>" },
        scope: "cpg0042/*",
      },
    ]);
    const reply = await h.slash(ADMIN, `audit ${user}`);
    const shown = JSON.stringify(reply.json);
    expect(shown).toContain(
      "bye &lt;!channel&gt; &lt;https://evil.example|click me&gt; &amp; &lt;@UVICTIM&gt;",
    );
    expect(shown).toContain("note=&lt;!here&gt;");
    for (const raw of ["<!channel>", "<https://evil.example", "<@UVICTIM>", "<!here>"])
      expect(shown).not.toContain(raw);
  });

  it("answers a malformed button or a cursor it did not hand out with a plain line, reading nothing", async () => {
    const before = h.slack.callsTo("response_url").length;
    await h.click(ADMIN, AUDIT_OLDER_ACTION_ID, "not json");
    await h.click(ADMIN, AUDIT_OLDER_ACTION_ID, JSON.stringify({ u: freshUser(), c: "%%%" }));
    const sent = h.slack.callsTo("response_url").slice(before);
    expect(sent.map((c) => c.args.text)).toEqual([
      "That button is malformed; nothing was read.",
      "That page of the audit trail can't be read any more; run `/cytoskel audit …` again.",
    ]);
  });

  it("answers a person with no events plainly", async () => {
    const reply = await h.slash(ADMIN, `audit <@${freshUser()}>`);
    expect(JSON.stringify(reply.json.blocks)).toContain("No events.");
    expect(olderButton(blocksOf(reply))).toBeUndefined();
  });
});
