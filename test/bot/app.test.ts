import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackCall } from "../../dev/fake-slack.ts";
import { blockActionBody, signedEvent, slashCommandBody, toReply } from "../../dev/slack-requests.ts";
import { decodeButtonValue } from "../../src/bot/views.ts";
import {
  ADMIN,
  ADMIN_CHANNEL,
  ADMIN2,
  GROUP_ADMIN,
  type Harness,
  requestIdIn,
  SIGNING_SECRET,
  startHarness,
} from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** Files a request as `user` and returns its ID and the admin card's location and button value. */
async function fileRequest(user: string, text = "request prefix cpg0042/* write for 14d new plates") {
  const before = h.slack.calls.length;
  const reply = await h.slash(user, text);
  expect(reply.status).toBe(200);
  const id = requestIdIn(reply.json.text);
  const post = h.slack.calls.slice(before).find((c) => c.method === "chat.postMessage");
  if (!post) throw new Error("no admin card posted");
  const card = [...h.slack.messages.values()].find((m) => JSON.stringify(m.blocks).includes(id));
  if (!card) throw new Error("admin card not stored");
  const value = buttonValue(post, "cytoskel_approve");
  return { id, card: { channel: card.channel, ts: card.ts }, value };
}

function buttonValue(call: SlackCall, actionId: string): string {
  const blocks = call.args.blocks as Array<{
    type: string;
    elements?: Array<{ action_id?: string; value?: string }>;
  }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
  if (!button?.value) throw new Error(`no ${actionId} button`);
  return button.value;
}

function callsSince(n: number): SlackCall[] {
  return h.slack.calls.slice(n);
}

async function transitionsOf(id: string) {
  const events = await h.stores.audit.listForRequest(id);
  return events.items.filter((e) => e.action === "request.transition");
}

describe("slash command: request", () => {
  it("files a PENDING request, answers with a receipt and posts one admin card with Approve/Deny", async () => {
    const n = h.slack.calls.length;
    const reply = await h.slash("UREQ1", "request prefix cpg0042 read for 7d to check plates");
    expect(reply.status).toBe(200);
    expect(reply.json.response_type).toBe("ephemeral");
    const id = requestIdIn(reply.json.text);
    const stored = await h.stores.requests.get(id);
    expect(stored).toMatchObject({
      status: "PENDING",
      requesterUserId: "UREQ1",
      requesterTeamId: "T0CYTOSKEL",
      subPrefix: "cpg0042/*",
      permission: "READ",
      durationDays: 7,
      reason: "to check plates",
    });
    const calls = callsSince(n);
    expect(calls.map((c) => c.method)).toEqual(["chat.postMessage"]);
    const card = calls[0];
    expect(card?.args.channel).toBe(ADMIN_CHANNEL);
    const text = JSON.stringify(card?.args.blocks);
    for (const want of [
      "<@UREQ1>",
      "s3://staging-cellpainting-gallery/cpg0042/*",
      "READ",
      "7 days",
      "to check plates",
    ]) {
      expect(text).toContain(want);
    }
    expect(decodeButtonValue(buttonValue(card as SlackCall, "cytoskel_approve"))).toEqual({
      id,
      requester: "UREQ1",
      // The filed request rides along, so the click needs no read before its one transaction.
      request: expect.objectContaining({ id, requesterUserId: "UREQ1", status: "PENDING" }),
    });
    expect(buttonValue(card as SlackCall, "cytoskel_deny")).toBeTruthy();
  });

  it("records where the card is, leaving updatedAt alone, so an Approve click stays one transaction (after its replay claim)", async () => {
    const { id, card, value } = await fileRequest("UCARDREF");
    const stored = await h.stores.requests.get(id);
    expect(stored?.adminMessage).toEqual(card);
    expect(stored?.updatedAt).toBe(stored?.createdAt);

    const start = h.aws.state.requests.length;
    await h.click(ADMIN, "cytoskel_approve", value, card);
    const dynamo = h.aws.state.requests.slice(start).filter((r) => r.service === "dynamodb");
    // The delivery's replay claim (one PutItem the bot role is allowed), then the one transaction.
    expect(dynamo.map((r) => `${r.operation}:${r.status}`)).toEqual([
      "PutItem:200",
      "TransactWriteItems:200",
    ]);
    expect((await h.stores.requests.get(id))?.status).toBe("APPROVED");
  });

  it("answers a duplicate with the open request instead of filing it again", async () => {
    const first = await fileRequest("UDUP");
    const n = h.slack.calls.length;
    const reply = await h.slash("UDUP", "request prefix cpg0042/ write");
    expect(reply.json.text).toContain(`already have request \`${first.id}\``);
    expect(callsSince(n)).toEqual([]);
    const mine = await h.stores.requests.listByRequester("UDUP");
    expect(mine.items).toHaveLength(1);
  });

  it("refuses malformed prefixes and unknown commands with usage, storing and posting nothing", async () => {
    const n = h.slack.calls.length;
    for (const text of [
      "request prefix ../secret",
      "request prefix *",
      "request prefix a//b",
      "request prefix cpg1 for 999d",
      "frobnicate",
      "",
    ]) {
      const reply = await h.slash("UBAD", text);
      expect(reply.status, text).toBe(200);
      expect(reply.json.response_type).toBe("ephemeral");
      expect(reply.json.text, text).toMatch(/Usage|request prefix/);
    }
    // Nothing posted; the one possible call is the admin group's member list (the whole help after a
    // refusal is an admin's for admins), read once and cached like `help`'s.
    const lookups = callsSince(n).filter((c) => c.method === "usergroups.users.list");
    expect(lookups.length).toBeLessThanOrEqual(1);
    expect(callsSince(n).filter((c) => !lookups.includes(c))).toEqual([]);
    expect((await h.stores.requests.listByRequester("UBAD")).items).toEqual([]);
  });

  it("handles non-ASCII text in a base64 Function URL event (reason kept exactly)", async () => {
    const reply = await h.slash("UUTF8", "request prefix cpg0099 read für José 🧫 plates", {
      format: "function-url",
      base64: true,
    });
    expect(reply.status).toBe(200);
    const id = requestIdIn(reply.json.text);
    expect((await h.stores.requests.get(id))?.reason).toBe("für José 🧫 plates");
  });
});

describe("slash command: status, cancel, help, pending", () => {
  it("status lists the caller's requests only", async () => {
    const { id } = await fileRequest("USTAT");
    await fileRequest("UOTHERSTAT");
    const reply = await h.slash("USTAT", "status");
    expect(reply.json.text).toContain(id);
    expect(reply.json.text).toContain("PENDING");
    expect(reply.json.text).not.toContain("UOTHERSTAT");
    expect((await h.slash("UNOBODY", "status")).json.text).toContain("no access requests");
  });

  it("cancel withdraws one's own pending request and updates its card in place; others' requests are not found", async () => {
    const { id, card } = await fileRequest("UCANCEL");
    const foreign = await h.slash("USOMEONE", `cancel ${id}`);
    expect(foreign.json.text).toContain("no request");
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");

    const n = h.slack.calls.length;
    const reply = await h.slash("UCANCEL", `cancel ${id}`);
    expect(reply.json.text).toContain("cancelled");
    expect((await h.stores.requests.get(id))?.status).toBe("CANCELLED");
    const calls = callsSince(n);
    // The card filed with the request is updated in place (its Approve/Deny buttons gone), not a new post.
    expect(calls).toHaveLength(1);
    // The card's place was recorded when it was posted, so its buttons go instead of a second post.
    expect(calls[0]?.method).toBe("chat.update");
    expect(calls[0]?.args).toMatchObject({ channel: ADMIN_CHANNEL, ts: card.ts });
    expect(String(calls[0]?.args.text)).toContain(id);
    expect(JSON.stringify(h.slack.messages.get(`${card.channel}:${card.ts}`)?.blocks)).not.toContain(
      "cytoskel_approve",
    );

    const again = await h.slash("UCANCEL", `cancel ${id}`);
    expect(again.json.text).toMatch(/already cancelled/);
  });

  it("help shows admin commands to admins (listed or in the admin user group) only", async () => {
    const user = await h.slash("UPLAIN", "help");
    const admin = await h.slash(ADMIN, "help");
    const group = await h.slash(GROUP_ADMIN, "help");
    expect(user.json.text).toContain("request prefix");
    expect(user.json.text).not.toContain("revoke");
    expect(admin.json.text).toContain("revoke @user [prefix|all] [reason…]");
    expect(group.json.text).toContain("Admin commands");
    // No HELP_URL in this harness: no guide line, no link.
    expect(user.json.text).not.toMatch(/Contributor guide|<https?:/);
  });

  it("pending is for admins and lists open requests", async () => {
    const { id } = await fileRequest("UPEND");
    expect((await h.slash("UPEND", "pending")).json.text).toContain("Only cytoskel admins");
    expect((await h.slash(ADMIN, "pending")).json.text).toContain(id);
  });

  it("answers a bare @name with an explanation", async () => {
    const reply = await h.slash(ADMIN, "revoke @alice");
    expect(reply.json.text).toContain("not a mention");
  });
});

describe("approve", () => {
  it("moves the request to APPROVED, records the card, and updates it in place without buttons", async () => {
    const { id, card, value } = await fileRequest("UAPP");
    const n = h.slack.calls.length;
    const reply = await h.click(ADMIN, "cytoskel_approve", value, card);
    expect(reply.status).toBe(200);
    const stored = await h.stores.requests.get(id);
    expect(stored).toMatchObject({ status: "APPROVED", decidedBy: ADMIN, adminMessage: card });
    const calls = callsSince(n);
    expect(calls.map((c) => c.method)).toEqual(["chat.update"]);
    const updated = h.slack.messages.get(`${card.channel}:${card.ts}`);
    const text = JSON.stringify(updated?.blocks);
    expect(text).toContain("Approved");
    expect(text).toContain(`<@${ADMIN}>`);
    expect(text).not.toContain("cytoskel_approve");
  });

  it("refuses a non-admin click with an ephemeral message and changes nothing", async () => {
    const { id, card, value } = await fileRequest("UNONADMIN");
    const n = h.slack.calls.length;
    await h.click("URANDOM", "cytoskel_approve", value, card);
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
    const calls = callsSince(n);
    expect(calls.map((c) => c.method)).toEqual(["chat.postEphemeral"]);
    expect(calls[0]?.args.user).toBe("URANDOM");
    expect(String(calls[0]?.args.text)).toContain("Only cytoskel admins");
    expect(h.slack.messages.get(`${card.channel}:${card.ts}`)?.updates).toBe(0);
  });

  it("refuses self-approval, and lets another admin approve", async () => {
    const { id, card, value } = await fileRequest(ADMIN2);
    await h.click(ADMIN2, "cytoskel_approve", value, card);
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
    expect(String(h.slack.calls.at(-1)?.args.text)).toContain("can't approve your own request");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    expect((await h.stores.requests.get(id))?.status).toBe("APPROVED");
  });

  it("a forged button value naming another requester cannot make an admin approve their own request", async () => {
    const { id, card, value } = await fileRequest(ADMIN2, "request prefix cpg0043/* write for 14d forged");
    const real = decodeButtonValue(value)?.request;
    if (!real) throw new Error("card carries no copy");
    const forged = [
      JSON.stringify({ id, r: "UOTHER", q: { ...real, requesterUserId: "UOTHER" } }),
      JSON.stringify({ id, r: "UOTHER" }),
    ];
    for (const v of forged) {
      await h.click(ADMIN2, "cytoskel_approve", v, card);
      expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
      expect(String(h.slack.calls.at(-1)?.args.text)).toContain("can't approve your own request");
    }
  });

  it("accepts a member of the admin user group", async () => {
    const { id, card, value } = await fileRequest("UGRPREQ");
    await h.click(GROUP_ADMIN, "cytoskel_approve", value, card);
    expect((await h.stores.requests.get(id))?.decidedBy).toBe(GROUP_ADMIN);
  });

  it("a double click makes one transition; the second click is told it was already approved", async () => {
    const { id, card, value } = await fileRequest("UDOUBLE");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    const n = h.slack.calls.length;
    await h.click(ADMIN, "cytoskel_approve", value, card);
    expect(await transitionsOf(id)).toHaveLength(1);
    const calls = callsSince(n);
    expect(calls.map((c) => c.method)).toEqual(["chat.postEphemeral"]);
    expect(String(calls[0]?.args.text)).toContain(`already approved by <@${ADMIN}>`);
  });

  it("two admins racing (approve vs approve, approve vs deny): exactly one transition, the loser told who won", async () => {
    const { id, card, value } = await fileRequest("URACE");
    const n = h.slack.calls.length;
    await Promise.all([
      h.click(ADMIN, "cytoskel_approve", value, card),
      h.click(ADMIN2, "cytoskel_approve", value, card),
    ]);
    const transitions = await transitionsOf(id);
    expect(transitions).toHaveLength(1);
    const winner = transitions[0]?.actor.id;
    const loser = winner === ADMIN ? ADMIN2 : ADMIN;
    const calls = callsSince(n);
    expect(calls.filter((c) => c.method === "chat.update")).toHaveLength(1);
    const told = calls.find((c) => c.method === "chat.postEphemeral");
    expect(told?.args.user).toBe(loser);
    expect(String(told?.args.text)).toContain(`already approved by <@${winner}>`);

    const second = await fileRequest("URACE2");
    const meta = JSON.stringify({ id: second.id, ...second.card });
    const [, deny] = await Promise.all([
      h.click(ADMIN, "cytoskel_approve", second.value, second.card),
      h.submitDeny(ADMIN2, meta, "too broad"),
    ]);
    expect(await transitionsOf(second.id)).toHaveLength(1);
    const final = await h.stores.requests.get(second.id);
    if (final?.status === "APPROVED") {
      expect(deny.json.response_action).toBe("errors");
      expect(deny.json.errors?.reason).toContain("Already approved");
    } else {
      expect(final?.status).toBe("DENIED");
    }
  });
});

describe("deny", () => {
  it("opens a modal for an optional reason; submitting denies and updates the card", async () => {
    const { id, card, value } = await fileRequest("UDENY");
    const n = h.slack.calls.length;
    await h.click(ADMIN, "cytoskel_deny", value, card);
    const open = callsSince(n);
    expect(open.map((c) => c.method)).toEqual(["views.open"]);
    const view = open[0]?.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe("cytoskel_deny_modal");
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");

    const reply = await h.submitDeny(ADMIN, view.private_metadata, "Use cpg0042/sub instead");
    expect(reply.status).toBe(200);
    expect(reply.json.response_action).toBeUndefined();
    const stored = await h.stores.requests.get(id);
    expect(stored).toMatchObject({ status: "DENIED", decidedBy: ADMIN });
    expect(stored?.lastTransition?.reason).toBe("Use cpg0042/sub instead");
    const text = JSON.stringify(h.slack.messages.get(`${card.channel}:${card.ts}`)?.blocks);
    expect(text).toContain("Denied");
    expect(text).toContain("Use cpg0042/sub instead");
    expect(text).not.toContain("cytoskel_deny");

    const again = await h.submitDeny(ADMIN2, view.private_metadata);
    expect(again.json.response_action).toBe("errors");
    expect(await transitionsOf(id)).toHaveLength(1);
  });

  it("refuses a non-admin's deny click and modal submission", async () => {
    const { id, card, value } = await fileRequest("UDENY2");
    const n = h.slack.calls.length;
    await h.click("URANDOM", "cytoskel_deny", value, card);
    expect(callsSince(n).map((c) => c.method)).toEqual(["chat.postEphemeral"]);
    const forged = await h.submitDeny("URANDOM", JSON.stringify({ id, ...card }));
    expect(forged.json.response_action).toBe("errors");
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
  });
});

describe("replays inside the signature window", () => {
  /** The same signed event delivered twice (a captured request sent again within 5 minutes). */
  async function deliverTwice(body: string) {
    const event = signedEvent(SIGNING_SECRET, body);
    const first = toReply(await h.handler(event));
    const n = h.slack.calls.length;
    const second = toReply(await h.handler(event));
    return { first, second, callsAfterSecond: callsSince(n) };
  }

  it("a signed /cytoskel request delivered twice files once, posts one card, and the replay is told so", async () => {
    const body = slashCommandBody({
      userId: "UREPLAY",
      text: "request prefix cpg0045/* read for 7d",
      responseUrl: "",
    });
    const { first, second, callsAfterSecond } = await deliverTwice(body);
    requestIdIn(first.json.text);
    expect(second.status).toBe(200);
    expect(second.json.text).toContain("already received this exact command");
    expect(callsAfterSecond).toEqual([]);
    expect((await h.stores.requests.listByRequester("UREPLAY")).items).toHaveLength(1);
  });

  it("a signed Approve click delivered twice makes one transition and says nothing more", async () => {
    const { id, card, value } = await fileRequest("UREPLAY2", "request prefix cpg0046/* read for 7d");
    const body = blockActionBody({
      userId: ADMIN,
      actionId: "cytoskel_approve",
      value,
      channelId: card.channel,
      messageTs: card.ts,
      responseUrl: "",
    });
    const { second, callsAfterSecond } = await deliverTwice(body);
    expect(second.status).toBe(200);
    expect(callsAfterSecond).toEqual([]);
    expect(await transitionsOf(id)).toHaveLength(1);
  });
});

describe("IDs checked when filed", () => {
  it("refuses a request whose user or team ID is not in Slack's format, filing nothing", async () => {
    for (const [userId, teamId, named] of [
      ["u-look-alike", "T0CYTOSKEL", "user ID"],
      [`U${"A".repeat(29)}`, "T0CYTOSKEL", "user ID"],
      ["ULOOKTEAM", `T${"B".repeat(29)}`, "team ID"],
      ["ULOOKTEAM2", "t0cytoskel", "team ID"],
    ] as const) {
      const n = h.slack.calls.length;
      const reply = await h.post(
        slashCommandBody({ userId, teamId, text: "request prefix cpg0042/*", responseUrl: "" }),
      );
      expect(reply.json.text).toContain(`the ${named} is`);
      expect(reply.json.text).toContain("Nothing was filed");
      expect((await h.stores.requests.listByRequester(userId)).items).toEqual([]);
      expect(h.slack.calls.length).toBe(n);
    }
  });
});

describe("retry", () => {
  it("moves a FAILED request back to APPROVED for an admin, not for others", async () => {
    const { id, card, value } = await fileRequest("URETRY");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    await h.stores.requests.transition(id, {
      from: "APPROVED",
      to: "FAILED",
      actor: { kind: "system", id: "provisioner" },
      reason: "IAM throttled",
    });
    await h.click("URETRY", "cytoskel_retry", id, card);
    expect((await h.stores.requests.get(id))?.status).toBe("FAILED");
    await h.click(ADMIN2, "cytoskel_retry", id, card);
    expect(await h.stores.requests.get(id)).toMatchObject({ status: "APPROVED", decidedBy: ADMIN2 });
  });

  it("an admin cannot Retry their own FAILED request", async () => {
    const { id, card, value } = await fileRequest(ADMIN2, "request prefix cpg0044/* write for 14d own retry");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    await h.stores.requests.transition(id, {
      from: "APPROVED",
      to: "FAILED",
      actor: { kind: "system", id: "provisioner" },
      reason: "IAM throttled",
    });
    await h.click(ADMIN2, "cytoskel_retry", id, card);
    expect((await h.stores.requests.get(id))?.status).toBe("FAILED");
    expect(String(h.slack.calls.at(-1)?.args.text)).toContain("can't retry your own request");
    await h.click(ADMIN, "cytoskel_retry", id, card);
    expect(await h.stores.requests.get(id)).toMatchObject({ status: "APPROVED", decidedBy: ADMIN });
  });
});

describe("malformed interactions", () => {
  it("a malformed button value changes nothing and says so", async () => {
    const n = h.slack.calls.length;
    await h.click(ADMIN, "cytoskel_approve", "{not json", undefined);
    const calls = callsSince(n);
    expect(calls.map((c) => c.method)).toEqual(["chat.postEphemeral"]);
    expect(String(calls[0]?.args.text)).toContain("malformed");
  });

  it("a click on a request that does not exist is answered, not crashed", async () => {
    const reply = await h.click(
      ADMIN,
      "cytoskel_approve",
      JSON.stringify({ id: "nope-1234", r: "UXNOBODY1" }),
    );
    expect(reply.status).toBe(200);
    expect(String(h.slack.calls.at(-1)?.args.text)).toContain("no request `nope-1234`");
  });
});

describe("extension (expiry reminder button)", () => {
  it("files a change request (card to the admins, receipt to the requester); a second click posts nothing new; refuses anyone else", async () => {
    const { id, card, value } = await fileRequest("UEXTEND");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    const endsSoon = new Date(Date.now() + 2 * 86_400_000).toISOString();
    await h.stores.requests.transition(id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: { kind: "system", id: "provisioner" },
      patch: { expiresAt: endsSoon },
    });
    const dm = { channel: "DUEXTEND", ts: "1700000000.000100" };
    let n = h.slack.calls.length;
    await h.click("USTRANGER", "cytoskel_extend", id, dm);
    expect(callsSince(n).map((c) => c.method)).toEqual(["chat.postEphemeral"]);
    n = h.slack.calls.length;
    await h.click("UEXTEND", "cytoskel_extend", id, dm);
    const calls = callsSince(n);
    expect(calls.map((c) => c.method)).toEqual(["chat.postMessage", "chat.postEphemeral"]);
    expect(calls[0]?.args.channel).toBe(ADMIN_CHANNEL);
    expect(String(calls[0]?.args.text)).toContain(`Extension/change for <@UEXTEND>`);
    expect(String(calls[0]?.args.text)).toContain(`end ${endsSoon.slice(0, 10)} → `);
    expect(String(calls[1]?.args.text)).toContain("Change request `");
    n = h.slack.calls.length;
    await h.click("UEXTEND", "cytoskel_extend", id, dm);
    expect(callsSince(n).map((c) => c.method)).toEqual(["chat.postEphemeral"]);
    expect(String(callsSince(n)[0]?.args.text)).toContain("You already asked");
    const mine = await h.stores.requests.listByRequester("UEXTEND");
    expect(mine.items.filter((r) => r.changeOf === id)).toHaveLength(1);
    expect((await h.stores.requests.get(id))?.status).toBe("ACTIVE");
  });
});

describe("extension asked at once from two devices", () => {
  it("three simultaneous Request extension clicks file one change request: one admin card", async () => {
    const { id, card, value } = await fileRequest("UEXTEND3");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    await h.stores.requests.transition(id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: { kind: "system", id: "provisioner" },
      patch: { expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString() },
    });
    const dm = { channel: "DUEXTEND3", ts: "1700000000.000300" };
    const n = h.slack.calls.length;
    await Promise.all([1, 2, 3].map(() => h.click("UEXTEND3", "cytoskel_extend", id, dm)));
    const toAdmins = callsSince(n).filter(
      (c) => c.method === "chat.postMessage" && c.args.channel === ADMIN_CHANNEL,
    );
    expect(toAdmins).toHaveLength(1);
  });
});

describe("late clicks", () => {
  it("after provisioning, a late Approve names the admin who decided, not the provisioner", async () => {
    const { id, card, value } = await fileRequest("ULATE");
    await h.click(ADMIN, "cytoskel_approve", value, card);
    await h.stores.requests.transition(id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: { kind: "system", id: "provisioner" },
    });
    const n = h.slack.calls.length;
    await h.click(ADMIN2, "cytoskel_approve", value, card);
    const told = callsSince(n).find((c) => c.method === "chat.postEphemeral");
    expect(String(told?.args.text)).toContain(`already approved by <@${ADMIN}>`);
    expect(String(told?.args.text)).toContain("(now active)");
    expect(String(told?.args.text)).not.toContain("provisioner");
  });
});

describe("Slack failures", () => {
  it("keeps the request and says so when the admin card cannot be posted", async () => {
    h.slack.failNext("chat.postMessage", "channel_not_found");
    const reply = await h.slash("UNOCARD", "request prefix cpg0555");
    const id = requestIdIn(reply.json.text);
    expect(reply.json.text).toContain("couldn't post it to the admin channel");
    expect((await h.stores.requests.get(id))?.status).toBe("PENDING");
    expect((await h.slash(ADMIN, "pending")).json.text).toContain(id);
  });

  it("a failed card update does not undo or hide the decision", async () => {
    const { id, card, value } = await fileRequest("UNOUPDATE");
    h.slack.failNext("chat.update", "message_not_found");
    const reply = await h.click(ADMIN, "cytoskel_approve", value, card);
    expect(reply.status).toBe(200);
    expect((await h.stores.requests.get(id))?.status).toBe("APPROVED");
  });
});

describe("repeated clicks post once", () => {
  const posts = (calls: SlackCall[]) =>
    calls.filter((c) => c.method === "chat.postMessage" || c.method === "chat.update");

  it("ten clicks of Request extension, Retry or Cancel give one post; the repeats are answered ephemerally", async () => {
    const ext = await fileRequest("UNOISE1", "request prefix cpg0047/* read for 7d");
    await h.click(ADMIN, "cytoskel_approve", ext.value, ext.card);
    await h.stores.requests.transition(ext.id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: { kind: "system", id: "provisioner" },
      patch: { expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    const retry = await fileRequest("UNOISE2", "request prefix cpg0048/* read for 7d");
    await h.click(ADMIN, "cytoskel_approve", retry.value, retry.card);
    await h.stores.requests.transition(retry.id, {
      from: "APPROVED",
      to: "FAILED",
      actor: { kind: "system", id: "provisioner" },
      reason: "x",
    });
    const cancel = await fileRequest("UNOISE3", "request prefix cpg0049/* read for 7d");
    for (const [user, action, id] of [
      ["UNOISE1", "cytoskel_extend", ext.id],
      [ADMIN, "cytoskel_retry", retry.id],
      ["UNOISE3", "cytoskel_cancel", cancel.id],
    ] as const) {
      const n = h.slack.calls.length;
      // Ten at once, as impatient clicks reach the function: each its own delivery (trigger_id).
      await Promise.all(Array.from({ length: 10 }, () => h.click(user, action, id)));
      const calls = callsSince(n);
      expect(
        posts(calls),
        `${action}: ${calls.map((c) => `${c.method} ${String(c.args.text).slice(0, 80)}`).join(" | ")}`,
      ).toHaveLength(1);
      expect(calls.filter((c) => c.method === "chat.postEphemeral").length, action).toBeGreaterThanOrEqual(9);
    }
  });
});
