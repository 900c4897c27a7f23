// Checks for what operators and contributors type, done before any AWS call so bad input changes nothing.
// Each failure is a UsageError (exit 2) naming what was wrong and what is allowed.

import { UsageError } from "./errors.ts";

/** IAM's own rule for user names. */
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const USER_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):user\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
/** Access Grants IDs (grants and locations) are short tokens of letters, digits and "-". */
const ACCESS_GRANTS_ID = /^[A-Za-z0-9-]{1,64}$/;

export function parseUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new UsageError(
      `invalid user name "${name}"; allowed: 1-64 letters, digits and + = , . @ _ - (e.g. test_user)`,
    );
  }
  return name;
}

export interface UserArn {
  arn: string;
  accountId: string;
  /** "/cytoskel/" style path ("/" when none). */
  path: string;
  userName: string;
}

export function parseUserArn(arn: string): UserArn {
  const m = USER_ARN.exec(arn);
  if (!m) {
    throw new UsageError(
      `malformed user ARN "${arn}"; expected arn:aws:iam::<12-digit account>:user/<name> ` +
        `(see "cytoskel cpgstaging list user")`,
    );
  }
  return { arn, accountId: m[1] as string, path: `/${m[2] ?? ""}`, userName: m[3] as string };
}

export function parseGrantId(id: string): string {
  if (!ACCESS_GRANTS_ID.test(id)) {
    throw new UsageError(
      `malformed grant ID "${id}"; allowed: letters, digits and "-" (see "cytoskel cpgstaging list grant")`,
    );
  }
  return id;
}

export function parseLocationId(id: string): string {
  if (!ACCESS_GRANTS_ID.test(id)) {
    throw new UsageError(
      `malformed location ID "${id}"; allowed: letters, digits and "-" (see "cytoskel cpgstaging list location")`,
    );
  }
  return id;
}

const MIN_SECONDS = 900;
const MAX_SECONDS = 43_200;
const UNIT_SECONDS = { h: 3600, m: 60, s: 1 } as const;

/** "12h", "90m", "3600s" or "3600" -> seconds, within GetDataAccess's 900..43200. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([hms]?)$/.exec(text.trim().toLowerCase());
  if (!m) {
    throw new UsageError(
      `invalid --duration "${text}"; write it like 12h, 90m or 3600s (${MIN_SECONDS}-${MAX_SECONDS} seconds)`,
    );
  }
  const unit = (m[2] || "s") as keyof typeof UNIT_SECONDS;
  const seconds = Number(m[1]) * UNIT_SECONDS[unit];
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw new UsageError(
      `invalid --duration "${text}" (${seconds} seconds); allowed: ${MIN_SECONDS}-${MAX_SECONDS} seconds (15m to 12h)`,
    );
  }
  return seconds;
}

export const CREDENTIAL_FORMATS = ["env", "json", "credential-process"] as const;
export type CredentialFormat = (typeof CREDENTIAL_FORMATS)[number];

export function parseCredentialFormat(text: string): CredentialFormat {
  const format = CREDENTIAL_FORMATS.find((f) => f === text.trim().toLowerCase());
  if (!format) {
    throw new UsageError(`unknown --format "${text}"; allowed: ${CREDENTIAL_FORMATS.join(", ")}`);
  }
  return format;
}

export function parseRegion(text: string, source = "--region"): string {
  if (!/^[a-z]{2}(?:-[a-z]+)+-\d$/.test(text)) {
    throw new UsageError(`invalid region "${text}" (${source}); expected a region name like us-east-1`);
  }
  return text;
}

export function parseAccountId(text: string): string {
  if (!/^\d{12}$/.test(text)) {
    throw new UsageError(`invalid account ID "${text}"; expected 12 digits`);
  }
  return text;
}
