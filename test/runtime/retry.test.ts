/** The one retry helper (src/runtime/retry.ts) on a fake clock: nothing here really sleeps. */
import { describe, expect, it } from "vitest";
import { alreadyRetried, backoffMs, markRetried, type RetryOptions, retry } from "../../src/runtime/retry.ts";

class Transient extends Error {}
class Permanent extends Error {}

/** A clock that only moves when the helper sleeps; records every backoff. */
function fakeClock(start = 0) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

function failing(times: number, make: () => Error = () => new Transient("try again")) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    work: async () => {
      calls += 1;
      if (calls <= times) throw make();
      return `done after ${calls}`;
    },
  };
}

const base = (clock: ReturnType<typeof fakeClock>, extra: Partial<RetryOptions> = {}): RetryOptions => ({
  maxAttempts: 5,
  baseDelayMs: 100,
  retryable: (err) => err instanceof Transient,
  sleep: clock.sleep,
  random: () => 0.5,
  ...extra,
});

describe("retry", () => {
  it("retries a retryable failure until it succeeds and reports the tries", async () => {
    const clock = fakeClock();
    const w = failing(2);
    const result = await retry(w.work, base(clock));
    expect(result).toEqual({ ok: true, value: "done after 3", attempts: 3 });
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it("does not retry permanent errors", async () => {
    const clock = fakeClock();
    const w = failing(5, () => new Permanent("no such location"));
    const result = await retry(w.work, base(clock));
    expect(w.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(result).toMatchObject({ ok: false, attempts: 1, stoppedBy: "not-retryable" });
    if (!result.ok) expect(result.error).toBeInstanceOf(Permanent);
  });

  it("stops after maxAttempts and marks the error so an outer retry leaves it alone", async () => {
    const clock = fakeClock();
    const w = failing(10);
    const inner = await retry(w.work, base(clock, { maxAttempts: 3 }));
    expect(w.calls).toBe(3);
    expect(inner).toMatchObject({ ok: false, attempts: 3, stoppedBy: "attempts" });
    if (inner.ok) throw new Error("expected a failure");
    expect(alreadyRetried(inner.error)).toBe(true);

    // The layer above sees the inner layer's give-up (even wrapped) and does not multiply it.
    const outerCalls: number[] = [];
    const outer = await retry(
      async (attempt) => {
        outerCalls.push(attempt);
        throw new Error("wrapped", { cause: inner.error });
      },
      base(clock, { retryable: () => true }),
    );
    expect(outerCalls).toEqual([1]);
    expect(outer).toMatchObject({ ok: false, stoppedBy: "not-retryable" });
  });

  it("stops at the deadline: no backoff starts that would leave less than the reserve", async () => {
    const clock = fakeClock();
    const deadline = 1_000;
    const w = failing(100);
    const result = await retry(
      w.work,
      base(clock, {
        maxAttempts: Number.POSITIVE_INFINITY,
        remainingMs: () => deadline - clock.now(),
        reserveMs: 150,
      }),
    );
    // Backoffs 100, 200, 400 (700 ms spent); the next (800) would end past 1000 − 150.
    expect(clock.sleeps).toEqual([100, 200, 400]);
    expect(w.calls).toBe(4);
    expect(result).toMatchObject({ ok: false, attempts: 4, stoppedBy: "deadline" });
    expect(clock.now()).toBeLessThanOrEqual(deadline - 150);
  });

  it("backs off within bounds: doubling, capped, ±50 % jitter", () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 500 };
    for (const [attempt, nominal] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 500],
      [9, 500],
    ] as const) {
      expect(backoffMs(attempt, { ...opts, random: () => 0 })).toBe(nominal * 0.5);
      expect(backoffMs(attempt, { ...opts, random: () => 0.999999 })).toBeLessThan(nominal * 1.5 + 1);
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(attempt, opts);
        expect(d).toBeGreaterThanOrEqual(nominal * 0.5);
        expect(d).toBeLessThanOrEqual(nominal * 1.5);
      }
    }
  });

  it("backs off within bounds in a run, with the jitter it is given", async () => {
    const clock = fakeClock();
    const w = failing(4);
    await retry(w.work, base(clock, { maxDelayMs: 300, random: () => 0 }));
    expect(clock.sleeps).toEqual([50, 100, 150, 150]);
  });

  it("tells each failed try to onAttemptFailed, the last one included", async () => {
    const clock = fakeClock();
    const seen: number[] = [];
    await retry(
      failing(10).work,
      base(clock, { maxAttempts: 2, onAttemptFailed: (_e, n) => void seen.push(n) }),
    );
    expect(seen).toEqual([1, 2]);
  });

  it("markRetried leaves frozen values and primitives alone", () => {
    expect(markRetried("text")).toBe("text");
    const frozen = Object.freeze(new Error("frozen"));
    expect(alreadyRetried(markRetried(frozen))).toBe(false);
  });
});
