// The secret-link page in a real headless Chromium (Debian `chromium`, driven by playwright-core),
// served by node:http on 127.0.0.1 from the real handler and SecretStore (DynamoDB Local). Screenshots of
// each state go to test-artifacts/secret-link/ (gitignored).
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { webApi } from "@slack/bolt";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { randomLinkId } from "../../src/secret-link/crypto.ts";
import { createSecretLinkHandler } from "../../src/secret-link/handler.ts";
import { type CredentialsPayload, issueSecretLink } from "../../src/secret-link/issue.ts";
import { type RunningSecretLinkServer, startSecretLinkServer } from "../../src/secret-link/node-server.ts";
import { createConsumedNotifier } from "../../src/secret-link/notify.ts";
import { createStores, type Stores } from "../../src/store/index.ts";
import { registerSecret } from "../support/secrets-scan.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium)`;
if (chromiumMissing) console.warn(`SKIPPING secret-link browser tests: ${chromiumMissing}`);

const ARTIFACTS = join(process.cwd(), "test-artifacts", "secret-link");

// Keep Chromium from talking to anything but the server under test.
const OFFLINE_ARGS = [
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-default-apps",
  "--disable-sync",
  "--disable-extensions",
  "--metrics-recording-only",
  "--disable-breakpad",
  "--disable-domain-reliability",
  "--disable-client-side-phishing-detection",
  "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,AutofillServerCommunication",
  "--no-pings",
  "--no-proxy-server",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

const payload: CredentialsPayload = {
  accessKeyId: "AKIAEXAMPLEBROWSER01",
  secretAccessKey: "bRoWsEr/SeCrEt+KeY/0123456789abcdefGHIJ",
  bucket: "staging-cellpainting-gallery",
  region: "us-east-1",
  scopes: ["cpg0042/*"],
  permission: "READWRITE",
  instructions: "Upload under s3://staging-cellpainting-gallery/cpg0042/ only.",
};
// The page shows it; nothing else may (the run's secrets scan).
registerSecret("secret access key", payload.secretAccessKey);

describe.skipIf(chromiumMissing !== undefined)("secret-link page in headless Chromium", () => {
  let dynamo: LocalDynamo;
  let stores: Stores;
  let slack: FakeSlack;
  let server: RunningSecretLinkServer;
  let browser: Browser;
  /** Requests a page tried to send anywhere but 127.0.0.1. */
  const offHost: string[] = [];
  /** CSP violations and page errors seen in any page. */
  const pageProblems: string[] = [];
  let counter = 0;

  async function issue() {
    counter += 1;
    const link = await issueSecretLink({
      secrets: stores.secrets,
      baseUrl: server.url,
      payload,
      requestId: `browser-req-${counter}`,
      requesterUserId: "U0BROWSER",
    });
    return { ...link, key: new URL(link.url).hash.slice(1) };
  }

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      offHost.push(url.origin);
      return route.abort("blockedbyclient");
    });
    context.on("page", watch);
    return context;
  }

  function watch(page: Page): void {
    page.on("console", (msg) => {
      if (/Content Security Policy|Trusted Type/i.test(msg.text())) pageProblems.push(msg.text());
    });
    page.on("pageerror", (err) => pageProblems.push(`${err.name}: ${err.message}`));
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  async function stillStored(id: string): Promise<boolean> {
    return stores.secrets.isAvailable(id, Math.floor(Date.now() / 1000));
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dynamo = await startDynamo();
    stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
    slack = await startFakeSlack();
    const slackClient = new webApi.WebClient("xoxb-test-token", {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    server = await startSecretLinkServer(
      createSecretLinkHandler({
        secrets: stores.secrets,
        onConsumed: createConsumedNotifier({ slack: slackClient, audit: stores.audit }),
      }),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await slack?.stop();
    await dynamo?.stop();
    // Checked here so every test's pages count.
    expect(offHost).toEqual([]);
    expect(pageProblems).toEqual([]);
  });

  it("loading consumes nothing; Reveal decrypts in the page; a reload shows the consumed message", async () => {
    const link = await issue();
    const context = await newContext();
    const page = await context.newPage();

    const first = await page.goto(link.url);
    expect(first?.status()).toBe(200);
    expect(first?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await expect(page.getByRole("button", { name: "Reveal credentials" }).isEnabled()).resolves.toBe(true);
    await expect(page.locator("h1").first().textContent()).resolves.toContain("access credentials");
    expect(await stillStored(link.id)).toBe(true);
    await shot(page, "1-before-reveal");

    await page.getByRole("button", { name: "Reveal credentials" }).click();
    const secret = page.locator('[data-field="secretAccessKey"]');
    await secret.waitFor();
    const field = (name: string) => page.locator(`[data-field="${name}"]`).textContent();
    expect(await secret.textContent()).toBe(payload.secretAccessKey);
    expect(await field("accessKeyId")).toBe(payload.accessKeyId);
    expect(await field("bucket")).toBe(payload.bucket);
    expect(await field("region")).toBe(payload.region);
    expect(await field("scopes")).toBe("cpg0042/*");
    expect(await field("credentials-file")).toBe(
      `[cytoskel]\naws_access_key_id = ${payload.accessKeyId}\naws_secret_access_key = ${payload.secretAccessKey}\n`,
    );
    expect(await field("config-file")).toBe(
      "[profile cpg0042]\nregion = us-east-1\ncredential_process = env AWS_PROFILE=cytoskel cytoskel credentials " +
        "--prefix cpg0042/* --permission READWRITE --format credential-process\n",
    );
    await expect(page.getByText("will not be shown again").isVisible()).resolves.toBe(true);
    // The credential_process snippet says what the cache does (src/cli/credential-cache.ts: 1 h default).
    await expect(page.getByText("1 hour each by default").isVisible()).resolves.toBe(true);
    // The copy buttons put the exact value on the clipboard.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    const secretCopy = page.locator("dd", { has: secret }).locator("xpath=following-sibling::dd[1]//button");
    await secretCopy.click();
    // The label changes once the (asynchronous) clipboard write has finished, and back to "Copy" 2 s
    // later: wait for it inside the page (polled every frame), so a slow round trip from here can
    // neither read it too early nor miss the window.
    const button = await secretCopy.elementHandle();
    await page.waitForFunction((b) => b?.textContent === "Copied", button, { timeout: 10_000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(payload.secretAccessKey);
    await expect(page.getByText(payload.instructions ?? "").isVisible()).resolves.toBe(true);
    // The key left the address bar once it had done its job.
    expect(page.url()).toBe(`${server.url}/s/${link.id}`);
    expect(await stillStored(link.id)).toBe(false);
    await shot(page, "2-revealed");

    const again = await page.reload();
    expect(again?.status()).toBe(410);
    await expect(page.locator("h1").textContent()).resolves.toBe(
      "This link has already been opened or has expired",
    );
    await expect(page.getByText("re-issue").first().isVisible()).resolves.toBe(true);
    expect(await page.content()).not.toContain(payload.secretAccessKey);
    await shot(page, "3-reloaded-consumed");

    // The requester heard about it.
    expect(slack.callsTo("chat.postMessage").filter((c) => c.args.channel === "U0BROWSER")).toHaveLength(1);
    await context.close();
  });

  it("two browsers racing on one link: exactly one gets the credentials, the other the consumed message", async () => {
    const link = await issue();
    const contexts = await Promise.all([newContext(), newContext()]);
    const pages = await Promise.all(contexts.map((c) => c.newPage()));
    await Promise.all(pages.map((p) => p.goto(link.url)));
    expect(await stillStored(link.id)).toBe(true);
    await Promise.all(pages.map((p) => p.getByRole("button", { name: "Reveal credentials" }).click()));

    const outcome = async (page: Page) =>
      Promise.race([
        page
          .locator('[data-field="secretAccessKey"]')
          .waitFor()
          .then(() => "revealed" as const),
        page
          .locator("#gone")
          .waitFor()
          .then(() => "gone" as const),
      ]);
    const outcomes = await Promise.all(pages.map(outcome));
    expect([...outcomes].sort()).toEqual(["gone", "revealed"]);
    const winner = pages[outcomes.indexOf("revealed")] as Page;
    const loser = pages[outcomes.indexOf("gone")] as Page;
    expect(await winner.locator('[data-field="secretAccessKey"]').textContent()).toBe(
      payload.secretAccessKey,
    );
    expect(await loser.content()).not.toContain(payload.secretAccessKey);
    await expect(loser.locator("#gone h1").textContent()).resolves.toContain("already been opened");
    await shot(winner, "4-race-winner");
    await shot(loser, "5-race-loser");
    await Promise.all(contexts.map((c) => c.close()));
  });

  it("a link without its key, or with a damaged key, explains itself and consumes nothing", async () => {
    const link = await issue();
    const context = await newContext();
    const page = await context.newPage();
    let posts = 0;
    page.on("request", (req) => {
      if (req.method() === "POST") posts += 1;
    });

    await page.goto(`${server.url}/s/${link.id}`);
    await expect(page.getByRole("button", { name: "Reveal credentials" }).isDisabled()).resolves.toBe(true);
    await expect(page.locator("#status").textContent()).resolves.toContain("link is incomplete");
    await shot(page, "6-missing-key");

    await page.goto(`${server.url}/s/${link.id}#${link.key.slice(0, 20)}`);
    await page.reload();
    await expect(page.getByRole("button", { name: "Reveal credentials" }).isDisabled()).resolves.toBe(true);
    await expect(page.locator("#status").textContent()).resolves.toContain("missing or damaged");

    expect(posts).toBe(0);
    expect(await stillStored(link.id)).toBe(true);
    await context.close();
  });

  it("an unknown link id shows the same consumed message", async () => {
    const context = await newContext();
    const page = await context.newPage();
    const res = await page.goto(`${server.url}/s/${randomLinkId()}#${"A".repeat(43)}`);
    expect(res?.status()).toBe(410);
    await expect(page.locator("h1").textContent()).resolves.toBe(
      "This link has already been opened or has expired",
    );
    await shot(page, "7-unknown-link");
    await context.close();
  });

  it("another origin can burn nothing: neither a form post nor a fetch with the page's header", async () => {
    const link = await issue();
    const target = `${server.url}/s/${link.id}`;
    // An attacker's page on another origin (same host, other port) that tries both.
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><form id="f" method="POST" action="${target}"></form>
<script>
window.fetchResult = fetch(${JSON.stringify(target)}, { method: "POST", headers: { "X-Requested-With": "cytoskel-reveal" } })
  .then((r) => "status " + r.status, (e) => "blocked: " + e.name);
</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(origin);
      expect(
        await page.evaluate(() => (window as unknown as { fetchResult: Promise<string> }).fetchResult),
      ).toBe("blocked: TypeError");
      const [response] = await Promise.all([
        page.waitForResponse(target),
        page.evaluate(() => (document.getElementById("f") as HTMLFormElement).submit()),
      ]);
      expect(response.status()).toBe(403);
      expect(await stillStored(link.id)).toBe(true);
      await context.close();
    } finally {
      await new Promise<void>((resolve) => attacker.close(() => resolve()));
    }
  });
});
