// The bot stack's four functions: what each is for and its size. Each is a CytoskelFunction (own role,
// own log group); the stack grants each what it calls and gives each its environment
// (./function-environments.ts).
import { Duration } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { CytoskelFunction } from "./constructs/cytoskel-function.ts";

/** Absolute paths of the Lambda entry files (each exports `handler`). */
export interface FunctionEntries {
  readonly bot: string;
  readonly provisioner: string;
  readonly secretLink: string;
  readonly expiry: string;
}

export type FunctionName = keyof FunctionEntries;

interface FunctionSpec {
  /** Construct id, directly in the stack: the functions' logical IDs start with it (dev/synthesized-policies.ts). */
  readonly id: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
}

export const FUNCTION_SPECS: Readonly<Record<FunctionName, FunctionSpec>> = {
  bot: {
    id: "Bot",
    description: "Slack commands and buttons: validates, records state, answers within Slack's 3 s",
    // More memory is more CPU: the cold start counts against Slack's 3 seconds.
    memorySize: 1024,
    // DynamoDB + one Slack call per event (revoke / re-issue are queued for the provisioner).
    timeout: Duration.seconds(10),
  },
  provisioner: {
    id: "Provisioner",
    description:
      "From the table stream: provisions approved requests, runs admins' revoke / re-issue, tells denied requesters",
    memorySize: 512,
    timeout: Duration.minutes(2),
  },
  secretLink: {
    id: "SecretLink",
    description: "One-time secret link: GET shows the page, POST consumes the ciphertext once",
    memorySize: 256,
    timeout: Duration.seconds(10),
  },
  expiry: {
    id: "Expiry",
    description: "Scheduled: revokes expired grants, reminds before expiry, expires stale requests",
    memorySize: 512,
    timeout: Duration.minutes(5),
  },
};

export interface BotFunctionsProps {
  readonly entries: FunctionEntries;
  readonly projectRoot: string;
  readonly logRetentionDays: number;
  readonly environments: Readonly<Record<FunctionName, Record<string, string>>>;
}

/** The four functions, created directly in `scope` (the stack) so their logical IDs stay as deployed. */
export function createBotFunctions(
  scope: Construct,
  props: BotFunctionsProps,
): Record<FunctionName, CytoskelFunction> {
  const make = (name: FunctionName) => {
    const { id, ...spec } = FUNCTION_SPECS[name];
    return new CytoskelFunction(scope, id, {
      ...spec,
      entry: props.entries[name],
      projectRoot: props.projectRoot,
      logRetentionDays: props.logRetentionDays,
      environment: props.environments[name],
    });
  };
  return {
    bot: make("bot"),
    provisioner: make("provisioner"),
    secretLink: make("secretLink"),
    expiry: make("expiry"),
  };
}
