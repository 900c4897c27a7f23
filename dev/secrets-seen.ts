/**
 * What the stand-ins make or are handed that must never show up in output: signing secrets, bot tokens,
 * secret access keys, session tokens, secret-link keys — and the fake Slacks whose calls are to be
 * checked. A test run's secrets scan (test/support/secrets-scan.ts) switches this on and reads it; dev/
 * never imports test code, and with nobody scanning (`npm run dev`, scripts) noting costs nothing and
 * keeps nothing. Kept on globalThis so every copy of this module in a process sees the same record.
 */
export type SecretKind = "signing secret" | "bot token" | "secret access key" | "session token" | "link key";

export interface SecretsSeen {
  secrets: Map<string, SecretKind>;
  /** Every call a fake Slack recorded (dev/fake-slack.ts), kept even when a test clears the fake's own list. */
  slackCalls: Array<{ method: string; seq: number; args: Record<string, unknown> }>;
}

const KEY = Symbol.for("cytoskel.secrets-seen");
type Holder = { [KEY]?: SecretsSeen };

/** Starts recording (the scan's setup); returns the record. */
export function watchSecrets(): SecretsSeen {
  const seen: SecretsSeen = { secrets: new Map(), slackCalls: [] };
  (globalThis as Holder)[KEY] = seen;
  return seen;
}

export function secretsSeen(): SecretsSeen | undefined {
  return (globalThis as Holder)[KEY];
}

export function noteSecret(kind: SecretKind, value: string | undefined): void {
  if (value) secretsSeen()?.secrets.set(value, kind);
}

/** `value`, noted as `kind` (for use inline where a stand-in makes one). */
export function noted(kind: SecretKind, value: string): string {
  noteSecret(kind, value);
  return value;
}

export function noteSlackCall(call: SecretsSeen["slackCalls"][number]): void {
  secretsSeen()?.slackCalls.push(call);
}
