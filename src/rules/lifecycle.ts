// The access-request lifecycle as pure data + one check. No I/O: the store enforces the same table
// with conditional writes, the bot/provisioner/expiry job ask it before they try.
//
//   PENDING → APPROVED → ACTIVE → REVOKED | EXPIRED
//   PENDING → DENIED | CANCELLED | EXPIRED
//   APPROVED → FAILED (after retries) → APPROVED (an admin retries)
// Two additions DESIGN.md is silent on, so a revoke can stop work that is in flight or half done:
//   APPROVED → REVOKED and FAILED → REVOKED (admin).
// And so a failure has an end (src/service/reconcile.ts): FAILED → EXPIRED (system), when no admin
// retried it within the pending window; its partial resources are taken apart first.
// A change request (an extension or upgrade of access held, src/rules/change.ts) never becomes ACTIVE
// itself: the provisioner applies it to the held request and closes it, APPROVED → APPLIED (system).

export const REQUEST_STATUSES = [
  "PENDING",
  "APPROVED",
  "ACTIVE",
  "DENIED",
  "CANCELLED",
  "REVOKED",
  "EXPIRED",
  "FAILED",
  "APPLIED",
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const ACTOR_KINDS = ["requester", "admin", "system"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** Who made a change. `id` is a Slack user ID for people, a component name (e.g. "provisioner") for system. */
export interface Actor {
  kind: ActorKind;
  id: string;
}

/** What a transition stamps on the request besides status (the store writes these fields). */
export type TransitionRecord = "decision" | "activation" | "failure" | "closure";

export interface TransitionRule {
  from: RequestStatus;
  to: RequestStatus;
  actors: readonly ActorKind[];
  /** Fields the store sets: decision → decidedBy/decidedAt, activation → activatedAt (+expiresAt from the
   *  caller), failure → failureReason, closure → closedAt/closedBy. */
  records: readonly TransitionRecord[];
}

export const TRANSITIONS: readonly TransitionRule[] = [
  { from: "PENDING", to: "APPROVED", actors: ["admin"], records: ["decision"] },
  { from: "PENDING", to: "DENIED", actors: ["admin"], records: ["decision", "closure"] },
  { from: "PENDING", to: "CANCELLED", actors: ["requester", "admin"], records: ["closure"] },
  { from: "PENDING", to: "EXPIRED", actors: ["system"], records: ["closure"] },
  { from: "APPROVED", to: "ACTIVE", actors: ["system"], records: ["activation"] },
  { from: "APPROVED", to: "FAILED", actors: ["system"], records: ["failure"] },
  { from: "APPROVED", to: "REVOKED", actors: ["admin"], records: ["closure"] },
  { from: "FAILED", to: "APPROVED", actors: ["admin"], records: ["decision"] },
  { from: "FAILED", to: "REVOKED", actors: ["admin"], records: ["closure"] },
  { from: "FAILED", to: "EXPIRED", actors: ["system"], records: ["closure"] },
  { from: "ACTIVE", to: "REVOKED", actors: ["admin"], records: ["closure"] },
  { from: "ACTIVE", to: "EXPIRED", actors: ["system"], records: ["closure"] },
  { from: "APPROVED", to: "APPLIED", actors: ["system"], records: ["closure"] },
];

/** States from which nothing moves on. */
export const TERMINAL_STATUSES: readonly RequestStatus[] = [
  "DENIED",
  "CANCELLED",
  "REVOKED",
  "EXPIRED",
  "APPLIED",
];

/** States in which a request blocks a duplicate (same requester + scope). APPROVED is on its way to
 *  ACTIVE, so it blocks too; FAILED does not (the person may file again; an admin may also retry). */
export const OPEN_STATUSES: readonly RequestStatus[] = ["PENDING", "APPROVED", "ACTIVE"];

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isOpen(status: RequestStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export function isRequestStatus(value: unknown): value is RequestStatus {
  return typeof value === "string" && (REQUEST_STATUSES as readonly string[]).includes(value);
}

export function findTransition(from: RequestStatus, to: RequestStatus): TransitionRule | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.to === to);
}

/** Targets reachable from `from` by `actorKind` (e.g. to decide which buttons to show). */
export function allowedTargets(from: RequestStatus, actorKind: ActorKind): RequestStatus[] {
  return TRANSITIONS.filter((t) => t.from === from && t.actors.includes(actorKind)).map((t) => t.to);
}

export class IllegalTransitionError extends Error {
  override readonly name = "IllegalTransitionError";
  readonly current: RequestStatus;
  readonly attempted: RequestStatus;
  readonly actorKind: ActorKind;
  /** true when the move exists but this kind of actor may not make it. */
  readonly wrongActor: boolean;

  constructor(current: RequestStatus, attempted: RequestStatus, actorKind: ActorKind, wrongActor: boolean) {
    super(
      wrongActor
        ? `a ${actorKind} may not move a request from ${current} to ${attempted} (it is ${current})`
        : `cannot move a request from ${current} to ${attempted}: it is ${current}` +
            (isTerminal(current) ? ", which is final" : ""),
    );
    this.current = current;
    this.attempted = attempted;
    this.actorKind = actorKind;
    this.wrongActor = wrongActor;
  }
}

/** Throws IllegalTransitionError (naming the current state) unless `actorKind` may move `from` → `to`. */
export function assertTransition(
  from: RequestStatus,
  to: RequestStatus,
  actorKind: ActorKind,
): TransitionRule {
  const rule = findTransition(from, to);
  if (!rule) throw new IllegalTransitionError(from, to, actorKind, false);
  if (!rule.actors.includes(actorKind)) throw new IllegalTransitionError(from, to, actorKind, true);
  return rule;
}

/**
 * How many days before a grant ends its holder is reminded (the expiry job's REMINDER_DAYS) and the App
 * Home lists it as ending soon (the bot's); one default for both.
 */
export const DEFAULT_REMINDER_DAYS = 3;

/** Grant end time for a duration in whole days, from the moment access became active. */
export function computeExpiresAt(activatedAt: Date, durationDays: number): string {
  return new Date(activatedAt.getTime() + durationDays * 86_400_000).toISOString();
}
