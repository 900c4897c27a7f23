/**
 * Fail-fast environment helpers: every loader reads settings through these, collects
 * every problem, and throws ONE ConfigError naming all of them (never their values,
 * which may be secrets).
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/**
 * A loader's environment contract: every variable it reads, with what it means. The loader reads
 * through an EnvReader typed by it and cdk/ builds the function's `environment` from it, so a name
 * has one source (a typo on either side fails to compile).
 */
export function defineEnv<const C extends Record<string, string>>(contract: C): C {
  return contract;
}

/** The variables a function's environment may set, as cdk/ fills them in. */
export type EnvOf<C> = Partial<Record<keyof C & string, string>>;

/** An environment with its unset (undefined) variables left out, as a Lambda environment is written. */
export function definedEnv<E extends Record<string, string | undefined>>(env: E): E & Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as E &
    Record<string, string>;
}

/** Collects problems while reading, so a start-up failure lists every bad setting at once. */
export class EnvReader<N extends string = string> {
  readonly problems: string[] = [];

  constructor(readonly env: Env = process.env) {}

  /** The trimmed value, or undefined when unset or blank. */
  raw(name: N): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  require(name: N, hint?: string): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.problems.push(`${name} is required${hint ? ` (${hint})` : ""}`);
      return "";
    }
    return value;
  }

  optional(name: N, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  /** Exactly one of two alternatives (e.g. a value or the ARN of a secret holding it). */
  oneOf<A extends N, B extends N>(a: A, b: B): { name: A | B; value: string } | undefined {
    const va = this.raw(a);
    const vb = this.raw(b);
    if (va !== undefined && vb !== undefined) {
      this.problems.push(`set only one of ${a} and ${b}`);
      return undefined;
    }
    if (va !== undefined) return { name: a, value: va };
    if (vb !== undefined) return { name: b, value: vb };
    this.problems.push(`one of ${a} or ${b} is required`);
    return undefined;
  }

  /** Comma- or whitespace-separated list; empty entries dropped. */
  list(name: N, opts: { required?: boolean; pattern?: RegExp; what?: string } = {}): string[] {
    const value = this.raw(name);
    if (value === undefined) {
      if (opts.required) this.problems.push(`${name} is required (comma-separated list)`);
      return [];
    }
    const items = value.split(/[\s,]+/).filter(Boolean);
    if (opts.required && items.length === 0) this.problems.push(`${name} must list at least one value`);
    if (opts.pattern) {
      const bad = items.filter((item) => !opts.pattern?.test(item));
      if (bad.length > 0) {
        this.problems.push(`${name} has malformed ${opts.what ?? "entries"}: ${bad.join(", ")}`);
      }
    }
    return items;
  }

  int(name: N, fallback: number, opts: { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.problems.push(`${name} must be an integer`);
      return fallback;
    }
    const n = Number(value);
    if (opts.min !== undefined && n < opts.min) this.problems.push(`${name} must be >= ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) this.problems.push(`${name} must be <= ${opts.max}`);
    return n;
  }

  bool(name: N, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(value)) return true;
    if (["0", "false", "no", "off"].includes(value)) return false;
    this.problems.push(`${name} must be true or false`);
    return fallback;
  }

  url(name: N, fallback?: string): string | undefined {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) return undefined;
    try {
      const u = new URL(value);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("protocol");
    } catch {
      this.problems.push(`${name} must be an http(s) URL`);
    }
    return value;
  }

  /** Check a value against a pattern, recording a problem that names the setting (not the value). */
  check(name: N, value: string | undefined, pattern: RegExp, what: string): void {
    if (value !== undefined && value !== "" && !pattern.test(value)) {
      this.problems.push(`${name} must be ${what}`);
    }
  }

  /** Throw if anything was wrong. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

export function requireEnv(name: string, env: Env = process.env): string {
  const reader = new EnvReader(env);
  const value = reader.require(name);
  reader.done();
  return value;
}

export function optionalEnv(name: string, fallback?: string, env: Env = process.env): string | undefined {
  return new EnvReader(env).optional(name, fallback);
}

export function listEnv(name: string, env: Env = process.env): string[] {
  return new EnvReader(env).list(name);
}
