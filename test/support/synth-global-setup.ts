// vitest globalSetup: synthesize the CDK app once, before any test file runs, so the suites that seed the
// local AWS with the functions' synthesized roles (dev/deployed-roles.ts) read the cached
// templates instead of each fork synthesizing (or waiting for) its own.
import { synthesizedTemplates } from "../../dev/synthesized-policies.ts";

export default async function setup(): Promise<void> {
  process.env.CDK_DISABLE_CLI_TELEMETRY = "true";
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  await synthesizedTemplates();
}
