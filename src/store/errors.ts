// Named store errors. SDK errors are wrapped at this boundary (with `cause`); callers never see
// ConditionalCheckFailedException.
import type { RequestStatus } from "../rules/lifecycle.ts";
import type { LastTransition } from "./types.ts";

export class StoreError extends Error {
  override readonly name: string = "StoreError";
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class NoSuchRequestError extends StoreError {
  override readonly name = "NoSuchRequestError";
  readonly requestId: string;

  constructor(requestId: string) {
    super(`no request ${requestId}`, "NoSuchRequest");
    this.requestId = requestId;
  }
}

/** Someone else moved the request first. `winner` is the transition that got there (when recorded). */
export class TransitionConflictError extends StoreError {
  override readonly name = "TransitionConflictError";
  readonly requestId: string;
  readonly expected: RequestStatus;
  readonly attempted: RequestStatus;
  readonly current: RequestStatus;
  readonly winner: LastTransition | undefined;

  constructor(args: {
    requestId: string;
    expected: RequestStatus;
    attempted: RequestStatus;
    current: RequestStatus;
    winner: LastTransition | undefined;
    cause?: unknown;
  }) {
    const by = args.winner
      ? `: ${args.winner.from} → ${args.winner.to} by ${args.winner.actor.kind} ${args.winner.actor.id} at ${args.winner.at}`
      : "";
    super(`request ${args.requestId} is ${args.current}, not ${args.expected}${by}`, "TransitionConflict", {
      cause: args.cause,
    });
    this.requestId = args.requestId;
    this.expected = args.expected;
    this.attempted = args.attempted;
    this.current = args.current;
    this.winner = args.winner;
  }

  /** The request already made exactly this move (a double click, a retried delivery, or a second admin
   *  clicking the same button): callers may answer "already done by <winner.actor>" instead of an error. */
  get alreadyDone(): boolean {
    const w = this.winner;
    return w !== undefined && w.from === this.expected && w.to === this.attempted && this.current === w.to;
  }
}

/** A secret's id is already taken (ids are random, so this is a bug or a replay). */
export class SecretExistsError extends StoreError {
  override readonly name = "SecretExistsError";

  constructor(options?: { cause?: unknown }) {
    super("a secret with this id already exists", "SecretExists", options);
  }
}

/** Refuses data that must never be stored (e.g. a secret access key in provisioning progress). */
export class ForbiddenDataError extends StoreError {
  override readonly name = "ForbiddenDataError";

  constructor(field: string) {
    super(`refusing to store field "${field}"`, "ForbiddenData");
  }
}

/** A page cursor that this store did not hand out (or that was altered). */
export class InvalidCursorError extends StoreError {
  override readonly name = "InvalidCursorError";

  constructor() {
    super("invalid page cursor", "InvalidCursor");
  }
}

/** Any other DynamoDB failure, wrapped with its cause. */
export class StoreAccessError extends StoreError {
  override readonly name = "StoreAccessError";

  constructor(operation: string, cause: unknown) {
    const code = (cause as { name?: string } | undefined)?.name ?? "Unknown";
    super(`DynamoDB ${operation} failed (${code})`, code, { cause });
  }
}

export function isConditionalCheckFailed(err: unknown): err is Error & { Item?: Record<string, unknown> } {
  return (err as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";
}
