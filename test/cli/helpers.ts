// Ways to run the CLI in tests: as a child process through its real entry point (the built dist/cytoskel.mjs, the package's bin), or
// in-process through runCli with real SDK clients; both talk HTTP to the local AWS stand-in, which judges
// every call. The CLI runs as the IAM user `operator`, holding docs/operator-policy.json and nothing
// else, in an account set up the way `cdk deploy` leaves it (startCliAccount).

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { seedUploadersGroup } from "../../dev/deployed-roles.ts";
import type { LocalDynamo } from "../../dev/dynamodb.ts";
import {
  LOCAL_ADMIN_CREDENTIALS,
  type LocalAws,
  type PolicyDocument,
  seedAccessGrantsLocation,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import {
  createDynamoDbClient,
  createIamClient,
  createS3ControlClient,
  createStsClient,
} from "../../src/aws/clients.ts";
import type { ProcessRunner } from "../../src/cli/commands/up.ts";
import { runCli } from "../../src/cli/program.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(REPO_ROOT, "dist/cytoskel.mjs");

export const OPERATOR_POLICY_FILE = join(REPO_ROOT, "docs/operator-policy.json");
export const OPERATOR_USER_NAME = "operator";
/** A table named as CloudFormation names the bot stack's (stack-logicalId-suffix), which the operator
 *  policy's ReadAuditTrail statement matches; startDynamo adds a unique suffix to this prefix. */
export const DEPLOYED_TABLE_PREFIX = "CytoskelBot-TableCD117FA1";

/** docs/operator-policy.json for `accountId`: its ACCOUNT_ID placeholder replaced, as the README says. */
export function operatorPolicy(accountId: string): PolicyDocument & { Statement: OperatorStatement[] } {
  return JSON.parse(readFileSync(OPERATOR_POLICY_FILE, "utf8").replaceAll("ACCOUNT_ID", accountId));
}

export interface OperatorStatement {
  Sid: string;
  Effect: "Allow";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An account as `cdk deploy` leaves it, plus the operator who runs the admin CLI in it. */
export interface CliAccount {
  local: LocalAws;
  locationId: string;
  instanceArn: string;
  operator: { userName: string; arn: string; credentials: Keys };
  /** IAM signing as the account root: for seeding and for what only an administrator may do. */
  rootIam: IAMClient;
  stop(): Promise<void>;
}

/**
 * A local AWS with the Access Grants instance and the bucket's location, the uploaders group carrying
 * the grants stack's synthesized policy (as `cdk deploy` makes them), and the IAM user `operator` (path
 * /, outside /cytoskel/) with docs/operator-policy.json attached as a customer managed policy and one
 * access key — all made by the root, the way an administrator would set up an operator.
 */
export async function startCliAccount(opts: { dynamo?: LocalDynamo } = {}): Promise<CliAccount> {
  const local = await startLocalAws(opts.dynamo ? { dynamodbEndpoint: opts.dynamo.endpoint } : {});
  const { locationId, instanceArn } = seedAccessGrantsLocation(local);
  const rootIam = createIamClient({ env: local.env, maxAttempts: 1 });
  // The table name is part of the synthesized templates' inputs only; the group's policy names none.
  await seedUploadersGroup(rootIam, local, { tableName: "cytoskel-cli-tests", instanceArn, locationId });
  const user = await rootIam.send(new CreateUserCommand({ UserName: OPERATOR_USER_NAME }));
  const policy = await rootIam.send(
    new CreatePolicyCommand({
      PolicyName: "cytoskel-operator",
      PolicyDocument: JSON.stringify(operatorPolicy(local.accountId)),
    }),
  );
  await rootIam.send(
    new AttachUserPolicyCommand({ UserName: OPERATOR_USER_NAME, PolicyArn: policy.Policy?.Arn ?? "" }),
  );
  const key = await rootIam.send(new CreateAccessKeyCommand({ UserName: OPERATOR_USER_NAME }));
  return {
    local,
    locationId,
    instanceArn,
    operator: {
      userName: OPERATOR_USER_NAME,
      arn: user.User?.Arn ?? "",
      credentials: {
        accessKeyId: key.AccessKey?.AccessKeyId ?? "",
        secretAccessKey: key.AccessKey?.SecretAccessKey ?? "",
      },
    },
    rootIam,
    async stop() {
      rootIam.destroy();
      await local.stop();
    },
  };
}

/** What a command that writes the books prints without --table / CYTOSKEL_TABLE_NAME (one stderr line). */
export const BOOKS_NOTE =
  'Books not updated (no --table or CYTOSKEL_TABLE_NAME): status, the App Home and the audit do not show this; "sync" finds it later.\n';

export const ROOT_KEYS: Keys = LOCAL_ADMIN_CREDENTIALS;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A HOME with no ~/.aws, so a developer's own profiles never leak into a test. */
const emptyHome = mkdtempSync(join(tmpdir(), "cytoskel-cli-home-"));
/** In-process runs cache credentials here unless a test gives XDG_CACHE_HOME: never in the real ~/.cache. */
const inProcessCacheHome = mkdtempSync(join(tmpdir(), "cytoskel-cli-cache-"));

/** Only what the CLI needs: PATH, an empty HOME, the stand-in's endpoints and the operator's keys. */
export function childEnv(account: CliAccount, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: emptyHome,
    ...account.local.envFor(account.operator.credentials),
    ...extra,
  };
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

/**
 * runCli in this process, with SDK clients built the way main.ts builds them but from the stand-in's env,
 * signing with the operator's keys unless `credentials` says otherwise (a contributor's, ROOT_KEYS).
 */
export async function runInProcess(
  args: string[],
  account: CliAccount,
  opts: {
    credentials?: Keys;
    /** Added to the stand-in's env (e.g. AWS_REGION). */
    env?: Record<string, string>;
    runProcess?: ProcessRunner;
    repoRoot?: string;
    /** The credential cache's clock (milliseconds). */
    now?: () => number;
  } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const credentials = opts.credentials ?? account.operator.credentials;
  const env = { XDG_CACHE_HOME: inProcessCacheHome, ...account.local.envFor(credentials), ...opts.env };
  const code = await runCli(args, {
    env,
    ...(opts.now ? { now: opts.now } : {}),
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
        dynamodb: createDynamoDbClient(base),
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
