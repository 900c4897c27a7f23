// Turns what a person types into a bucket-relative prefix ("cpg0042/*"), or says exactly why not; with
// the bucket it is a GrantScope (grant-scope.ts), which re-expresses it relative to a location.
// Pure: no I/O. Used by the admin CLI, the contributors' `credentials` command and the Slack bot.

import { TARGETS } from "../config/targets.ts";

/** Longest prefix accepted; well under S3's 1024-byte key limit so object keys below it still fit. */
export const MAX_PREFIX_LENGTH = 512;

/** S3's "safe" key characters (besides "/" and a final "*"); anything else needs escaping somewhere. */
const SAFE_CHAR = /[A-Za-z0-9!_.\-'()]/;
const ALLOWED_CHARS_TEXT = "letters, digits, / and ! - _ . ' ( )";
const EXAMPLE = "cpg0042/*";

export type PrefixResult = { ok: true; subPrefix: string } | { ok: false; reason: string };

export interface PrefixOptions {
  /** Accept the whole bucket ("*"). Off by default: granting everything must be asked for. */
  allowRoot?: boolean;
  /** Bucket that an "s3://…" input must name; defaults to the staging bucket. */
  bucket?: string;
}

export class InvalidPrefixError extends Error {
  override readonly name = "InvalidPrefixError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`refused prefix "${input}": ${reason}`);
  }
}

const refuse = (reason: string): PrefixResult => ({ ok: false, reason });

/**
 * `cpg0042`, `cpg0042/`, `cpg0042/*` and `s3://<bucket>/cpg0042/` all become `cpg0042/*`.
 * Refused: empty, too long, leading "/", another bucket, "." / ".." / empty segments, characters
 * outside S3's safe set, a "*" anywhere but a final "/*", and the whole bucket unless allowRoot.
 */
export function parsePrefix(input: string, opts: PrefixOptions = {}): PrefixResult {
  const bucket = opts.bucket ?? TARGETS.cpgstaging.bucket;
  let text = input.trim();
  if (text === "") return refuse(`the prefix is empty; give one like ${EXAMPLE}`);
  if (text.length > MAX_PREFIX_LENGTH) {
    return refuse(`the prefix is ${text.length} characters long; at most ${MAX_PREFIX_LENGTH} are allowed`);
  }

  if (/^s3:\/\//i.test(text)) {
    const rest = text.slice("s3://".length);
    const slash = rest.indexOf("/");
    const named = slash === -1 ? rest : rest.slice(0, slash);
    if (named !== bucket) {
      return refuse(`it points at bucket "${named}"; only s3://${bucket}/ is allowed`);
    }
    text = slash === -1 ? "" : rest.slice(slash + 1);
    if (text === "") text = "*";
  }

  if (text.startsWith("/")) {
    return refuse(`it starts with "/"; write it relative to the bucket, like ${EXAMPLE}`);
  }

  if (text === "*") {
    return opts.allowRoot
      ? { ok: true, subPrefix: "*" }
      : refuse(`the whole bucket (*) is not allowed; name a prefix like ${EXAMPLE}`);
  }

  const star = text.indexOf("*");
  if (star !== -1 && star !== text.length - 1) {
    return refuse(`a * is only allowed at the very end, as in ${EXAMPLE}`);
  }
  if (star !== -1 && !text.endsWith("/*")) {
    // "cpg0042*" would also match "cpg00420/…" and "cpg0042-other/…".
    return refuse(`a * must follow a "/" (write ${EXAMPLE}, not cpg0042*)`);
  }

  const body = text.endsWith("/*") ? text.slice(0, -2) : text.endsWith("/") ? text.slice(0, -1) : text;
  for (const ch of body) {
    if (ch !== "/" && !SAFE_CHAR.test(ch)) {
      return refuse(`it contains ${JSON.stringify(ch)}; allowed are ${ALLOWED_CHARS_TEXT}`);
    }
  }
  for (const segment of body.split("/")) {
    if (segment === "") return refuse(`it has an empty segment ("//"); write ${EXAMPLE}`);
    if (segment === "." || segment === "..") return refuse(`it has a "${segment}" segment`);
  }
  return { ok: true, subPrefix: `${body}/*` };
}

/** Like parsePrefix, but returns the sub-prefix or throws InvalidPrefixError (message names the reason). */
export function normalizePrefix(input: string, opts: PrefixOptions = {}): string {
  const result = parsePrefix(input, opts);
  if (!result.ok) throw new InvalidPrefixError(input, result.reason);
  return result.subPrefix;
}
