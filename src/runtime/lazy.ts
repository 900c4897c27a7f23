/**
 * Lazy start-up for a Lambda entry: nothing runs at import (no network call on a cold start's init
 * phase); the first invocation builds, later ones reuse. A failed build (e.g. Secrets Manager
 * throttled) is forgotten, so the next invocation tries again instead of failing for the container's life.
 */
export interface Lazy<T> {
  get(): Promise<T>;
  /** Forget the built value (tests that change the environment). */
  reset(): void;
}

export function lazy<T>(build: () => Promise<T>): Lazy<T> {
  let pending: Promise<T> | undefined;
  return {
    get() {
      if (!pending) {
        const attempt = build();
        pending = attempt;
        attempt.catch(() => {
          if (pending === attempt) pending = undefined;
        });
      }
      return pending;
    },
    reset() {
      pending = undefined;
    },
  };
}

/**
 * A value rebuilt whenever the secrets it was built from change (a rotated Slack token): `read` returns
 * the current secret values (cheap while their max age lasts); `build` runs on the first call and again
 * only when one differs from the values the last build used.
 */
export function rebuiltOnChange<const S extends readonly string[], T>(
  read: () => Promise<S>,
  build: (values: S) => T,
): () => Promise<T> {
  let last: { key: string; value: T } | undefined;
  return async () => {
    const values = await read();
    const key = JSON.stringify(values);
    if (last?.key !== key) last = { key, value: build(values) };
    return last.value;
  };
}
