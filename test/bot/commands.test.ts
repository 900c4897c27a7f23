import { describe, expect, it } from "vitest";
import { COMMANDS, helpText, parseCommand } from "../../src/bot/commands.ts";

const opts = { defaultDurationDays: 30, maxDurationDays: 90 };
const parse = (text: string) => parseCommand(text, opts);

describe("parseCommand: request", () => {
  it("normalises the prefix and defaults to readwrite for the configured default duration", () => {
    expect(parse("request prefix cpg0042")).toEqual({
      ok: true,
      command: { kind: "request", subPrefix: "cpg0042/*", permission: "READWRITE", durationDays: 30 },
    });
  });

  it("reads permission, duration and reason in either order", () => {
    const a = parse("request prefix cpg0042/* write for 14d new plates & stuff");
    const b = parse("request prefix cpg0042/* for 14 days WRITE new plates &amp; stuff");
    const want = {
      ok: true,
      command: {
        kind: "request",
        subPrefix: "cpg0042/*",
        permission: "WRITE",
        durationDays: 14,
        reason: "new plates & stuff",
      },
    };
    expect(a).toEqual(want);
    expect(b).toEqual(want);
  });

  it("treats 'for' followed by words as part of the reason", () => {
    const r = parse("request prefix cpg0042/* read for the new plates");
    expect(r).toMatchObject({
      ok: true,
      command: { permission: "READ", durationDays: 30, reason: "for the new plates" },
    });
  });

  it("accepts the prefix without the 'prefix' keyword and as an s3:// URL Slack auto-linked", () => {
    expect(parse("request cpg0042/")).toMatchObject({ ok: true, command: { subPrefix: "cpg0042/*" } });
    expect(parse("request prefix <s3://staging-cellpainting-gallery/cpg0042/>")).toMatchObject({
      ok: true,
      command: { subPrefix: "cpg0042/*" },
    });
  });

  it("bounds the duration by config", () => {
    const r = parse("request prefix cpg0042 for 91d");
    expect(r).toMatchObject({ ok: false, error: expect.stringContaining("from 1 to 90 days") });
    expect(parse("request prefix cpg0042 for 0d")).toMatchObject({ ok: false });
    expect(parse("request prefix cpg0042 for 3w")).toMatchObject({
      ok: false,
      error: expect.stringContaining("for <N>d"),
    });
  });

  it("refuses a permission word that is none of read|write|readwrite instead of filing READWRITE with it as the reason", () => {
    for (const word of ["rw", "admin", "full", "RW", "read-only", "writes", "read/write"]) {
      const r = parse(`request prefix cpg0042/* ${word} new plates`);
      expect(r).toMatchObject({ ok: false, kind: "request" });
      if (r.ok) continue;
      expect(r.error).toContain(`\`${word}\` is not a permission`);
      expect(r.error).toContain("`read`, `write` or `readwrite`");
    }
    expect(parse("request prefix cpg0042/* for 7d rw")).toMatchObject({ ok: false });
    // A reason may start with an ordinary word that begins like one.
    expect(parse("request prefix cpg0042/* reading plates for the paper")).toMatchObject({
      ok: true,
      command: { permission: "READWRITE", reason: "reading plates for the paper" },
    });
    expect(parse("request prefix cpg0042/* read write")).toMatchObject({
      ok: false,
      error: expect.stringContaining("not two"),
    });
  });

  it("refuses a negative, zero, too long or non-day duration naming the allowed range, never the default", () => {
    for (const d of ["-1d", "0d", "1000d", "3x", "+5d", "1.5d", "99999d"]) {
      const r = parse(`request prefix cpg0042/* for ${d} plates`);
      expect(r, d).toMatchObject({ ok: false, kind: "request", error: expect.stringContaining("1 to 90") });
    }
  });

  it("refuses bad prefixes with the rule's reason and the request usage", () => {
    for (const bad of ["../etc", "*", "cpg0042//x", "a*b", "s3://other-bucket/x"]) {
      const r = parse(`request prefix ${bad}`);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatch(/prefix isn't valid/);
        expect(r.usage).toContain("request prefix <prefix>");
      }
    }
    expect(parse("request")).toMatchObject({ ok: false, error: expect.stringContaining("Which prefix") });
  });

  it("refuses an over-long reason", () => {
    expect(parse(`request prefix cpg0042 ${"x".repeat(501)}`)).toMatchObject({ ok: false });
  });
});

describe("parseCommand: other commands", () => {
  it("parses status, help, pending and cancel", () => {
    expect(parse("status")).toEqual({ ok: true, command: { kind: "status" } });
    expect(parse("  HELP ")).toEqual({ ok: true, command: { kind: "help" } });
    expect(parse("pending")).toEqual({ ok: true, command: { kind: "pending" } });
    expect(parse("cancel req_01ABC")).toEqual({
      ok: true,
      command: { kind: "cancel", requestId: "req_01ABC" },
    });
    expect(parse("cancel")).toMatchObject({
      ok: false,
      usage: expect.stringContaining("cancel <request-id>"),
    });
    expect(parse("status now")).toMatchObject({ ok: false });
  });

  it("reads users from escaped mentions and plain IDs", () => {
    expect(parse("revoke <@U123ABC|alice>")).toEqual({
      ok: true,
      command: { kind: "revoke", user: { id: "U123ABC", name: "alice" } },
    });
    expect(parse("revoke <@U123ABC> cpg0042")).toEqual({
      ok: true,
      command: { kind: "revoke", user: { id: "U123ABC" }, subPrefix: "cpg0042/*" },
    });
    expect(parse("revoke W0ENTERPRISE")).toMatchObject({
      ok: true,
      command: { user: { id: "W0ENTERPRISE" } },
    });
    expect(parse("reissue <@U123ABC|alice>")).toEqual({
      ok: true,
      command: { kind: "reissue", user: { id: "U123ABC", name: "alice" } },
    });
    expect(parse("reissue <@U123ABC|alice> extra")).toMatchObject({ ok: false });
  });

  it("answers a bare @name with an explanation instead of guessing who it is", () => {
    const r = parse("revoke @alice");
    expect(r).toMatchObject({ ok: false, error: expect.stringContaining("not a mention") });
  });

  it("answers unknown and empty input with the usage", () => {
    const r = parse("grant me everything");
    expect(r).toMatchObject({ ok: false, error: expect.stringContaining("don't know `grant`") });
    if (!r.ok) expect(r.usage).toContain("request prefix");
    expect(parse("")).toMatchObject({ ok: false });
  });
});

const HELP = { defaultDurationDays: 30, maxDurationDays: 90 };

describe("helpText", () => {
  it("is generated from the command table; admin commands only for admins", () => {
    const user = helpText({ ...HELP, admin: false });
    const admin = helpText({ ...HELP, admin: true });
    for (const spec of COMMANDS) {
      const line = `\`/cytoskel ${spec.usage}\``;
      expect(admin).toContain(line);
      expect(user.includes(line)).toBe(!spec.admin);
    }
    expect(admin).toContain("Admin commands");
  });

  it("states the configured defaults and maximum, and how to extend held access", () => {
    const text = helpText({ defaultDurationDays: 14, maxDurationDays: 60, admin: false });
    expect(text).toContain("*Defaults:* READWRITE (read and write) for 14 days");
    expect(text).toContain("up to 60 days");
    expect(text).toContain("ask again for a prefix you hold");
    expect(text).toContain("files an extension request");
    expect(text).toContain("*Request extension* button");
  });

  it("links the contributor guide only when its address is configured", () => {
    const url = "https://example.org/docs/access-cpg-staging";
    expect(helpText({ ...HELP, helpUrl: url, admin: false })).toContain(
      `*Contributor guide:* <${url}|how to upload with your access>`,
    );
    expect(helpText({ ...HELP, admin: false })).not.toMatch(/Contributor guide|<https?:/);
  });

  it("follows a refusal that names no command with the non-admin help, a command's refusal with its usage", () => {
    const general = parseCommand("frobnicate", { ...HELP, helpUrl: "https://example.org/guide" });
    expect(general).toMatchObject({ ok: false, error: "I don't know `frobnicate`." });
    if (general.ok) return;
    expect(general.kind).toBeUndefined();
    expect(general.usage).toContain("*Defaults:*");
    expect(general.usage).toContain("https://example.org/guide");
    expect(general.usage).not.toContain("Admin commands");
    const specific = parseCommand("cancel", HELP);
    expect(specific).toMatchObject({
      ok: false,
      kind: "cancel",
      usage: "Usage: `/cytoskel cancel <request-id>`",
    });
  });
});

describe("parseCommand: revoke with a reason", () => {
  it("takes the word after the user as the prefix and everything after it as the reason", () => {
    expect(parse("revoke <@U123ABC> cpg0042/ left the project &amp; lab")).toEqual({
      ok: true,
      command: {
        kind: "revoke",
        user: { id: "U123ABC" },
        subPrefix: "cpg0042/*",
        reason: "left the project & lab",
      },
    });
  });

  it("revokes everything with a reason when the word after the user is `all`", () => {
    expect(parse("revoke <@U123ABC> all contract ended")).toEqual({
      ok: true,
      command: { kind: "revoke", user: { id: "U123ABC" }, reason: "contract ended" },
    });
    expect(parse("revoke <@U123ABC> ALL")).toEqual({
      ok: true,
      command: { kind: "revoke", user: { id: "U123ABC" } },
    });
  });

  it("keeps hostile reason text verbatim for the DM to escape (the parser never renders it)", () => {
    const r = parse("revoke <@U123ABC> cpg0042 &lt;!channel&gt; <https://evil.example|x>");
    expect(r).toMatchObject({ ok: true, command: { reason: "<!channel> <https://evil.example|x>" } });
  });

  it("refuses a word that is no prefix instead of guessing it starts the reason, naming `all`", () => {
    const r = parse("revoke <@U123ABC> left, the project");
    expect(r).toMatchObject({
      ok: false,
      error: expect.stringMatching(/prefix isn't valid: it contains ",".*revoke @user all <reason…>/),
      usage: expect.stringContaining("revoke @user [prefix|all] [reason…]"),
    });
  });

  it("refuses a reason over 500 characters, saying how long it was", () => {
    const r = parse(`revoke <@U123ABC> all ${"x".repeat(501)}`);
    expect(r).toMatchObject({
      ok: false,
      error: expect.stringContaining("too long (501 characters; at most 500)"),
    });
  });
});

describe("parseCommand: audit", () => {
  it("reads a person from a mention or a user ID", () => {
    expect(parse("audit <@U123ABC|alice>")).toEqual({
      ok: true,
      command: { kind: "audit", target: { kind: "user", user: { id: "U123ABC", name: "alice" } } },
    });
    expect(parse("AUDIT U123ABC")).toMatchObject({
      ok: true,
      command: { target: { kind: "user", user: { id: "U123ABC" } } },
    });
  });

  it("reads `prefix <prefix>` with the prefix rules (normalised, s3:// accepted)", () => {
    expect(parse("audit prefix cpg0042")).toEqual({
      ok: true,
      command: { kind: "audit", target: { kind: "prefix", subPrefix: "cpg0042/*" } },
    });
    expect(parse("audit prefix <s3://staging-cellpainting-gallery/cpg0042/a/>")).toMatchObject({
      ok: true,
      command: { target: { kind: "prefix", subPrefix: "cpg0042/a/*" } },
    });
  });

  it("refuses bad input with what was wrong and the audit usage", () => {
    const usage = expect.stringContaining("audit @user | audit prefix <prefix>");
    expect(parse("audit")).toMatchObject({
      ok: false,
      error: expect.stringContaining("Whose audit trail"),
      usage,
    });
    expect(parse("audit prefix")).toMatchObject({
      ok: false,
      error: expect.stringContaining("Which prefix"),
      usage,
    });
    expect(parse("audit prefix ../etc")).toMatchObject({
      ok: false,
      error: expect.stringContaining('That prefix isn\'t valid: it has a ".." segment'),
      usage,
    });
    expect(parse("audit prefix *")).toMatchObject({
      ok: false,
      error: expect.stringContaining("the whole bucket (*) is not allowed"),
    });
    expect(parse("audit @alice")).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not a mention.*audit prefix <prefix>/),
    });
    expect(parse("audit <@U123ABC> cpg0042")).toMatchObject({
      ok: false,
      error: expect.stringContaining("one person"),
    });
    expect(parse("audit prefix cpg0042 cpg0043")).toMatchObject({
      ok: false,
      error: expect.stringContaining("one prefix"),
    });
  });
});

describe("parseCommand: close prefix", () => {
  it("normalises the prefix and keeps the rest as the reason, unescaped", () => {
    expect(parse("close prefix cpg0042 published &amp; public")).toEqual({
      ok: true,
      command: { kind: "close", subPrefix: "cpg0042/*", reason: "published & public" },
    });
    expect(parse("close prefix s3://staging-cellpainting-gallery/cpg0042/a/")).toEqual({
      ok: true,
      command: { kind: "close", subPrefix: "cpg0042/a/*" },
    });
  });

  it("refuses the whole bucket, saying what is allowed", () => {
    for (const text of ["close prefix *", "close prefix s3://staging-cellpainting-gallery", "close prefix"]) {
      const r = parse(text);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toContain("Closing the whole bucket (`*`) is refused");
        expect(r.usage).toBe("Usage: `/cytoskel close prefix <prefix> [reason…]`");
      }
    }
  });

  it("requires the keyword `prefix` and a valid prefix", () => {
    const noKeyword = parse("close cpg0042");
    expect(noKeyword.ok).toBe(false);
    const bad = parse("close prefix cpg0042*");
    expect(bad.ok || bad.error).toMatch(/isn't valid/);
  });

  it("is listed only among the admin commands", () => {
    expect(helpText({ ...HELP, admin: false })).not.toContain("close prefix");
    expect(helpText({ ...HELP, admin: true })).toContain("close prefix <prefix> [reason…]");
  });
});
