// Process entry for the CLI (bin/cytoskel.js loads it through tsx; `npm run cli -- …` runs it directly).
// The only place that creates SDK clients and touches process. The SDK is loaded when a command first
// needs clients, so a credential_process answered from the cache never loads it.

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnRunner } from "./commands/up.ts";
import { runCli } from "./program.ts";

// The SDK's "node >= 22 from 2027" notice would break the one-line stderr contract; Lambda runs 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

process.exitCode = await runCli(process.argv.slice(2), {
  io: {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
  createClients: async (region, profile) => {
    const { createIamClient, createS3ControlClient, createStsClient } = await import("../aws/clients.ts");
    const opts = { region, ...(profile ? { profile } : {}) };
    return { iam: createIamClient(opts), s3control: createS3ControlClient(opts), sts: createStsClient(opts) };
  },
  destroyClients: (clients) => {
    for (const client of Object.values(clients)) client.destroy();
  },
  repoRoot,
  runProcess: spawnRunner,
});
