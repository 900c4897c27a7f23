import { describe, expect, it } from "vitest";
import {
  ACTOR_KINDS,
  allowedTargets,
  assertTransition,
  computeExpiresAt,
  IllegalTransitionError,
  isOpen,
  REQUEST_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
} from "../../src/rules/lifecycle.ts";

describe("request lifecycle", () => {
  it("contains exactly the moves of DESIGN.md plus admin revoke of in-flight or failed requests, a change applied and a failure nobody retried expiring", () => {
    const moves = TRANSITIONS.map((t) => `${t.from}->${t.to}`).sort();
    expect(moves).toEqual(
      [
        "PENDING->APPROVED",
        "APPROVED->ACTIVE",
        "ACTIVE->REVOKED",
        "ACTIVE->EXPIRED",
        "PENDING->DENIED",
        "PENDING->CANCELLED",
        "PENDING->EXPIRED",
        "APPROVED->FAILED",
        "FAILED->APPROVED",
        "APPROVED->REVOKED",
        "FAILED->REVOKED",
        "APPROVED->APPLIED",
        "FAILED->EXPIRED",
      ].sort(),
    );
  });

  it.each(TRANSITIONS.flatMap((t) => t.actors.map((actor) => ({ ...t, actor }))))(
    "$from -> $to is allowed for $actor",
    ({ from, to, actor }) => {
      expect(assertTransition(from, to, actor)).toMatchObject({ from, to });
    },
  );

  it.each(
    TRANSITIONS.flatMap((t) =>
      ACTOR_KINDS.filter((a) => !t.actors.includes(a)).map((actor) => ({ ...t, actor })),
    ),
  )("$from -> $to is refused for $actor, naming the current state", ({ from, to, actor }) => {
    const err = catchError(() => assertTransition(from, to, actor));
    expect(err).toBeInstanceOf(IllegalTransitionError);
    expect(err).toMatchObject({ current: from, attempted: to, wrongActor: true });
    expect(err.message).toContain(`it is ${from}`);
  });

  const illegal = REQUEST_STATUSES.flatMap((from) =>
    REQUEST_STATUSES.filter((to) => !TRANSITIONS.some((t) => t.from === from && t.to === to)).map((to) => ({
      from,
      to,
    })),
  );

  it.each(illegal)("$from -> $to is illegal for everyone and names $from", ({ from, to }) => {
    for (const actor of ACTOR_KINDS) {
      const err = catchError(() => assertTransition(from, to, actor));
      expect(err).toBeInstanceOf(IllegalTransitionError);
      expect(err).toMatchObject({ current: from, attempted: to, wrongActor: false });
      expect(err.message).toContain(`it is ${from}`);
    }
  });

  it("has no way out of a terminal state", () => {
    for (const status of TERMINAL_STATUSES) {
      for (const actor of ACTOR_KINDS) expect(allowedTargets(status, actor)).toEqual([]);
    }
  });

  it("offers an admin approve or deny on a pending request, a requester only cancel", () => {
    expect(allowedTargets("PENDING", "admin").sort()).toEqual(["APPROVED", "CANCELLED", "DENIED"]);
    expect(allowedTargets("PENDING", "requester")).toEqual(["CANCELLED"]);
  });

  it("treats PENDING, APPROVED and ACTIVE as open (blocking duplicates) and FAILED as not", () => {
    expect(REQUEST_STATUSES.filter(isOpen)).toEqual(["PENDING", "APPROVED", "ACTIVE"]);
  });

  it("computes the grant end from activation time and days", () => {
    expect(computeExpiresAt(new Date("2026-01-30T12:00:00.000Z"), 30)).toBe("2026-03-01T12:00:00.000Z");
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}
