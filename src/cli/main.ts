// Process entry for the CLI: bundled into dist/cytoskel.mjs by `npm run build` (the package's bin);
// `npm run cli -- …` runs it from source through tsx.
// The only place that creates SDK clients and touches process. The SDK is loaded when a command first
// needs clients, so `--help` and a credential_process answered from the cache never load it.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnRunner } from "./commands/up.ts";
import { runCli } from "./program.ts";

// The SDK's "node >= 22 from 2027" notice would break the one-line stderr contract; Lambda runs 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/**
 * The cytoskel checkout this file lives in (src/cli/ from source, dist/ when built), where `up` finds
 * cdk.json; from an installed copy outside a checkout, the nearest package root, and `up` says cdk.json
 * is missing.
 */
function findRepoRoot(from: string): string {
  for (let dir = from, up = 0; up < 4; dir = dirname(dir), up++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "cytoskel")
      return dir;
  }
  return dirname(from);
}

const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

process.exitCode = await runCli(process.argv.slice(2), {
  io: {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
  createClients: async (region, profile) => {
    const { createDynamoDbClient, createIamClient, createS3ControlClient, createStsClient } = await import(
      "../aws/clients.ts"
    );
    const opts = { region, ...(profile ? { profile } : {}) };
    return {
      iam: createIamClient(opts),
      s3control: createS3ControlClient(opts),
      sts: createStsClient(opts),
      dynamodb: createDynamoDbClient(opts),
    };
  },
  destroyClients: (clients) => {
    for (const client of Object.values(clients)) client.destroy();
  },
  repoRoot,
  runProcess: spawnRunner,
});
