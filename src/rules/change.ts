// Extension / change of access a person already holds (issue 12, item 1). Pure: given the held
// request (ACTIVE: permission, expiresAt) and what is asked (permission, duration), what changes —
// a later end, another permission, or both — or a specific refusal when nothing would.
//
// Decisions (also in src/service/README.md, "Extensions and changes"):
// - The new end counts from when the change is asked (`askedAt + days`), so the admin card shows the
//   exact date the admin approves. An end less than a day past the held one is no extension (a
//   repeated `request` right after approval is "nothing new", not a one-minute extension).
// - Permissions: READ → READWRITE and WRITE → READWRITE widen; READ ↔ WRITE replaces (the person gets
//   what they asked for, not the union: ask READWRITE for both). Asking for less than is held
//   (READWRITE → READ) never narrows: it keeps what is held.
// - An admin may shorten the asked duration when approving (never past the ask, never below one day);
//   a shortening that would end at or before the held end drops the extension (the permission part,
//   if any, still applies; with no permission part it is refused).
import type { Permission } from "./permission.ts";
import { permissionCovers } from "./permission.ts";

export const DAY_MS = 86_400_000;
/** An end must move by at least this much to count as an extension. */
export const MIN_EXTENSION_MS = DAY_MS;

/** What a held grant is, as far as a change is concerned. */
export interface HeldAccess {
  subPrefix: string;
  permission: Permission;
  /** ISO time; absent = no end date. */
  expiresAt?: string;
}

export interface ChangeAsk {
  permission: Permission;
  durationDays: number;
  /** When it is asked (the bot's clock). */
  askedAt: Date;
}

/** Old → new, as the store records it on the change request and the card shows it. */
export interface AccessTerms {
  permission: Permission;
  expiresAt?: string;
}

export type PermissionChange = "widen" | "replace";

export interface AccessChange {
  from: AccessTerms;
  to: AccessTerms;
  /** true when `to.expiresAt` is later than `from.expiresAt`. */
  extends: boolean;
  permissionChange?: PermissionChange;
}

export type ChangeVerdict =
  | { ok: true; change: AccessChange }
  | { ok: false; reason: "nothing-new" | "too-long"; message: string };

/** How an asked permission relates to a held one. */
export function permissionChange(held: Permission, asked: Permission): PermissionChange | undefined {
  if (permissionCovers(held, asked)) return undefined; // same, or asking for less than held
  return permissionCovers(asked, held) ? "widen" : "replace";
}

/** The end `days` after `from` (whole days). */
export function endAfter(from: Date, days: number): string {
  return new Date(from.getTime() + days * DAY_MS).toISOString();
}

function extendsEnd(held: string | undefined, candidate: string): boolean {
  if (held === undefined) return false; // no end date: nothing later to move to
  return Date.parse(candidate) - Date.parse(held) >= MIN_EXTENSION_MS;
}

/**
 * The change `ask` makes to `held`, or why there is none. `maxDays` as for new requests
 * (MAX_DURATION_DAYS); the parser refuses longer asks already, this is the rule's own guard.
 */
export function planChange(held: HeldAccess, ask: ChangeAsk, maxDays: number): ChangeVerdict {
  if (!Number.isInteger(ask.durationDays) || ask.durationDays < 1 || ask.durationDays > maxDays) {
    return {
      ok: false,
      reason: "too-long",
      message: `${ask.durationDays} days is not allowed: an extension is 1 to ${maxDays} days from now.`,
    };
  }
  const candidate = endAfter(ask.askedAt, ask.durationDays);
  const extending = extendsEnd(held.expiresAt, candidate);
  const perm = permissionChange(held.permission, ask.permission);
  if (!extending && !perm)
    return { ok: false, reason: "nothing-new", message: nothingNewText(held, maxDays) };
  const from: AccessTerms = {
    permission: held.permission,
    ...(held.expiresAt ? { expiresAt: held.expiresAt } : {}),
  };
  const end = extending ? candidate : held.expiresAt;
  return {
    ok: true,
    change: {
      from,
      to: { permission: perm ? ask.permission : held.permission, ...(end ? { expiresAt: end } : {}) },
      extends: extending,
      ...(perm ? { permissionChange: perm } : {}),
    },
  };
}

/** The refusal when an ask changes nothing: what is held, and how to ask for more. */
export function nothingNewText(held: HeldAccess, maxDays: number): string {
  const until = held.expiresAt ? ` until ${held.expiresAt.slice(0, 10)}` : " with no end date";
  const more = held.expiresAt
    ? ` To end later, ask \`for <N>d\` (at most ${maxDays}) reaching past that date${held.permission === "READWRITE" ? "" : "; for more, ask a wider permission"}.`
    : held.permission === "READWRITE"
      ? ""
      : " For more, ask a wider permission.";
  return `You already hold ${held.permission} on \`${held.subPrefix}\`${until}; nothing new to ask.${more}`;
}

export type ShortenVerdict =
  | { ok: true; change: AccessChange; durationDays: number }
  | { ok: false; message: string };

/**
 * An admin's shorter duration for an approved change: `days` counted from the same `askedAt`.
 * Only shorter than asked (1 … asked − 1); an end that no longer passes the held one drops the
 * extension, which leaves the permission part, or nothing (refused).
 */
export function shortenChange(
  change: AccessChange,
  ask: { askedAt: Date; durationDays: number },
  days: number,
): ShortenVerdict {
  if (!Number.isInteger(days) || days < 1 || days >= ask.durationDays) {
    return {
      ok: false,
      message: `${days} days is not a shorter duration: choose 1 to ${ask.durationDays - 1} days (the request asks ${ask.durationDays}).`,
    };
  }
  const candidate = endAfter(ask.askedAt, days);
  const extending = extendsEnd(change.from.expiresAt, candidate);
  if (!extending && !change.permissionChange) {
    return {
      ok: false,
      message: `${days} days would end ${candidate.slice(0, 10)}, not after the current end ${change.from.expiresAt?.slice(0, 10) ?? "(none)"}: that is no extension. Approve as asked, choose longer, or deny.`,
    };
  }
  const end = extending ? candidate : change.from.expiresAt;
  return {
    ok: true,
    durationDays: days,
    change: {
      ...change,
      to: { permission: change.to.permission, ...(end ? { expiresAt: end } : {}) },
      extends: extending,
    },
  };
}

/** The shorter durations an admin is offered (each still an extension, or the change has a permission part). */
export function shorterChoices(
  change: AccessChange,
  ask: { askedAt: Date; durationDays: number },
  ladder: readonly number[] = [1, 3, 7, 14, 30, 60],
): number[] {
  return ladder.filter((d) => shortenChange(change, ask, d).ok);
}

/** "end 2026-12-20 → 2027-01-19; WRITE → READWRITE" — exactly what changes. */
export function describeChange(change: AccessChange): string {
  const parts: string[] = [];
  if (change.extends)
    parts.push(`end ${change.from.expiresAt?.slice(0, 10)} → ${change.to.expiresAt?.slice(0, 10)}`);
  if (change.permissionChange) parts.push(`${change.from.permission} → ${change.to.permission}`);
  return parts.join("; ");
}

/** The change a stored change request describes (its recorded old and new terms). */
export function changeBetween(from: AccessTerms, to: AccessTerms): AccessChange {
  const perm = permissionChange(from.permission, to.permission);
  const extending =
    to.expiresAt !== undefined &&
    (from.expiresAt === undefined || Date.parse(to.expiresAt) > Date.parse(from.expiresAt));
  return { from, to, extends: extending, ...(perm ? { permissionChange: perm } : {}) };
}

/** The change a stored change request records (`changeFrom` → `changeTo`), or undefined for an ordinary request. */
export function recordedChange(req: {
  changeFrom?: AccessTerms;
  changeTo?: AccessTerms;
}): AccessChange | undefined {
  return req.changeFrom && req.changeTo ? changeBetween(req.changeFrom, req.changeTo) : undefined;
}
