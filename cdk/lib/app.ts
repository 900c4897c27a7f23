// Builds the whole CDK app from one config: the grants stack, the bot stack fed by the grants stack's
// outputs, and cdk-nag's AWS Solutions checks (a finding without an acknowledgement fails the synth).
import { fileURLToPath } from "node:url";
import { type App, Tags, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { FunctionEntries } from "./bot-functions.ts";
import { BotStack } from "./bot-stack.ts";
import type { CytoskelDeployConfig } from "./config.ts";
import { GrantsStack } from "./grants-stack.ts";
import { BOT_STACK_NAME, GRANTS_STACK_NAME } from "./names.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

export const DEFAULT_ENTRIES: FunctionEntries = {
  bot: `${PROJECT_ROOT}/src/bot/lambda.ts`,
  provisioner: `${PROJECT_ROOT}/src/provisioner/lambda.ts`,
  secretLink: `${PROJECT_ROOT}/src/secret-link/lambda.ts`,
  expiry: `${PROJECT_ROOT}/src/expiry/lambda.ts`,
};

export interface BuildOptions {
  readonly entries?: FunctionEntries;
  readonly projectRoot?: string;
  /** Leave out the bot stack (e.g. to check the grants stack alone, fast). */
  readonly grantsOnly?: boolean;
}

export interface CytoskelApp {
  readonly grants: GrantsStack;
  readonly bot: BotStack | undefined;
  readonly nag: AwsSolutionsChecks;
}

export function buildCytoskelApp(
  app: App,
  config: CytoskelDeployConfig,
  options: BuildOptions = {},
): CytoskelApp {
  const env = { account: config.account, region: config.region };
  const grants = new GrantsStack(app, GRANTS_STACK_NAME, {
    env,
    config,
    description: `cytoskel grants infrastructure: bucket ${config.bucketName}, S3 Access Grants instance, location and uploaders group`,
  });
  const bot = options.grantsOnly
    ? undefined
    : new BotStack(app, BOT_STACK_NAME, {
        env,
        config,
        description: "cytoskel Slack bot: table, functions, HTTPS endpoint, stream trigger, schedule",
        grants: {
          bucketName: grants.bucketName,
          instanceArn: grants.instanceArn,
          locationId: grants.locationId,
          uploadersGroup: grants.uploadersGroup,
        },
        entries: options.entries ?? DEFAULT_ENTRIES,
        projectRoot: options.projectRoot ?? PROJECT_ROOT,
      });
  Tags.of(app).add("project", "cytoskel");
  // Acknowledgements are also written into the templates (Metadata.cdk_nag), so the deployed stacks carry
  // their own audit trail of what was accepted and why.
  const nag = new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(nag);
  return { grants, bot, nag };
}
