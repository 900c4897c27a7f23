// Runs the real CDK CLI (`npx cdk synth`) the way an operator would, but offline: no AWS credentials or
// profile, no instance metadata lookups, telemetry, notices and version check off. One synth per test run
// (it takes ~12 s and ~450 MB): the stack tests share the templates it writes.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BOT_STACK_NAME, GRANTS_STACK_NAME } from "../../cdk/lib/names.ts";

export const REPO_ROOT = join(import.meta.dirname, "..", "..");

export interface CliSynthResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outdir: string;
  readonly args: readonly string[];
  /** Environment the CLI ran with (to check nothing could reach AWS). */
  readonly env: Readonly<Record<string, string | undefined>>;
  template(stackName: typeof GRANTS_STACK_NAME | typeof BOT_STACK_NAME): Record<string, unknown>;
}

/** The parent environment minus anything that could give the CLI credentials or a network target. */
export function offlineEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(base)) {
    if (key.startsWith("AWS_") || key.startsWith("CDK_")) continue;
    env[key] = value;
  }
  const nowhere = join(tmpdir(), "cytoskel-no-aws-config");
  return {
    ...env,
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
    AWS_EC2_METADATA_DISABLED: "true",
    CDK_DISABLE_CLI_TELEMETRY: "true",
    CDK_DISABLE_VERSION_CHECK: "true",
  };
}

export async function cliSynth(opts: {
  context: Record<string, string>;
  app?: string;
  extraEnv?: Record<string, string>;
}): Promise<CliSynthResult> {
  const outdir = mkdtempSync(join(tmpdir(), "cytoskel-synth-"));
  const args = [
    "cdk",
    "synth",
    "--quiet",
    "--no-notices",
    "--output",
    outdir,
    ...(opts.app ? ["--app", opts.app] : []),
    ...Object.entries(opts.context).flatMap(([key, value]) => ["--context", `${key}=${value}`]),
  ];
  const env = { ...offlineEnv(), ...opts.extraEnv };
  const { exitCode, stdout, stderr } = await new Promise<{
    exitCode: number;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn("npx", args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ exitCode: code ?? 1, stdout: out, stderr: err }));
  });
  return {
    exitCode,
    stdout,
    stderr,
    outdir,
    args,
    env,
    template(stackName) {
      const file = join(outdir, `${stackName}.template.json`);
      if (!existsSync(file)) throw new Error(`synth wrote no ${file}; stderr:\n${stderr.slice(-4000)}`);
      return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    },
  };
}
