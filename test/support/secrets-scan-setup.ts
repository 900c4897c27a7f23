// vitest setupFiles: the secrets scan (secrets-scan.ts) for each test file. Records what the stand-ins
// create (dev/secrets-seen.ts), captures what the file writes and the errors its tests fail with, and
// fails the file in afterAll when a secret shows up there or in a Slack call. Captures by reference
// (strings kept, checked once per file) so the run pays one pass of `includes` per secret at the end.
import { format } from "node:util";
import { afterAll, beforeEach, expect } from "vitest";
import { watchSecrets } from "../../dev/secrets-seen.ts";
import { describeLeaks, findLeaks, type Output } from "./secrets-scan.ts";

const seen = watchSecrets();
const output: Output[] = [];

for (const name of ["stdout", "stderr"] as const) {
  const stream = process[name];
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push({
      where: name,
      text: typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(),
    });
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
// vitest's console in a worker goes to the main process, not to this process's stdout: capture it too.
for (const name of ["log", "info", "warn", "error", "debug", "trace"] as const) {
  const original = console[name].bind(console);
  console[name] = (...args: unknown[]) => {
    output.push({ where: `console.${name}`, text: format(...args) });
    original(...args);
  };
}

beforeEach(({ onTestFailed }) => {
  onTestFailed(({ task }) => {
    for (const e of task.result?.errors ?? []) {
      output.push({ where: `the error "${task.name}" failed with`, text: `${e.message}\n${e.stack ?? ""}` });
    }
  });
});

afterAll(() => {
  const leaks = findLeaks(seen.secrets, output, seen.slackCalls);
  const file = expect.getState().testPath ?? "this file";
  if (leaks.length) throw new Error(describeLeaks(file, leaks));
});
