// `up`: deploy the target's CDK stacks with the AWS CDK CLI. The command line is built apart from
// running it, so tests check it without deploying anything.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Target, TargetName } from "../../config/targets.ts";
import { CliFailure } from "../errors.ts";

export interface UpPlan {
  cwd: string;
  command: string;
  args: string[];
  /** Added to the environment of the deploy. */
  env: Record<string, string>;
}

export interface UpResult {
  kind: "up";
  target: TargetName;
  command: string[];
  exitCode: number;
}

/** The `npx cdk deploy` command line for a target; CliFailure when the CDK app is not in the repo yet. */
export function planUp(
  target: Target & { name: TargetName },
  repoRoot: string,
  exists: (path: string) => boolean = existsSync,
): UpPlan {
  const cdkJson = join(repoRoot, "cdk.json");
  if (!exists(cdkJson)) {
    throw new CliFailure(
      `cannot deploy ${target.name}: no cdk.json in ${repoRoot} — run \`cytoskel ${target.name} up\` from a clone of the cytoskel repository; nothing was changed`,
    );
  }
  // The target's settings become CDK context, so `up` deploys exactly the bucket the other commands use.
  const context = {
    region: target.region,
    bucketName: target.bucket,
    uploadersGroupName: target.uploadersGroup,
    iamUserPath: target.iamPath,
  };
  return {
    cwd: repoRoot,
    command: "npx",
    args: [
      "cdk",
      "deploy",
      "--all",
      "--no-notices",
      // Where `npm run manifest` reads the Slack request URL from.
      "--outputs-file",
      "cdk-outputs.json",
      ...Object.entries(context).flatMap(([key, value]) => ["--context", `${key}=${value}`]),
    ],
    env: { CDK_DISABLE_CLI_TELEMETRY: "true" },
  };
}

export type ProcessRunner = (plan: UpPlan, opts: { stdoutToStderr: boolean }) => Promise<number>;

/** Runs the deploy with the terminal attached (cdk asks before widening IAM permissions). */
export const spawnRunner: ProcessRunner = (plan, opts) =>
  new Promise((resolve, reject) => {
    const child = spawn(plan.command, plan.args, {
      cwd: plan.cwd,
      env: { ...process.env, ...plan.env },
      // With --json, stdout is reserved for our one JSON document.
      stdio: ["inherit", opts.stdoutToStderr ? process.stderr : "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });

export async function upCommand(
  target: Target & { name: TargetName },
  deps: { repoRoot: string; run: ProcessRunner; json: boolean; exists?: (path: string) => boolean },
): Promise<UpResult> {
  const plan = planUp(target, deps.repoRoot, deps.exists);
  const exitCode = await deps.run(plan, { stdoutToStderr: deps.json });
  if (exitCode !== 0) {
    throw new CliFailure(
      `cdk deploy for ${target.name} failed with exit code ${exitCode} (see its output above)`,
    );
  }
  return { kind: "up", target: target.name, command: [plan.command, ...plan.args], exitCode };
}
