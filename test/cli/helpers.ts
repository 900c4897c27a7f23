// Ways to run the CLI in tests: as a child process through its real entry point (bin/cytoskel.js), or
// in-process through runCli with real SDK clients; both talk HTTP to the local AWS stand-in.

import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createIamClient, createS3ControlClient, createStsClient } from "../../src/aws/clients.ts";
import type { ProcessRunner } from "../../src/cli/commands/up.ts";
import { runCli } from "../../src/cli/program.ts";
import type { LocalAws } from "../support/local-aws/index.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(REPO_ROOT, "bin/cytoskel.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A HOME with no ~/.aws, so a developer's own profiles never leak into a test. */
const emptyHome = mkdtempSync(join(tmpdir(), "cytoskel-cli-home-"));

/** Only what the CLI needs: PATH, an empty HOME, and the stand-in's endpoints and dummy keys. */
export function childEnv(local: LocalAws, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: emptyHome, ...local.env, ...extra };
}

export function runChild(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env, cwd: REPO_ROOT, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const noDeploy: ProcessRunner = async () => {
  throw new Error("tests never deploy");
};

/** runCli in this process, with SDK clients built the way main.ts builds them but from the stand-in's env. */
export async function runInProcess(
  args: string[],
  local: LocalAws,
  opts: {
    credentials?: { accessKeyId: string; secretAccessKey: string };
    /** Added to the stand-in's env (e.g. AWS_REGION). */
    env?: Record<string, string>;
    runProcess?: ProcessRunner;
    repoRoot?: string;
  } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const credentials = opts.credentials ?? {
    accessKeyId: local.env.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: local.env.AWS_SECRET_ACCESS_KEY as string,
  };
  const env = { ...local.env, ...opts.env };
  const code = await runCli(args, {
    env,
    io: {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    },
    createClients: (region) => {
      const base = { region, env, credentials, maxAttempts: 1 };
      return {
        iam: createIamClient(base),
        s3control: createS3ControlClient(base),
        sts: createStsClient(base),
      };
    },
    destroyClients: (clients) => {
      for (const c of Object.values(clients)) c.destroy();
    },
    repoRoot: opts.repoRoot ?? REPO_ROOT,
    runProcess: opts.runProcess ?? noDeploy,
  });
  return { code, stdout, stderr };
}

/** Everything a CLI command could change in the stand-in, as plain data for toEqual. */
export function snapshot(local: LocalAws): unknown {
  return {
    users: [...local.state.iam.users.values()].map((u) => ({
      userName: u.userName,
      path: u.path,
      groups: [...u.groups].sort(),
      keys: u.accessKeys.map((k) => `${k.accessKeyId}:${k.status}`),
      inline: [...u.inlinePolicies.keys()],
      attached: [...u.attachedPolicies],
    })),
    groups: [...local.state.iam.groups.values()].map((g) => ({
      groupName: g.groupName,
      members: [...g.members].sort(),
      inline: [...g.inlinePolicies.entries()],
      attached: [...g.attachedPolicies],
    })),
    accessGrants: [...local.state.accessGrants.entries()].map(([region, i]) => ({
      region,
      locations: [...i.locations.keys()],
      grants: [...i.grants.values()].map((g) => ({ ...g, createdAt: undefined })),
    })),
  };
}

/** Operations after `from` in the stand-in's request log that could have changed something (tried or done). */
export function writesSince(local: LocalAws, from: number, opts: { succeededOnly?: boolean } = {}): string[] {
  return local.state.requests
    .slice(from)
    .filter((r) => !opts.succeededOnly || r.status < 300)
    .map((r) => r.operation)
    .filter((op) => !/^(Get|List)/.test(op));
}
