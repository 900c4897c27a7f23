/**
 * Cards that stay true (issue 12 item 3): every state change after an admin card was posted updates
 * THAT card (the channel+ts recorded when it was filed) with chat.update, and takes away the buttons
 * that no longer apply. Real edges: signed Slack requests → bot → DynamoDB → stream → provisioner /
 * expiry → local AWS (each function's synthesized role) → fake Slack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/lambda-context.ts";
import { PLAYGROUND_DEFAULTS, type Playground, startPlayground } from "../../dev/playground.ts";
import { playgroundSlack } from "../../dev/playground-slack.ts";
import { signedEvent, toReply, viewSubmissionBody } from "../../dev/slack-requests.ts";

let p: Playground;
const ADMIN = PLAYGROUND_DEFAULTS.adminUserId;
const DAY = 86_400_000;

beforeAll(async () => {
  p = await startPlayground({ quiet: true, retry: { backoffMs: 10, maxAttempts: 2 } });
});
afterAll(async () => {
  await p?.stop();
});

const s = () => playgroundSlack(p);
type Ref = { channel: string; ts: string };

/** The action IDs on the card as it now is in the fake Slack. */
function buttonsOn(ref: Ref): string[] {
  const msg = p.slack.messages.get(`${ref.channel}:${ref.ts}`);
  expect(msg, "the card still exists").toBeDefined();
  const blocks = (msg?.blocks ?? []) as Array<{
    elements?: Array<{ action_id?: string }>;
    accessory?: { action_id?: string };
  }>;
  return blocks
    .flatMap((b) => [
      ...(b.elements ?? []).map((e) => e.action_id ?? ""),
      ...(b.accessory?.action_id ? [b.accessory.action_id] : []),
    ])
    .filter((a) => a.startsWith("cytoskel_"));
}
const cardText = (ref: Ref) => JSON.stringify(p.slack.messages.get(`${ref.channel}:${ref.ts}`)?.blocks);
/** chat.update calls to the card since call index `n`. */
const updatesOf = (ref: Ref, n: number) =>
  p.slack.calls
    .slice(n)
    .filter((c) => c.method === "chat.update" && c.args.channel === ref.channel && c.args.ts === ref.ts);

/** Files `text` as `user`; the card as posted, checked to be the place the request recorded. */
async function file(user: string, text: string): Promise<{ id: string; card: Ref & { value: string } }> {
  const reply = await s().slash(user, text);
  const id = /(?:Change r|R)equest `([^`]+)` filed/.exec(reply.json.text ?? "")?.[1] ?? "";
  expect(id, String(reply.json.text)).not.toBe("");
  const card = s().card(id);
  expect((await p.stores.requests.require(id)).adminMessage).toEqual({ channel: card.channel, ts: card.ts });
  return { id, card };
}

async function approve(card: Ref & { value: string }): Promise<void> {
  await s().click(ADMIN, "cytoskel_approve", card.value, card);
  await p.stream.drain();
}

describe("an admin card after its request was filed", () => {
  it("approval → active: the filed card says Active and has no Approve/Deny; a revoke then marks it Revoked", async () => {
    const user = "UCARDREV";
    const { id, card } = await file(user, "request prefix cpg0701/* read for 7d");
    const n = p.slack.calls.length;
    await approve(card);
    expect((await p.stores.requests.require(id)).status).toBe("ACTIVE");
    expect(updatesOf(card, n).length).toBeGreaterThan(0);
    expect(cardText(card)).toContain("*Active*");
    expect(buttonsOn(card)).toEqual([]);

    const m = p.slack.calls.length;
    await s().slash(ADMIN, `revoke <@${user}> cpg0701/*`);
    await p.stream.drain();
    expect((await p.stores.requests.require(id)).status).toBe("REVOKED");
    expect(updatesOf(card, m)).toHaveLength(1);
    expect(cardText(card)).toContain(`Revoked by <@${ADMIN}>`);
    expect(buttonsOn(card)).toEqual([]);
  });

  it("expiry of active access marks the filed card Expired, with no buttons", async () => {
    const { id, card } = await file("UCARDEXP", "request prefix cpg0702/* read for 3d");
    await approve(card);
    const n = p.slack.calls.length;
    const report = await p.expiry(() => new Date(p.now().getTime() + 10 * DAY))(
      {},
      lambdaContext("expiry", 60_000),
    );
    expect(report.errors).toEqual([]);
    expect((await p.stores.requests.require(id)).status).toBe("EXPIRED");
    expect(updatesOf(card, n)).toHaveLength(1);
    expect(cardText(card)).toContain("*Expired*");
    expect(buttonsOn(card)).toEqual([]);
  });

  it("a provisioning failure turns the filed card into the failure with Retry only; a successful Retry leaves it Active without Retry", async () => {
    const { id, card } = await file("UCARDFAIL", "request prefix cpg0703/* read for 7d");
    // A refusal no retry can fix: the request ends FAILED at once (the fault is used up, so Retry succeeds).
    p.localAws.failNext("CreateUser", { code: "AccessDenied", status: 403, message: "not authorized" });
    const n = p.slack.calls.length;
    await approve(card);
    expect((await p.stores.requests.require(id)).status).toBe("FAILED");
    expect(updatesOf(card, n).length).toBeGreaterThan(0);
    expect(cardText(card)).toContain("Provisioning failed");
    expect(buttonsOn(card)).toEqual(["cytoskel_retry"]);
    expect(
      p.slack
        .callsTo("chat.postMessage")
        .slice(0)
        .filter((c) => JSON.stringify(c.args).includes("Provisioning failed")),
    ).toEqual([]);

    const m = p.slack.calls.length;
    await s().click(ADMIN, "cytoskel_retry", id, card);
    await p.stream.drain();
    expect((await p.stores.requests.require(id)).status).toBe("ACTIVE");
    expect(updatesOf(card, m).length).toBeGreaterThan(0);
    expect(cardText(card)).toContain("*Active*");
    expect(buttonsOn(card)).toEqual([]);
  });
});

describe("a change request's card", () => {
  async function held(user: string, prefix: string): Promise<{ id: string; card: Ref }> {
    const filed = await file(user, `request prefix ${prefix} write for 7d`);
    await approve(filed.card);
    return filed;
  }

  it("is recorded when filed; applied, it says Applied with no Approve/Deny or Approve shorter, and the held card shows the new terms", async () => {
    const user = "UCARDCHG1";
    const heldReq = await held(user, "cpg0704/*");
    const oldEnd = (await p.stores.requests.require(heldReq.id)).expiresAt?.slice(0, 10);
    const { id, card } = await file(user, "request prefix cpg0704/* readwrite for 30d");
    expect(buttonsOn(card)).toEqual(
      expect.arrayContaining(["cytoskel_approve", "cytoskel_deny", "cytoskel_approve_shorter"]),
    );
    const n = p.slack.calls.length;
    await approve(card);
    expect((await p.stores.requests.require(id)).status).toBe("APPLIED");
    expect(updatesOf(card, n).length).toBeGreaterThan(0);
    expect(cardText(card)).toContain("Applied");
    expect(buttonsOn(card)).toEqual([]);
    // The held request's card (filed with it) no longer shows the old end or permission.
    const newEnd = (await p.stores.requests.require(heldReq.id)).expiresAt?.slice(0, 10);
    expect(newEnd).not.toBe(oldEnd);
    expect(updatesOf(heldReq.card, n)).toHaveLength(1);
    expect(cardText(heldReq.card)).toContain(`Access ends on ${newEnd} unless extended.`);
    expect(cardText(heldReq.card)).toContain(
      `by an approved change: end ${oldEnd} → ${newEnd}; WRITE → READWRITE`,
    );
    expect(cardText(heldReq.card)).toContain("· READWRITE");
    expect(buttonsOn(heldReq.card)).toEqual([]);
  });

  it("cancelled by the requester, the filed change card says so and loses its buttons", async () => {
    const user = "UCARDCHG2";
    await held(user, "cpg0705/*");
    const { id, card } = await file(user, "request prefix cpg0705/* readwrite for 30d");
    const n = p.slack.calls.length;
    await s().slash(user, `cancel ${id}`);
    expect((await p.stores.requests.require(id)).status).toBe("CANCELLED");
    expect(updatesOf(card, n)).toHaveLength(1);
    expect(buttonsOn(card)).toEqual([]);
  });

  it("denied through the modal (opened from the card), the filed change card says Denied with no buttons", async () => {
    const user = "UCARDCHG3";
    await held(user, "cpg0706/*");
    const { id, card } = await file(user, "request prefix cpg0706/* readwrite for 30d");
    const opened = p.slack.calls.length;
    await s().click(ADMIN, "cytoskel_deny", id, card);
    const modal = p.slack.calls.slice(opened).find((c) => c.method === "views.open")?.args.view as
      | { private_metadata?: string }
      | undefined;
    expect(modal?.private_metadata).toBeDefined();
    const n = p.slack.calls.length;
    const body = viewSubmissionBody({
      userId: ADMIN,
      teamId: PLAYGROUND_DEFAULTS.teamId,
      callbackId: "cytoskel_deny_modal",
      privateMetadata: modal?.private_metadata ?? "",
      values: { reason: { reason_input: { type: "plain_text_input", value: "<!channel> not now" } } },
    });
    const reply = toReply(
      await p.handler(
        signedEvent(PLAYGROUND_DEFAULTS.signingSecret, body, {
          timestamp: Math.floor(p.now().getTime() / 1000),
        }),
        {},
      ),
    );
    expect(reply.status).toBe(200);
    await p.stream.drain();
    expect((await p.stores.requests.require(id)).status).toBe("DENIED");
    expect(updatesOf(card, n)).toHaveLength(1);
    expect(cardText(card)).toMatch(/Denied/i);
    expect(cardText(card)).not.toContain("<!channel>");
    expect(buttonsOn(card)).toEqual([]);
  });
});
