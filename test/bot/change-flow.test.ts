/**
 * Extension and upgrade through real edges (the playground: signed Slack requests → bot → DynamoDB →
 * stream → provisioner → local AWS judging each function's synthesized role → fake Slack): a request
 * for a held scope becomes a change request; approving it moves the end and/or replaces the grant with
 * no new key; the reminder's button files the same request, once; an admin may approve shorter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAYGROUND_DEFAULTS, type Playground, startPlayground } from "../../dev/playground.ts";
import { playgroundSlack } from "../../dev/playground-slack.ts";
import { signedEvent, toReply, viewSubmissionBody } from "../../dev/slack-requests.ts";
import { DAY_MS } from "../../src/rules/change.ts";

let p: Playground;
const ADMIN = PLAYGROUND_DEFAULTS.adminUserId;
const ADMIN_CHANNEL = PLAYGROUND_DEFAULTS.adminChannelId;

beforeAll(async () => {
  p = await startPlayground({ quiet: true, retry: { backoffMs: 10, maxAttempts: 2 } });
});
afterAll(async () => {
  await p?.stop();
});

const s = () => playgroundSlack(p);
const adminPosts = () => p.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === ADMIN_CHANNEL);
const dmsTo = (user: string) => p.slack.callsTo("chat.postMessage").filter((c) => c.args.channel === user);
const ephemeralsTo = (user: string) =>
  p.slack.callsTo("chat.postEphemeral").filter((c) => c.args.user === user);
const grantsOf = (user: string) => {
  const u = [...p.localAws.state.iam.users.values()].find((x) => x.userName.endsWith(user));
  return [...(p.localAws.state.accessGrants.get("us-east-1")?.grants.values() ?? [])].filter(
    (g) => g.granteeIdentifier === u?.arn,
  );
};
const keysOf = (user: string) =>
  [...p.localAws.state.iam.users.values()]
    .find((x) => x.userName.endsWith(user))
    ?.accessKeys.map((k) => k.accessKeyId);

/** Files and approves `text` as `user`; returns the ACTIVE request's id. */
async function held(user: string, text: string): Promise<string> {
  const reply = await s().slash(user, text);
  const id = /Request `([^`]+)` filed/.exec(reply.json.text ?? "")?.[1] ?? "";
  expect(id).not.toBe("");
  const c = s().card(id);
  await s().click(ADMIN, "cytoskel_approve", c.value, c);
  await p.stream.drain();
  expect((await p.stores.requests.get(id))?.status).toBe("ACTIVE");
  return id;
}

const changeIdIn = (text: string | undefined) => /Change request `([^`]+)` filed/.exec(text ?? "")?.[1] ?? "";

describe("a request for a scope already held", () => {
  it("asking the same again is refused with what is held; `for 60d readwrite` files a change; approving it widens and extends with no new key", async () => {
    const user = "UCHANGE1";
    const heldId = await held(user, "request prefix cpg0042/* write for 30d new plates");
    const keys = keysOf(user);
    const [oldGrant] = grantsOf(user);
    const before = await p.stores.requests.require(heldId);
    const posts = adminPosts().length;

    const same = await s().slash(user, "request prefix cpg0042 write");
    expect(same.json.text).toContain(
      `You already hold WRITE on \`cpg0042/*\` until ${before.expiresAt?.slice(0, 10)}; nothing new to ask.`,
    );
    expect(adminPosts()).toHaveLength(posts);

    const tooLong = await s().slash(user, "request prefix cpg0042/* readwrite for 120d");
    expect(tooLong.json.text).toMatch(/90/);
    expect(adminPosts()).toHaveLength(posts);

    const asked = await s().slash(user, "request prefix cpg0042/* readwrite for 60d <!here> more plates");
    const changeId = changeIdIn(asked.json.text);
    expect(changeId).not.toBe("");
    const newEnd = new Date(Date.parse((await p.stores.requests.require(changeId)).createdAt) + 60 * DAY_MS);
    const what = `end ${before.expiresAt?.slice(0, 10)} → ${newEnd.toISOString().slice(0, 10)}; WRITE → READWRITE`;
    expect(asked.json.text).toContain(what);
    const card = s().card(changeId);
    const cardJson = JSON.stringify(card.msg.blocks);
    expect(cardJson).toContain(
      `Extension/change for <@${user}> on \`s3://staging-cellpainting-gallery/cpg0042/*\`: ${what}`,
    );
    // What Slack renders (sections and context lines; a button's value is never shown).
    const shown = JSON.stringify(
      (card.msg.blocks as Array<{ type: string }>).filter(
        (b) => b.type === "section" || b.type === "context",
      ),
    );
    expect(shown).toContain("&lt;!here&gt; more plates");
    expect(shown).not.toContain("<!here>");

    const again = await s().slash(user, "request prefix cpg0042/* write for 45d");
    expect(again.json.text).toContain(`You already asked: change request \`${changeId}\``);
    expect(adminPosts()).toHaveLength(posts + 1);

    const dms = dmsTo(user).length;
    const start = p.localAws.state.authorizations.length;
    await s().click(ADMIN, "cytoskel_approve", card.value, card);
    await p.stream.drain();

    expect(p.localAws.state.authorizations.slice(start).filter((d) => !d.allowed)).toEqual([]);
    expect((await p.stores.requests.require(changeId)).status).toBe("APPLIED");
    const after = await p.stores.requests.require(heldId);
    expect(after).toMatchObject({ status: "ACTIVE", permission: "READWRITE" });
    expect(after.expiresAt?.slice(0, 10)).toBe(newEnd.toISOString().slice(0, 10));
    expect(keysOf(user)).toEqual(keys);
    const grants = grantsOf(user);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ permission: "READWRITE" });
    expect(grants[0]?.id).not.toBe(oldGrant?.id);
    expect(dmsTo(user)).toHaveLength(dms + 1);
    expect(String(dmsTo(user).at(-1)?.args.text)).toContain(what);
    expect(JSON.stringify(s().card(changeId).msg.blocks)).toContain("Applied");

    const status = await s().slash(user, "status");
    expect(status.json.text).toContain(`\`s3://staging-cellpainting-gallery/cpg0042/*\` READWRITE until`);
  });

  it("a pending request for the scope is answered with it (cancel and re-file to ask differently)", async () => {
    const user = "UCHANGE2";
    const first = await s().slash(user, "request prefix cpg0050/* read for 7d");
    const id = /Request `([^`]+)` filed/.exec(first.json.text ?? "")?.[1] ?? "";
    const again = await s().slash(user, "request prefix cpg0050/* readwrite for 60d");
    expect(again.json.text).toContain(`You already have request \`${id}\``);
    expect(again.json.text).toContain(`cancel it (\`/cytoskel cancel ${id}\`) and file again`);
  });
});

describe("the expiry reminder's Request extension button", () => {
  it("files the same change request (default duration, same permission); a second click posts nothing new; an admin approves it shorter", async () => {
    const user = "UCHANGE3";
    const heldId = await held(user, "request prefix cpg0060/* read for 7d");
    const dm = { channel: user, ts: "1700000001.000100" };
    const posts = adminPosts().length;

    await s().click(user, "cytoskel_extend", heldId, dm);
    expect(adminPosts()).toHaveLength(posts + 1);
    const receipt = String(ephemeralsTo(user).at(-1)?.args.text);
    const changeId = changeIdIn(receipt);
    expect(changeId).not.toBe("");
    const change = await p.stores.requests.require(changeId);
    expect(change).toMatchObject({
      changeOf: heldId,
      permission: "READ",
      durationDays: 30,
      status: "PENDING",
    });

    await s().click(user, "cytoskel_extend", heldId, dm);
    expect(adminPosts()).toHaveLength(posts + 1);
    expect(String(ephemeralsTo(user).at(-1)?.args.text)).toContain(
      `You already asked: change request \`${changeId}\``,
    );

    // The card offers shorter durations that still extend past the held 7 days; 14 is one of them.
    const card = s().card(changeId);
    const options = JSON.stringify(card.msg.blocks);
    expect(options).toContain("Approve for 14 days");
    expect(options).not.toContain("Approve for 3 days");
    const value = JSON.stringify({ id: changeId, r: user, d: 14 });
    const keys = keysOf(user);
    await s().click(ADMIN, "cytoskel_approve_shorter", value, card, { select: true });
    await p.stream.drain();

    expect((await p.stores.requests.require(changeId)).status).toBe("APPLIED");
    const after = await p.stores.requests.require(heldId);
    const end14 = new Date(Date.parse(change.createdAt) + 14 * DAY_MS).toISOString();
    expect(after).toMatchObject({ status: "ACTIVE", permission: "READ", expiresAt: end14 });
    expect(keysOf(user)).toEqual(keys);
    expect(grantsOf(user)).toHaveLength(1);
    const audit = (await p.stores.audit.listForRequest(changeId)).items;
    expect(audit.find((e) => e.to === "APPROVED")?.reason).toBe("approved for 14 days (asked 30)");
  });

  it("an admin cannot 'shorten' to the asked duration or longer", async () => {
    const user = "UCHANGE4";
    const heldId = await held(user, "request prefix cpg0070/* read for 7d");
    await s().click(user, "cytoskel_extend", heldId, { channel: user, ts: "1700000002.000100" });
    const changeId = changeIdIn(String(ephemeralsTo(user).at(-1)?.args.text));
    const card = s().card(changeId);
    await s().click(
      ADMIN,
      "cytoskel_approve_shorter",
      JSON.stringify({ id: changeId, r: user, d: 30 }),
      card,
      {
        select: true,
      },
    );
    expect(String(ephemeralsTo(ADMIN).at(-1)?.args.text)).toContain(
      "30 days is not a shorter duration: choose 1 to 29 days",
    );
    expect((await p.stores.requests.require(changeId)).status).toBe("PENDING");
  });
});

describe("a denied change", () => {
  it("leaves the held access as it is; the DM from the stream says so, with the reason escaped", async () => {
    const user = "UCHANGE5";
    const heldId = await held(user, "request prefix cpg0080/* write for 30d");
    const before = await p.stores.requests.require(heldId);
    const grants = grantsOf(user);
    const asked = await s().slash(user, "request prefix cpg0080/* readwrite for 60d");
    const changeId = changeIdIn(asked.json.text);
    const card = s().card(changeId);

    const body = viewSubmissionBody({
      userId: ADMIN,
      teamId: PLAYGROUND_DEFAULTS.teamId,
      callbackId: "cytoskel_deny_modal",
      privateMetadata: JSON.stringify({ id: changeId, channel: card.channel, ts: card.ts }),
      values: { reason: { reason_input: { type: "plain_text_input", value: "<@UEVERYONE> not now" } } },
    });
    const reply = toReply(await p.handler(signedEvent(PLAYGROUND_DEFAULTS.signingSecret, body), {}));
    expect(reply.status).toBe(200);
    await p.stream.drain();

    expect((await p.stores.requests.require(changeId)).status).toBe("DENIED");
    expect(await p.stores.requests.require(heldId)).toMatchObject({
      status: "ACTIVE",
      permission: "WRITE",
      expiresAt: before.expiresAt,
    });
    expect(grantsOf(user)).toEqual(grants);
    const dm = dmsTo(user).at(-1);
    expect(String(dm?.args.text)).toContain(
      `Your current access is unchanged: WRITE until ${before.expiresAt?.slice(0, 10)}`,
    );
    expect(JSON.stringify(dm?.args.blocks)).toContain("&lt;@UEVERYONE&gt; not now");
  });
});
