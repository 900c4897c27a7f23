// The handler against the real SecretStore/AuditLog on DynamoDB Local and the local fake Slack API.
import { createHash } from "node:crypto";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { webApi } from "@slack/bolt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { open, randomLinkId } from "../../src/secret-link/crypto.ts";
import {
  createSecretLinkHandler,
  type HttpRequest,
  type HttpResponse,
  SECURITY_HEADERS,
} from "../../src/secret-link/handler.ts";
import {
  type CredentialsPayload,
  DEFAULT_TTL_SECONDS,
  InvalidSecretLinkInputError,
  issueSecretLink,
} from "../../src/secret-link/issue.ts";
import { AUDIT_ACTION_CONSUMED, createConsumedNotifier } from "../../src/secret-link/notify.ts";
import { REVEAL_HEADER, REVEAL_HEADER_VALUE } from "../../src/secret-link/page.ts";
import { createStores, type Stores } from "../../src/store/index.ts";

const BASE = "https://links.example.org";
const payload: CredentialsPayload = {
  accessKeyId: "AKIAEXAMPLEKEY000001",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  bucket: "staging-cellpainting-gallery",
  region: "us-east-1",
  scopes: ["cpg0042/*"],
  permission: "READWRITE",
};

let dynamo: LocalDynamo;
let stores: Stores;
let slack: FakeSlack;
let slackClient: webApi.WebClient;
let handle: (req: HttpRequest) => Promise<HttpResponse>;
let requestCounter = 0;

function get(path: string): Promise<HttpResponse> {
  return handle({ method: "GET", path, headers: { accept: "text/html" } });
}
function post(path: string, headers: Record<string, string> = { [REVEAL_HEADER]: REVEAL_HEADER_VALUE }) {
  return handle({ method: "POST", path, headers: { "sec-fetch-site": "same-origin", ...headers } });
}
async function issue(opts: { ttlSeconds?: number; now?: () => Date } = {}) {
  requestCounter += 1;
  const requestId = `req-${requestCounter}`;
  const link = await issueSecretLink({
    secrets: stores.secrets,
    baseUrl: BASE,
    payload,
    requestId,
    requesterUserId: "U0REQUESTER",
    ...opts,
  });
  const url = new URL(link.url);
  return { ...link, requestId, path: url.pathname, key: url.hash.slice(1) };
}
async function isStored(id: string): Promise<boolean> {
  return stores.secrets.isAvailable(id, Math.floor(Date.now() / 1000));
}

beforeAll(async () => {
  dynamo = await startDynamo();
  stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  slack = await startFakeSlack();
  slackClient = new webApi.WebClient("xoxb-test-token", {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
  handle = createSecretLinkHandler({
    secrets: stores.secrets,
    onConsumed: createConsumedNotifier({ slack: slackClient, audit: stores.audit }),
  });
});

afterAll(async () => {
  await slack?.stop();
  await dynamo?.stop();
});

beforeEach(() => slack.clear());

describe("issueSecretLink", () => {
  it("returns base/s/<128-bit id>#<256-bit key> and a 24 h expiry by default", async () => {
    const before = Date.now();
    const link = await issue();
    expect(link.url).toBe(`${BASE}/s/${link.id}#${link.key}`);
    expect(Buffer.from(link.id, "base64url")).toHaveLength(16);
    expect(Buffer.from(link.key, "base64url")).toHaveLength(32);
    const ttl = link.expiresAt.getTime() - before;
    expect(ttl).toBeGreaterThan((DEFAULT_TTL_SECONDS - 5) * 1000);
    expect(ttl).toBeLessThanOrEqual(DEFAULT_TTL_SECONDS * 1000);
  });

  it("stores ciphertext only: neither the key nor any credential appears in the table", async () => {
    const link = await issue();
    const { Items = [] } = await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName }));
    const dump = JSON.stringify(Items);
    expect(dump).toContain(link.requestId);
    expect(dump).not.toContain(link.key);
    expect(dump).not.toContain(payload.secretAccessKey);
    expect(dump).not.toContain(payload.accessKeyId);
  });

  it("refuses lifetimes outside 5 minutes to 7 days, naming the bounds", async () => {
    await expect(issue({ ttlSeconds: 299 })).rejects.toThrow(/from 300 \(5 minutes\) to 604800 \(7 days\)/);
    await expect(issue({ ttlSeconds: 7 * 86_400 + 1 })).rejects.toThrow(InvalidSecretLinkInputError);
    await expect(issue({ ttlSeconds: 1.5 * 3600 + 0.5 })).rejects.toThrow(InvalidSecretLinkInputError);
    await expect(issue({ ttlSeconds: 300 })).resolves.toMatchObject({ id: expect.any(String) });
  });

  it("refuses a plain-http base URL except on localhost, and trims a trailing slash", async () => {
    const args = { secrets: stores.secrets, payload, requestId: "r", requesterUserId: "U1" };
    await expect(issueSecretLink({ ...args, baseUrl: "http://links.example.org" })).rejects.toThrow(/https/);
    await expect(issueSecretLink({ ...args, baseUrl: "not a url" })).rejects.toThrow(
      InvalidSecretLinkInputError,
    );
    const local = await issueSecretLink({ ...args, baseUrl: "http://127.0.0.1:8080/" });
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:8080\/s\/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}$/);
  });
});

describe("GET /s/<id>", () => {
  it("shows the Reveal page and consumes nothing, however often it is fetched", async () => {
    const link = await issue();
    for (let i = 0; i < 3; i++) {
      const res = await get(link.path);
      expect(res.status).toBe(200);
      expect(res.body).toContain('id="reveal"');
      expect(res.body).toContain("the Cell Painting Gallery admins");
    }
    const head = await handle({ method: "HEAD", path: link.path, headers: {} });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(await isStored(link.id)).toBe(true);
    expect((await post(link.path)).status).toBe(200);
  });

  it("never puts the key or the credentials in the page", async () => {
    const link = await issue();
    const res = await get(link.path);
    expect(res.body).not.toContain(link.key);
    expect(res.body).not.toContain(payload.accessKeyId);
  });
});

describe("POST /s/<id>", () => {
  it("answers the ciphertext once; it decrypts with the link's key; later tries get 410", async () => {
    const link = await issue();
    const first = await post(link.path);
    expect(first.status).toBe(200);
    expect(first.headers["content-type"]).toBe("application/json; charset=utf-8");
    const sealed = JSON.parse(first.body) as { ciphertext: string; iv: string };
    expect(Object.keys(sealed).sort()).toEqual(["ciphertext", "iv"]);
    expect(JSON.parse(await open(sealed, link.key, link.id))).toEqual(payload);

    const second = await post(link.path);
    expect(second.status).toBe(410);
    expect(JSON.parse(second.body)).toMatchObject({
      error: "gone",
      message: expect.stringContaining("re-issue"),
    });
    expect((await get(link.path)).status).toBe(410);
  });

  it("lets exactly one of many concurrent reveals win", async () => {
    const link = await issue();
    const results = await Promise.all(Array.from({ length: 12 }, () => post(link.path)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 410)).toHaveLength(11);
  });

  it("treats an expired link as gone even while its item still exists (TTL deletion lags)", async () => {
    const past = new Date(Date.now() - 10 * 60 * 1000);
    const link = await issue({ ttlSeconds: 300, now: () => past });
    expect((await get(link.path)).status).toBe(410);
    expect((await post(link.path)).status).toBe(410);
    const { Items = [] } = await dynamo.doc.send(new ScanCommand({ TableName: dynamo.tableName }));
    expect(Items.some((item) => item.secretId === link.id)).toBe(true);
  });

  it("refuses, without consuming, a POST lacking the page's header or marked cross-site", async () => {
    const link = await issue();
    const bare = await handle({ method: "POST", path: link.path, headers: {} });
    expect(bare.status).toBe(403);
    const crossSite = await post(link.path, {
      [REVEAL_HEADER]: REVEAL_HEADER_VALUE,
      "sec-fetch-site": "cross-site",
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await post(link.path, {
      [REVEAL_HEADER]: REVEAL_HEADER_VALUE,
      "sec-fetch-site": "same-site",
    });
    expect(sameSite.status).toBe(403);
    const wrongValue = await post(link.path, { [REVEAL_HEADER]: "XMLHttpRequest" });
    expect(wrongValue.status).toBe(403);
    expect(await isStored(link.id)).toBe(true);
    expect((await post(link.path)).status).toBe(200);
  });
});

describe("unknown, malformed, expired and consumed links", () => {
  it("all get the same answer, byte for byte, for GET and for POST", async () => {
    const consumed = await issue();
    expect((await post(consumed.path)).status).toBe(200);
    const expired = await issue({ ttlSeconds: 300, now: () => new Date(Date.now() - 3600_000) });
    const paths = [
      consumed.path,
      expired.path,
      `/s/${randomLinkId()}`,
      "/s/not-a-link-id",
      "/s/",
      `/s/${"A".repeat(500)}`,
      "/s/%3Cscript%3E",
      `/s/${randomLinkId()}/extra`,
    ];
    const gets = await Promise.all(paths.map((p) => get(p)));
    const posts = await Promise.all(paths.map((p) => post(p)));
    for (const res of gets) expect(res).toEqual(gets[0]);
    for (const res of posts) expect(res).toEqual(posts[0]);
    expect(gets[0]?.status).toBe(410);
    expect(posts[0]?.status).toBe(410);
    expect(gets[0]?.body).toContain("already been opened or has expired");
    expect(gets[0]?.body).toContain("re-issue");
  });
});

describe("response headers", () => {
  const expected = {
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "x-content-type-options": "nosniff",
  };

  it("are sent on every response: page, reveal, gone, refused, not found, wrong method", async () => {
    const link = await issue();
    const responses = [
      await get(link.path),
      await handle({ method: "HEAD", path: link.path, headers: {} }),
      await post(link.path, {}),
      await post(link.path),
      await post(link.path),
      await get(link.path),
      await get("/"),
      await get("/robots.txt"),
      await handle({ method: "OPTIONS", path: link.path, headers: { origin: "https://evil.example" } }),
      await handle({ method: "PUT", path: link.path, headers: {} }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 403, 200, 410, 410, 404, 200, 405, 405]);
    for (const res of responses) {
      expect(res.headers).toMatchObject(expected);
      expect(res.headers["content-security-policy"]).toBe(SECURITY_HEADERS["content-security-policy"]);
      expect(res.headers["content-type"]).toBeTruthy();
      expect(Object.keys(res.headers).some((h) => h.startsWith("access-control-"))).toBe(false);
    }
  });

  it("has a strict CSP whose hashes allow exactly the page's inline script and style", async () => {
    const link = await issue();
    const res = await get(link.path);
    const csp = res.headers["content-security-policy"] ?? "";
    const directives = new Map(
      csp.split(";").map((d) => {
        const [name = "", ...values] = d.trim().split(/\s+/);
        return [name, values.join(" ")] as const;
      }),
    );
    expect(directives.get("default-src")).toBe("'none'");
    expect(directives.get("connect-src")).toBe("'self'");
    expect(directives.get("form-action")).toBe("'none'");
    expect(directives.get("frame-ancestors")).toBe("'none'");
    expect(directives.get("base-uri")).toBe("'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const sha = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
    const scripts = [...res.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    const styles = [...res.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? "");
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(directives.get("script-src")).toBe(sha(scripts[0] ?? ""));
    expect(directives.get("style-src")).toBe(sha(styles[0] ?? ""));
    // Nothing inline that a hash cannot cover.
    expect(res.body).not.toMatch(/\son[a-z]+=/i);
    expect(res.body).not.toMatch(/\sstyle=/i);
  });
});

describe("onConsumed", () => {
  it("DMs the requester when the link is opened (unfurling off) and records it in the audit trail", async () => {
    const link = await issue();
    expect((await post(link.path)).status).toBe(200);
    const dms = slack.callsTo("chat.postMessage");
    expect(dms).toHaveLength(1);
    expect(dms[0]?.args.channel).toBe("U0REQUESTER");
    expect(String(dms[0]?.args.text)).toMatch(/credentials link was opened at .* tell an admin/);
    expect(String(dms[0]?.args.unfurl_links)).toBe("false");
    const audit = await stores.audit.listForRequest(link.requestId);
    expect(audit.items).toEqual([
      expect.objectContaining({
        action: AUDIT_ACTION_CONSUMED,
        subjectUserId: "U0REQUESTER",
        actor: { kind: "system", id: "secret-link" },
      }),
    ]);
    expect(JSON.stringify(audit.items)).not.toContain(link.key);
  });

  it("does not DM when a GET or a losing POST happens", async () => {
    const link = await issue();
    await get(link.path);
    await Promise.all([post(link.path), post(link.path), post(link.path)]);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
  });

  it("still reveals when Slack fails, and still audits", async () => {
    const link = await issue();
    slack.failNext("chat.postMessage", "channel_not_found");
    const res = await post(link.path);
    expect(res.status).toBe(200);
    const audit = await stores.audit.listForRequest(link.requestId);
    expect(audit.items.map((e) => e.action)).toEqual([AUDIT_ACTION_CONSUMED]);
  });
});

describe("store outage", () => {
  it("answers 503 without detail and consumes nothing it did not return", async () => {
    const broken = createSecretLinkHandler({
      secrets: {
        isAvailable: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:1 table cytoskel");
        },
        consume: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:1 table cytoskel");
        },
      },
    });
    const id = randomLinkId();
    for (const res of [
      await broken({ method: "GET", path: `/s/${id}`, headers: {} }),
      await broken({
        method: "POST",
        path: `/s/${id}`,
        headers: { [REVEAL_HEADER]: REVEAL_HEADER_VALUE },
      }),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body).not.toContain("ECONNREFUSED");
      expect(res.headers["cache-control"]).toBe("no-store");
    }
  });
});
