/**
 * The whole product path through real edges: signed Slack requests → bot Lambda handler → DynamoDB
 * (DynamoDB Local) → local stream → provisioner → local AWS stand-in (IAM + Access Grants) → fake Slack DM
 * with a one-time link → status → revoke.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthorizationRecord } from "../../dev/local-aws/index.ts";
import { PLAYGROUND_DEFAULTS, type Playground, startPlayground } from "../../dev/playground.ts";
import { playgroundSlack } from "../../dev/playground-slack.ts";
import { open } from "../../src/secret-link/crypto.ts";
import { REVEAL_HEADER, REVEAL_HEADER_VALUE } from "../../src/secret-link/page.ts";

let p: Playground;
const ADMIN = PLAYGROUND_DEFAULTS.adminUserId;
const USER = "UFLOW1";

beforeAll(async () => {
  p = await startPlayground({ quiet: true, retry: { backoffMs: 10, maxAttempts: 2 } });
});
afterAll(async () => {
  await p?.stop();
});

const slash = (user: string, text: string) => playgroundSlack(p).slash(user, text);
const card = (id: string) => playgroundSlack(p).card(id);
const click = (user: string, actionId: string, value: string, c: { channel: string; ts: string }) =>
  playgroundSlack(p).click(user, actionId, value, c);

/** What the last queued admin job answered through its command's response_url. */
const lastAnswer = () => String(p.slack.callsTo("response_url").at(-1)?.args.text ?? "");

describe("request → approve → provision → DM → status → revoke", () => {
  it("runs the whole flow with one IAM user, one key, one grant and exactly one DM", async () => {
    const reply = await slash(USER, "request prefix cpg0042/* write for 30d new plates");
    const id = /Request `([^`]+)` filed/.exec(reply.json.text ?? "")?.[1] ?? "";
    expect(id).not.toBe("");
    const c = card(id);

    // Two admins' worth of clicks at once: still one transition, one provision.
    await Promise.all([
      click(ADMIN, "cytoskel_approve", c.value, c),
      click(ADMIN, "cytoskel_approve", c.value, c),
    ]);
    await p.stream.drain();

    const request = await p.stores.requests.get(id);
    expect(request?.status).toBe("ACTIVE");
    const dms = p.slack.callsTo("chat.postMessage").filter((call) => call.args.channel === USER);
    expect(dms).toHaveLength(1);
    expect(JSON.stringify(dms[0]?.args)).toContain(`${p.secretLinkUrl}/s/`);
    expect(String(dms[0]?.args.unfurl_links)).toBe("false");

    const users = [...p.localAws.state.iam.users.values()].filter((u) => u.path === "/cytoskel/");
    expect(users).toHaveLength(1);
    expect(users[0]?.accessKeys).toHaveLength(1);
    const grants = [...(p.localAws.state.accessGrants.get("us-east-1")?.grants.values() ?? [])];
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ permission: "WRITE" });

    // The admin card ends up saying it is active (provisioner's update in place).
    expect(JSON.stringify(card(id).msg.blocks)).toMatch(/Active/);

    const status = await slash(USER, "status");
    expect(status.json.text).toContain("Active grants");
    expect(status.json.text).toContain("cpg0042/*");

    // Re-issue: queued by the bot, run from the stream: the old key goes, a new one is made, and a new
    // one-time link is DMed; the admin's answer comes back through the command's response_url.
    const oldKey = users[0]?.accessKeys[0]?.accessKeyId;
    const reissue = await slash(ADMIN, `reissue <@${USER}|flow>`);
    expect(reissue.json.text).toContain(`Re-issuing keys for <@${USER}>`);
    await p.stream.drain();
    expect(lastAnswer()).toContain("new one-time link");
    const keysNow =
      [...p.localAws.state.iam.users.values()].find((u) => u.path === "/cytoskel/")?.accessKeys ?? [];
    expect(keysNow).toHaveLength(1);
    expect(keysNow[0]?.accessKeyId).not.toBe(oldKey);
    const reissueDm = p.slack
      .callsTo("chat.postMessage")
      .filter((call) => call.args.channel === USER)
      .at(-1);
    expect(String(reissueDm?.args.text)).toContain(`${p.secretLinkUrl}/s/`);
    expect((await slash(USER, `reissue <@${USER}>`)).json.text).toContain("Only cytoskel admins");

    const revoke = await slash(ADMIN, `revoke <@${USER}|flow>`);
    expect(revoke.json.text).toContain(`Revoking access for <@${USER}>`);
    await p.stream.drain();
    expect(lastAnswer()).toMatch(/revoked/i);
    expect(lastAnswer()).toMatch(/temporary credentials/i);
    expect((await p.stores.requests.get(id))?.status).toBe("REVOKED");
    expect([...p.localAws.state.iam.users.values()].filter((u) => u.path === "/cytoskel/")).toHaveLength(0);
    expect([...(p.localAws.state.accessGrants.get("us-east-1")?.grants.values() ?? [])]).toHaveLength(0);
  });

  it("a non-admin's revoke changes nothing", async () => {
    const reply = await slash("UMALLORY", `revoke <@${USER}>`);
    expect(reply.json.text).toContain("Only cytoskel admins");
  });
});

describe("every function runs as its own synthesized role", () => {
  it("request → approve → provision → reveal: the bot, the provisioner and the secret link each call AWS as itself, and nothing is denied", async () => {
    const user = "UFLOW2";
    const start = p.localAws.state.authorizations.length;
    const reply = await slash(user, "request prefix cpg0077/* read for 7d roles check");
    const id = /Request `([^`]+)` filed/.exec(reply.json.text ?? "")?.[1] ?? "";
    expect(id).not.toBe("");
    const c = card(id);
    await click(ADMIN, "cytoskel_approve", c.value, c);
    await p.stream.drain();
    expect((await p.stores.requests.get(id))?.status).toBe("ACTIVE");

    // The one-time link from the DM: the page, then the reveal (what the page's button does).
    const dm = p.slack.callsTo("chat.postMessage").find((call) => call.args.channel === user);
    const link = new RegExp(`${p.secretLinkUrl}/s/([A-Za-z0-9_-]+)#([A-Za-z0-9_-]+)`).exec(
      JSON.stringify(dm?.args),
    );
    const [, linkId = "", key = ""] = link ?? [];
    expect(linkId).not.toBe("");
    expect((await fetch(`${p.secretLinkUrl}/s/${linkId}`)).status).toBe(200);
    const revealed = await fetch(`${p.secretLinkUrl}/s/${linkId}`, {
      method: "POST",
      headers: { [REVEAL_HEADER]: REVEAL_HEADER_VALUE },
    });
    expect(revealed.status).toBe(200);
    const credentials = JSON.parse(await open(await revealed.json(), key, linkId)) as { accessKeyId: string };
    const iamUser = [...p.localAws.state.iam.users.values()].find((u) => u.userName.endsWith(user));
    expect(iamUser?.accessKeys.map((k) => k.accessKeyId)).toEqual([credentials.accessKeyId]);
    // The secret-link function told the requester the link was opened (and appended the audit event).
    const opened = p.slack.callsTo("chat.postMessage").filter((call) => call.args.channel === user);
    expect(String(opened.at(-1)?.args.text)).toContain("link was opened");
    expect((await p.stores.audit.listForRequest(id)).items.map((e) => e.action)).toContain("secret.consumed");

    const decisions = p.localAws.state.authorizations.slice(start);
    const by = (fn: "bot" | "provisioner" | "secretLink") =>
      decisions.filter((d) => d.principalArn === p.roles.functions[fn].sessionArn);
    const show = (ds: AuthorizationRecord[]) => ds.map((d) => `${d.principalArn} ${d.action} ${d.resource}`);
    expect(show(decisions.filter((d) => !d.allowed))).toEqual([]);
    // Transactions are judged item by item, so the bot's file and approve show as PutItem / UpdateItem.
    expect(by("bot").map((d) => d.action)).toEqual(
      expect.arrayContaining(["dynamodb:PutItem", "dynamodb:UpdateItem"]),
    );
    expect(by("provisioner").map((d) => d.action)).toEqual(
      expect.arrayContaining([
        "iam:CreateUser",
        "iam:AddUserToGroup",
        "iam:CreateAccessKey",
        "s3:CreateAccessGrant",
        "dynamodb:UpdateItem",
      ]),
    );
    expect(by("secretLink").map((d) => d.action)).toEqual(
      expect.arrayContaining(["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]),
    );
    // Nobody else acted for the functions (the admin's root key is only the test's own inspection).
    const functions = new Set(Object.values(p.roles.functions).map((f) => f.sessionArn));
    const others = decisions.filter((d) => !functions.has(d.principalArn));
    expect(others.every((d) => d.principalArn === `arn:aws:iam::${p.localAws.accountId}:root`)).toBe(true);
  });
});
