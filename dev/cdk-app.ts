// The CDK app built in process the way `cdk synth` builds it — cdk.json's context (its feature flags
// too) under the given settings — with Lambda bundling skipped (no test here checks the functions'
// code). For the template tests and the synthesized roles.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App, type AppProps } from "aws-cdk-lib";
import { type BuildOptions, buildCytoskelApp, type CytoskelApp } from "../cdk/lib/app.ts";
import { readDeployConfig } from "../cdk/lib/config.ts";

const REPO_ROOT = join(import.meta.dirname, "..");

/** cdk.json's context, as `cdk synth` reads it. */
export function cdkJsonContext(): Record<string, unknown> {
  return (
    (JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")) as { context?: Record<string, unknown> })
      .context ?? {}
  );
}

export function buildAppInProcess(
  context: Record<string, unknown>,
  opts: { build?: BuildOptions; app?: Omit<AppProps, "context"> } = {},
): { app: App; built: CytoskelApp } {
  const app = new App({
    ...opts.app,
    context: { ...cdkJsonContext(), ...context, "aws:cdk:bundling-stacks": [] },
  });
  const built = buildCytoskelApp(
    app,
    readDeployConfig((key) => app.node.tryGetContext(key)),
    opts.build,
  );
  return { app, built };
}
