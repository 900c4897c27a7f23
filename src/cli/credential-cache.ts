// The cache behind `cytoskel credentials --format credential-process`. The AWS CLI (and the SDKs) run a
// credential_process for every command and keep nothing, so without this each `aws` call paid for
// GetCallerIdentity + GetDataAccess. An entry is reused until REFRESH_BEFORE_EXPIRY_MS before it expires,
// with no AWS call at all (not even STS), and no AWS SDK loaded: this module uses node: built-ins only.
//
// Pure parts (key, file name, freshness, entry shape) are apart from the file I/O (FileCredentialCache);
// the clock and the directory are the caller's, so tests steer both.
//
// What is stored: the *temporary* credentials GetDataAccess returned, in a 0600 file inside a 0700
// directory owned by the user. The long-lived keys are never written (the key holds the access key ID
// only, which is not a secret), and nothing here puts a secret in an error message.

import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { configuredEndpoint } from "../aws/endpoints.ts";

/**
 * Entries are handed out only while they have more than this left. Not "5 minutes" on purpose: botocore
 * (the AWS CLI, boto3) refreshes credentials 15 minutes before they expire (and insists 10 minutes
 * before), so a process that answered with 6 minutes left would be asked again at once and, answering the
 * same, make the AWS CLI fail with "refreshed credentials are still expired". The JS SDK refreshes 5
 * minutes before. With the 1 h default an entry serves 45 minutes.
 */
export const REFRESH_BEFORE_EXPIRY_MS = 15 * 60_000;

/** Slack for "not longer than asked" (GetDataAccess's Expiration is rounded; clocks differ a little). */
const DURATION_SLACK_MS = 60_000;

const ENTRY_VERSION = 1;

/**
 * What an entry is for. Two requests share an entry only if all of these are equal:
 * - `identity`: whose long-lived keys ask (see callerIdentity) — two people or two profiles on one
 *   machine never share credentials;
 * - `accountId`: the account asked for (--account-id), or "" for "that of the keys" (which the
 *   identity already fixes), so a fresh entry needs no GetCallerIdentity;
 * - `region` and `endpoint`: which Access Grants instance answers (a different --region or
 *   AWS_ENDPOINT_URL_S3_CONTROL is a different instance, with different grants);
 * - `targetName`, `s3Target`, `permission`: the item's "(account, target, permission)" — the S3 target
 *   is the full prefix asked for, so cpg0042/ and cpg0042/sub/ are two entries;
 * - `durationSeconds`: a profile asking for 12 h gets 12 h credentials, one asking for 1 h never gets
 *   them (isFresh checks that too, whatever the file says).
 */
export interface CacheKey {
  identity: string;
  accountId: string;
  region: string;
  endpoint: string;
  targetName: string;
  s3Target: string;
  permission: string;
  durationSeconds: number;
}

export interface CachedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601, as GetDataAccess said. */
  expiration: string;
  matchedGrantTarget: string;
}

interface CacheEntry extends CachedCredentials {
  version: typeof ENTRY_VERSION;
  key: CacheKey;
}

const KEY_FIELDS = [
  "identity",
  "accountId",
  "region",
  "endpoint",
  "targetName",
  "s3Target",
  "permission",
  "durationSeconds",
] as const;

/** File name of an entry: a hash, so the prefix, profile or key ID do not show in a directory listing. */
export function entryFileName(key: CacheKey): string {
  const canonical = JSON.stringify(KEY_FIELDS.map((f) => key[f]));
  return `${createHash("sha256").update(canonical).digest("hex").slice(0, 40)}.json`;
}

/**
 * Usable now: more than REFRESH_BEFORE_EXPIRY_MS left, and not valid for longer than this request asked
 * (`--duration 15m` never gets a 12 h entry, which would outlive a revoke by more than asked).
 */
export function isFresh(expiration: string, nowMs: number, durationSeconds: number): boolean {
  const expires = Date.parse(expiration);
  if (!Number.isFinite(expires)) return false;
  return (
    expires - nowMs > REFRESH_BEFORE_EXPIRY_MS &&
    expires - nowMs <= durationSeconds * 1000 + DURATION_SLACK_MS
  );
}

/** The entry in `text` for `key`, or undefined when it is not one (corrupt, another version or key). */
export function parseEntry(text: string, key: CacheKey): CachedCredentials | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const e = doc as Partial<CacheEntry>;
  if (e.version !== ENTRY_VERSION || typeof e.key !== "object" || e.key === null) return undefined;
  const stored = e.key as Partial<CacheKey>;
  if (!KEY_FIELDS.every((f) => stored[f] === key[f])) return undefined;
  const fields = [
    "accessKeyId",
    "secretAccessKey",
    "sessionToken",
    "expiration",
    "matchedGrantTarget",
  ] as const;
  if (!fields.every((f) => typeof e[f] === "string" && e[f] !== "")) return undefined;
  if (!Number.isFinite(Date.parse(e.expiration as string))) return undefined;
  return {
    accessKeyId: e.accessKeyId as string,
    secretAccessKey: e.secretAccessKey as string,
    sessionToken: e.sessionToken as string,
    expiration: e.expiration as string,
    matchedGrantTarget: e.matchedGrantTarget as string,
  };
}

export function formatEntry(key: CacheKey, credentials: CachedCredentials): string {
  const entry: CacheEntry = { version: ENTRY_VERSION, key, ...credentials };
  return `${JSON.stringify(entry)}\n`;
}

/** `$XDG_CACHE_HOME/cytoskel` (an absolute XDG_CACHE_HOME only, as the XDG spec says), else `~/.cache/cytoskel`. */
export function cacheDirFromEnv(
  env: Record<string, string | undefined>,
  home: () => string = homedir,
): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "cytoskel");
  return join(env.HOME || home(), ".cache", "cytoskel");
}

/**
 * Whose keys these are, without loading the SDK or calling AWS. The SDK's own order decides which keys
 * sign (src/aws/clients.ts passes the profile on): a profile named by --profile or AWS_PROFILE wins over
 * AWS_ACCESS_KEY_ID in the environment; without either, the default profile. So the identity is
 * - `key:<access key ID>` for keys in the environment (no profile named);
 * - `profile:<name>` plus the access key ID that profile holds in the shared credentials/config files
 *   (when it holds static keys), plus the files' paths when AWS_SHARED_CREDENTIALS_FILE/AWS_CONFIG_FILE
 *   point elsewhere.
 * The key ID is in it so that a profile whose keys were replaced (another person's, a re-issued key)
 * does not get the old keys' credentials; the profile name so that two profiles never share an entry
 * even when one holds no static keys (SSO, a role). The secret key is never read.
 */
export function callerIdentity(
  env: Record<string, string | undefined>,
  profileFlag: string | undefined,
  home: () => string = homedir,
): string {
  const profile = profileFlag || env.AWS_PROFILE || undefined;
  if (!profile && env.AWS_ACCESS_KEY_ID) return `key:${env.AWS_ACCESS_KEY_ID}`;
  const name = profile ?? "default";
  const base = join(env.HOME || home(), ".aws");
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE || join(base, "credentials");
  const configFile = env.AWS_CONFIG_FILE || join(base, "config");
  const keyId =
    iniValue(readOrEmpty(credentialsFile), name, "aws_access_key_id") ??
    iniValue(
      readOrEmpty(configFile),
      name === "default" ? "default" : `profile ${name}`,
      "aws_access_key_id",
    ) ??
    "";
  const files =
    env.AWS_SHARED_CREDENTIALS_FILE || env.AWS_CONFIG_FILE ? `@${credentialsFile}|${configFile}` : "";
  return `profile:${name}/key:${keyId}${files}`;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** `name = value` in section `[section]` of an INI text (the shared AWS files' simple form). */
export function iniValue(text: string, section: string, name: string): string | undefined {
  let current: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      current = header[1]?.replace(/\s+/g, " ");
      continue;
    }
    if (current !== section) continue;
    const m = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (m && m[1]?.toLowerCase() === name) return m[2]?.trim() || undefined;
  }
  return undefined;
}

/** The S3 Control endpoint the SDK will call, for the key ("" for AWS's own). */
export function s3ControlEndpoint(env: Record<string, string | undefined>): string {
  return configuredEndpoint("s3control", env) ?? "";
}

/** Why the cache was not used; the CLI says so on stderr (one line, no secret) and goes on without it. */
export class CacheUnusableError extends Error {
  override readonly name = "CacheUnusableError";
}

export interface CredentialCache {
  /** The usable entry for `key`, or undefined (missing, corrupt, stale, longer than asked). */
  read(key: CacheKey): CachedCredentials | undefined;
  write(key: CacheKey, credentials: CachedCredentials): void;
  remove(key: CacheKey): void;
}

export interface FileCacheOptions {
  dir: string;
  /** Milliseconds since the epoch. */
  now: () => number;
}

const currentUid = (): number | undefined =>
  typeof process.getuid === "function" ? process.getuid() : undefined;

/**
 * The cache as files: one `<hash>.json` per key in `dir`, 0600, written to a temp file in the same
 * directory and renamed over the entry (a reader sees the old entry or the new one, never half).
 *
 * The directory: created 0700 (parents too, when missing). An existing one is used only when it is a
 * real directory (not a symlink) owned by this user; wider permissions on our own directory are repaired
 * to 0700. One owned by someone else, or a symlink, is refused (CacheUnusableError): nobody else can then
 * plant or read an entry. Entry files are read only when they are regular files owned by us with no
 * group/other bits; anything else counts as corrupt and is replaced.
 */
export class FileCredentialCache implements CredentialCache {
  private ready = false;
  constructor(private readonly opts: FileCacheOptions) {}

  private ensureDir(): void {
    if (this.ready) return;
    const { dir } = this.opts;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = currentUid();
    if (!st.isDirectory() || st.isSymbolicLink()) {
      throw new CacheUnusableError(`${dir} is not a directory`);
    }
    if (uid !== undefined && st.uid !== uid) {
      throw new CacheUnusableError(`${dir} belongs to another user`);
    }
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    this.ready = true;
  }

  private path(key: CacheKey): string {
    return join(this.opts.dir, entryFileName(key));
  }

  read(key: CacheKey): CachedCredentials | undefined {
    this.ensureDir();
    const file = this.path(key);
    let text: string;
    try {
      const st = lstatSync(file);
      const uid = currentUid();
      if (!st.isFile() || (st.mode & 0o077) !== 0 || (uid !== undefined && st.uid !== uid)) return undefined;
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    const entry = parseEntry(text, key);
    if (!entry || !isFresh(entry.expiration, this.opts.now(), key.durationSeconds)) return undefined;
    return entry;
  }

  write(key: CacheKey, credentials: CachedCredentials): void {
    this.ensureDir();
    const file = this.path(key);
    const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    // "wx": never follow or reuse something already there; 0600 from the first byte.
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, formatEntry(key, credentials));
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, file);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  remove(key: CacheKey): void {
    this.ensureDir();
    rmSync(this.path(key), { force: true });
  }
}
