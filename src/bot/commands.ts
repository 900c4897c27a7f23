/**
 * The `/cytoskel` command language: ONE table drives both the parser and the help text.
 * Pure — no I/O; prefix and permission rules come from src/rules.
 */
import type { Permission } from "../rules/permission.ts";
import { parsePrefix } from "../rules/prefix.ts";
import { isRequestId, isSlackId, USER_ID_SOURCE } from "../rules/slack-ids.ts";

export interface UserRef {
  /** Slack user ID from an escaped mention (`<@U123|name>`) — the identity. */
  id: string;
  /** Display name Slack put in the mention; for messages only, never for decisions. */
  name?: string;
}

export type Command =
  | {
      kind: "request";
      subPrefix: string;
      permission: Permission;
      durationDays: number;
      reason?: string;
    }
  | { kind: "status" }
  | { kind: "cancel"; requestId: string }
  | { kind: "help" }
  | { kind: "revoke"; user: UserRef; subPrefix?: string; reason?: string }
  | { kind: "audit"; target: AuditTarget }
  | { kind: "pending" }
  | { kind: "reissue"; user: UserRef }
  | { kind: "close"; subPrefix: string; reason?: string };

export type CommandKind = Command["kind"];

/** Whose or which scope's audit trail: a person, or every scope at or under a prefix. */
export type AuditTarget = { kind: "user"; user: UserRef } | { kind: "prefix"; subPrefix: string };

/**
 * A refusal: `usage` is the one command's usage line when `kind` names it, else the whole help as a
 * non-admin sees it (the listener swaps in the admin help for admins; parsing knows nobody).
 */
export type ParseResult =
  | { ok: true; command: Command }
  | { ok: false; error: string; usage: string; kind?: CommandKind };

export interface CommandSpec {
  kind: CommandKind;
  usage: string;
  summary: string;
  admin: boolean;
}

/** The one table: order here is the order in `help`. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    kind: "request",
    usage: "request prefix <prefix> [read|write|readwrite] [for <N>d] [reason…]",
    summary:
      "ask for access to a prefix of the staging bucket, e.g. `request prefix cpg0042/* write for 30d new plates`",
    admin: false,
  },
  { kind: "status", usage: "status", summary: "your requests and active grants", admin: false },
  {
    kind: "cancel",
    usage: "cancel <request-id>",
    summary: "withdraw one of your pending requests",
    admin: false,
  },
  { kind: "help", usage: "help", summary: "this text", admin: false },
  {
    kind: "revoke",
    usage: "revoke @user [prefix|all] [reason…]",
    summary:
      "remove a person's grants (or just the one for a prefix); keys and IAM user go when no grant is left. The reason is recorded and told to them; with a reason but no prefix, write `all`",
    admin: true,
  },
  {
    kind: "audit",
    usage: "audit @user | audit prefix <prefix>",
    summary:
      "who did what, when and why: everything about a person, or about every scope at or under a prefix; newest first, with an *Older events* button",
    admin: true,
  },
  { kind: "pending", usage: "pending", summary: "open requests waiting for a decision", admin: true },
  {
    kind: "reissue",
    usage: "reissue @user",
    summary: "replace a person's keys and send them a new one-time link (their old keys stop working)",
    admin: true,
  },
  {
    kind: "close",
    usage: "close prefix <prefix> [reason…]",
    summary:
      "close a dataset: revoke every grant at or under the prefix (`cpg0042/` covers `cpg0042/a/…`, never `cpg00421/`), tell each person, and post who had access. Never the whole bucket",
    admin: true,
  },
];

/** What the help text states besides the commands: the configured defaults and the guide. */
export interface HelpOptions {
  /** Slash command name as registered, for usage lines. */
  commandName?: string;
  defaultDurationDays: number;
  maxDurationDays: number;
  /** The contributor guide (`HELP_URL`); no link when unset. */
  helpUrl?: string;
}

export interface ParseOptions extends HelpOptions {
  /** Target bucket, so `s3://<bucket>/cpg0042/` is accepted too. */
  bucket?: string;
}

const PERMISSIONS: Record<string, Permission> = { read: "READ", write: "WRITE", readwrite: "READWRITE" };
const DEFAULT_PERMISSION: Permission = "READWRITE";
const MAX_REASON_LENGTH = 500;
const MENTION = new RegExp(`^<@(${USER_ID_SOURCE})(?:\\|([^>]*))?>$`);
/** Words in the permission slot that are clearly meant as one but are not (refused, never the reason). */
const PERMISSION_LOOKALIKES = new Set(["r", "w", "rw", "ro", "wo", "rwx", "admin", "full", "owner"]);
const ALLOWED_PERMISSIONS_TEXT = "`read`, `write` or `readwrite`";

/** The help as separate parts (the App Home shows each in its own section, under Slack's 3,000 characters). */
export function helpSections(opts: HelpOptions & { admin: boolean }): string[] {
  const cmd = opts.commandName ?? "/cytoskel";
  const line = (s: CommandSpec) => `• \`${cmd} ${s.usage}\` — ${s.summary}`;
  const user = COMMANDS.filter((s) => !s.admin).map(line);
  const sections = [
    [`*${cmd}* — access to the Cell Painting Gallery staging bucket`, ...user].join("\n"),
    [
      `*Defaults:* ${DEFAULT_PERMISSION} (read and write) for ${days(opts.defaultDurationDays)}; ` +
        `ask for \`read\` or \`write\` only, or \`for <N>d\` up to ${days(opts.maxDurationDays)}.`,
      // Kept beside the defaults: "how do I get more time" is the question the help must answer.
      `*More time or another permission:* ask again for a prefix you hold, e.g. \`${cmd} request prefix cpg0042/* for ${opts.maxDurationDays}d\`. ` +
        "That files an extension request for the admins (your access stays as it is until they decide); " +
        "the reminder before your access ends has a *Request extension* button that does the same.",
      ...(opts.helpUrl ? [`*Contributor guide:* <${opts.helpUrl}|how to upload with your access>`] : []),
    ].join("\n"),
  ];
  if (opts.admin)
    sections.push(["*Admin commands*", ...COMMANDS.filter((s) => s.admin).map(line)].join("\n"));
  return sections;
}

export function helpText(opts: HelpOptions & { admin: boolean }): string {
  return helpSections(opts).join("\n\n");
}

const days = (n: number) => `${n} day${n === 1 ? "" : "s"}`;

export function usageOf(kind: CommandKind, commandName = "/cytoskel"): string {
  const spec = COMMANDS.find((s) => s.kind === kind);
  return spec ? `Usage: \`${commandName} ${spec.usage}\`` : "";
}

/** Slack escapes &, < and > in command text; undo it for free text we store. */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function parseCommand(text: string, opts: ParseOptions): ParseResult {
  const name = opts.commandName ?? "/cytoskel";
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const [head, ...rest] = tokens;
  const fail = (error: string, kind?: CommandKind): ParseResult =>
    kind
      ? { ok: false, error, usage: usageOf(kind, name), kind }
      : { ok: false, error, usage: helpText({ ...helpOptions(opts), admin: false }) };
  if (head === undefined) return fail("Tell me what to do.");
  const verb = head.toLowerCase();
  switch (verb) {
    case "help":
    case "status":
    case "pending":
      if (rest.length > 0) return fail(`\`${verb}\` takes no arguments.`, verb);
      return { ok: true, command: { kind: verb } };
    case "cancel": {
      const [id, ...extra] = rest;
      if (id === undefined || extra.length > 0 || !isRequestId(id)) {
        return fail(
          id === undefined ? "Which request? Give its ID." : `\`${id}\` is not a request ID.`,
          "cancel",
        );
      }
      return { ok: true, command: { kind: "cancel", requestId: id } };
    }
    case "request":
      return parseRequest(rest, opts, fail);
    case "revoke":
      return parseRevoke(rest, opts, fail);
    case "audit":
      return parseAudit(rest, opts, fail);
    case "close":
      return parseClose(rest, opts, fail);
    case "reissue": {
      const [who, ...extra] = rest;
      const user = parseUser(who);
      if (!user.ok) return fail(user.error, "reissue");
      if (extra.length > 0) return fail("`reissue` takes just the user.", "reissue");
      return { ok: true, command: { kind: "reissue", user: user.user } };
    }
    default:
      return fail(`I don't know \`${head.slice(0, 40)}\`.`);
  }
}

function parseRequest(
  tokens: string[],
  opts: ParseOptions,
  fail: (error: string, kind?: CommandKind) => ParseResult,
): ParseResult {
  const rest = [...tokens];
  // "prefix" is the documented keyword; `request cpg0042/*` is accepted too since nothing else could be meant.
  if (rest[0]?.toLowerCase() === "prefix") rest.shift();
  const rawPrefix = rest.shift();
  if (rawPrefix === undefined) return fail("Which prefix? e.g. `cpg0042/*`.", "request");
  const prefix = parsePrefix(unwrapLink(rawPrefix), prefixOptions(opts));
  if (!prefix.ok) return fail(`That prefix isn't valid: ${prefix.reason}`, "request");

  let permission: Permission | undefined;
  let durationDays: number | undefined;
  // Permission and duration may come in either order, each at most once, before the reason. The word
  // in that slot is a permission when it is one; when it only looks like one (`rw`, `admin`,
  // `read-only`…) it is refused rather than read as the reason's first word (which would file the
  // default, READWRITE). Likewise `for` before something number-like is a duration or a refusal.
  for (;;) {
    const word = rest[0]?.toLowerCase() ?? "";
    if (Object.hasOwn(PERMISSIONS, word) || looksLikePermission(word)) {
      if (!Object.hasOwn(PERMISSIONS, word))
        return fail(
          `\`${rest[0]?.slice(0, 40)}\` is not a permission; write ${ALLOWED_PERMISSIONS_TEXT} right after the prefix (the reason comes last).`,
          "request",
        );
      if (permission !== undefined)
        return fail(`Give one permission (${ALLOWED_PERMISSIONS_TEXT}), not two.`, "request");
      permission = PERMISSIONS[word];
      rest.shift();
      continue;
    }
    if (word === "for" && /^[-+.]?\d/.test(rest[1] ?? "")) {
      if (durationDays !== undefined) return fail("Give one duration (`for <N>d`), not two.", "request");
      const d = parseDuration(rest, opts);
      if (!d.ok) return fail(d.error, "request");
      durationDays = d.days;
      continue;
    }
    break; // anything else starts the reason ("for the new plates" included)
  }
  const reason = unescapeSlack(rest.join(" ")).trim();
  if (reason.length > MAX_REASON_LENGTH) {
    return fail(
      `The reason is too long (${reason.length} characters; at most ${MAX_REASON_LENGTH}).`,
      "request",
    );
  }
  const command: Command = {
    kind: "request",
    subPrefix: prefix.subPrefix,
    permission: permission ?? DEFAULT_PERMISSION,
    durationDays: durationDays ?? opts.defaultDurationDays,
  };
  if (reason) command.reason = reason;
  return { ok: true, command };
}

/**
 * `revoke @user [prefix|all] [reason…]`. The word after the user is the prefix (by the prefix rules),
 * or `all` for every grant; everything after it is the reason. A revoke is destructive, so a word that
 * is not a valid prefix is refused, never guessed to be the reason's first word.
 */
function parseRevoke(
  tokens: string[],
  opts: ParseOptions,
  fail: (error: string, kind?: CommandKind) => ParseResult,
): ParseResult {
  const [who, scope, ...words] = tokens;
  const user = parseUser(who);
  if (!user.ok) return fail(user.error, "revoke");
  if (scope === undefined) return { ok: true, command: { kind: "revoke", user: user.user } };
  const reason = parseReason(words);
  if (!reason.ok) return fail(reason.error, "revoke");
  const command: Extract<Command, { kind: "revoke" }> = { kind: "revoke", user: user.user };
  if (scope.toLowerCase() !== "all") {
    const p = parsePrefix(unwrapLink(scope), prefixOptions(opts));
    if (!p.ok)
      return fail(
        `That prefix isn't valid: ${p.reason}. To revoke all of their access with a reason, write \`revoke @user all <reason…>\`.`,
        "revoke",
      );
    command.subPrefix = p.subPrefix;
  }
  if (reason.text) command.reason = reason.text;
  return { ok: true, command };
}

/** What `close` says to the whole bucket: it would close everything. */
export const CLOSE_WHOLE_BUCKET_REFUSAL =
  "Closing the whole bucket (`*`) is refused: it would close every dataset at once. Name one dataset's prefix, e.g. `close prefix cpg0042/`; everything at or under it is closed.";

/**
 * `close prefix <prefix> [reason…]`: the word after `prefix` is the prefix (never the bucket root),
 * the rest is the reason. Destructive, so the keyword `prefix` is required and a bad prefix is refused.
 */
function parseClose(
  tokens: string[],
  opts: ParseOptions,
  fail: (error: string, kind?: CommandKind) => ParseResult,
): ParseResult {
  const [keyword, raw, ...words] = tokens;
  if (keyword?.toLowerCase() !== "prefix")
    return fail("Write `close prefix <prefix>`, e.g. `close prefix cpg0042/`.", "close");
  if (raw === undefined) return fail(`Which prefix? ${CLOSE_WHOLE_BUCKET_REFUSAL}`, "close");
  const p = parsePrefix(unwrapLink(raw), { ...prefixOptions(opts), allowRoot: true });
  if (!p.ok) return fail(`That prefix isn't valid: ${p.reason}`, "close");
  if (p.subPrefix === "*") return fail(CLOSE_WHOLE_BUCKET_REFUSAL, "close");
  const reason = parseReason(words);
  if (!reason.ok) return fail(reason.error, "close");
  return {
    ok: true,
    command: { kind: "close", subPrefix: p.subPrefix, ...(reason.text ? { reason: reason.text } : {}) },
  };
}

/** `audit @user` or `audit prefix <prefix>` (any prefix below the bucket root). */
function parseAudit(
  tokens: string[],
  opts: ParseOptions,
  fail: (error: string, kind?: CommandKind) => ParseResult,
): ParseResult {
  const [first, second, ...extra] = tokens;
  if (first?.toLowerCase() === "prefix") {
    if (second === undefined) return fail("Which prefix? e.g. `audit prefix cpg0042/`.", "audit");
    if (extra.length > 0) return fail("`audit prefix` takes one prefix.", "audit");
    const p = parsePrefix(unwrapLink(second), prefixOptions(opts));
    if (!p.ok) return fail(`That prefix isn't valid: ${p.reason}`, "audit");
    return { ok: true, command: { kind: "audit", target: { kind: "prefix", subPrefix: p.subPrefix } } };
  }
  if (first === undefined)
    return fail("Whose audit trail? Mention a person or write `prefix <prefix>`.", "audit");
  const user = parseUser(first);
  if (!user.ok) return fail(`${user.error} For a prefix, write \`audit prefix <prefix>\`.`, "audit");
  if (second !== undefined) return fail("`audit` takes one person (or `prefix <prefix>`).", "audit");
  return { ok: true, command: { kind: "audit", target: { kind: "user", user: user.user } } };
}

/** Free text as the person meant it (Slack's escaping undone), bounded. */
function parseReason(words: string[]): { ok: true; text: string } | { ok: false; error: string } {
  const text = unescapeSlack(words.join(" ")).trim();
  if (text.length > MAX_REASON_LENGTH)
    return {
      ok: false,
      error: `The reason is too long (${text.length} characters; at most ${MAX_REASON_LENGTH}).`,
    };
  return { ok: true, text };
}

/** Consumes `for 30d` / `for 30 d` / `for 30 days` from the front of `rest`. */
function parseDuration(
  rest: string[],
  opts: ParseOptions,
): { ok: true; days: number } | { ok: false; error: string } {
  const compact = /^(\d{1,4})(d|days?)$/i.exec(rest[1] ?? "");
  let days: number;
  if (compact) {
    days = Number(compact[1]);
    rest.splice(0, 2);
  } else if (/^\d{1,4}$/.test(rest[1] ?? "") && /^(d|days?)$/i.test(rest[2] ?? "")) {
    days = Number(rest[1]);
    rest.splice(0, 3);
  } else {
    return {
      ok: false,
      error: `\`for ${(rest[1] ?? "").slice(0, 20)}\` is not a duration; write whole days as \`for <N>d\`, N from 1 to ${opts.maxDurationDays}, e.g. \`for 30d\`.`,
    };
  }
  if (days < 1 || days > opts.maxDurationDays) {
    return {
      ok: false,
      error: `The duration must be from 1 to ${opts.maxDurationDays} days (got ${days}); write \`for <N>d\`.`,
    };
  }
  return { ok: true, days };
}

function parseUser(token: string | undefined): { ok: true; user: UserRef } | { ok: false; error: string } {
  if (token === undefined) return { ok: false, error: "Which user? Mention them, e.g. `@alice`." };
  const m = MENTION.exec(token);
  if (m?.[1]) return { ok: true, user: m[2] ? { id: m[1], name: m[2] } : { id: m[1] } };
  if (isSlackId("user", token)) return { ok: true, user: { id: token } };
  if (token.startsWith("@")) {
    return {
      ok: false,
      error: `I got the plain text \`${token.slice(0, 40)}\`, not a mention, so I can't tell who that is. Type @ and pick the person from Slack's list (or give their user ID, e.g. U012AB3CD).`,
    };
  }
  return { ok: false, error: `\`${token.slice(0, 40)}\` is not a user. Mention them, e.g. \`@alice\`.` };
}

/** `rw`, `admin`, `read-only`, `Writes`…: meant as a permission, but none of the three words. */
function looksLikePermission(word: string): boolean {
  const bare = word.replace(/[-_/+&.,:]/g, "");
  // read-write, read/write, readonly, writes…: meant as a permission. Not every word starting with
  // "read" (a reason may begin "reading plates…").
  return PERMISSION_LOOKALIKES.has(bare) || /^(read|write)(only|write|read|andwrite|s)?$/.test(bare);
}

/** Slack may auto-link URL-ish text as `<url>` or `<url|label>`; take the URL part. */
function unwrapLink(token: string): string {
  const m = /^<([^|>]+)(?:\|[^>]*)?>$/.exec(token);
  return unescapeSlack(m?.[1] ?? token);
}

/** The help's part of the parse options (`bucket` is the parser's alone). */
export function helpOptions(opts: HelpOptions): HelpOptions {
  const { commandName, defaultDurationDays, maxDurationDays, helpUrl } = opts;
  return {
    ...(commandName ? { commandName } : {}),
    defaultDurationDays,
    maxDurationDays,
    ...(helpUrl ? { helpUrl } : {}),
  };
}

function prefixOptions(opts: ParseOptions): { bucket?: string } {
  return opts.bucket ? { bucket: opts.bucket } : {};
}
