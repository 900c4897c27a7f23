/**
 * The test run's secrets scan (issue 13, Deliver 3): what a test file wrote (stdout, stderr, console),
 * the errors its tests failed with, and every call a fake Slack received, checked for each secret the
 * stand-ins created or were handed (dev/secrets-seen.ts) and those a test registers. A hit fails the
 * file, naming the kind of secret and where — never the secret.
 *
 * Slack calls are checked for every kind but link keys: the requester's DM carries the secret link
 * (`/s/<id>#<key>`) by design, that is how the credentials reach them. Output is checked for all kinds.
 */
import { type SecretKind, secretsSeen } from "../../dev/secrets-seen.ts";

/** Shorter values (a test's `--secret wrong`) would match ordinary text; real secrets are longer. */
const MIN_SECRET_LENGTH = 12;

/** For a secret a test makes itself (a fixture credential, a hand-rolled key). */
export function registerSecret(kind: SecretKind, value: string): void {
  secretsSeen()?.secrets.set(value, kind);
}

export interface Output {
  /** Where it came from: "stdout", "console.error", "error in <test>", … */
  where: string;
  text: string;
}

export interface SlackCallSeen {
  method: string;
  seq: number;
  args: Record<string, unknown>;
}

export interface Leak {
  kind: SecretKind;
  where: string;
}

/** Every (kind, place) where a secret shows up; pure, so the scanner itself is tested directly. */
export function findLeaks(
  secrets: ReadonlyMap<string, SecretKind>,
  output: readonly Output[],
  slackCalls: readonly SlackCallSeen[],
): Leak[] {
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  const add = (kind: SecretKind, where: string) => {
    const key = `${kind}\u0000${where}`;
    if (seen.has(key)) return;
    seen.add(key);
    leaks.push({ kind, where });
  };
  const checked = [...secrets].filter(([value]) => value.length >= MIN_SECRET_LENGTH);
  for (const o of output) {
    for (const [value, kind] of checked) if (o.text.includes(value)) add(kind, o.where);
  }
  for (const call of slackCalls) {
    const text = JSON.stringify(call.args);
    for (const [value, kind] of checked) {
      if (kind !== "link key" && text.includes(value)) add(kind, `Slack call #${call.seq} ${call.method}`);
    }
  }
  return leaks;
}

export function describeLeaks(file: string, leaks: readonly Leak[]): string {
  return (
    `secrets scan: ${leaks.length} secret(s) showed up in ${file}'s output or Slack calls (values withheld):\n` +
    leaks.map((l) => `  - a ${l.kind} in ${l.where}`).join("\n")
  );
}
