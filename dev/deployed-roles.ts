// Every function runs as itself: seed the local AWS with each Lambda function's role exactly as `cdk
// synth` writes it (dev/synthesized-policies.ts, resolved to this run's table, secrets,
// instance and location), and the uploaders group with the grants stack's policy. Each function then
// gets temporary credentials of its own role and SDK clients that sign with them, so a policy change in
// cdk/ is what the flow tests exercise. DynamoDB goes through the stand-in, which judges it too.

import {
  AttachGroupPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type AwsClients, createAwsClients, destroyAwsClients } from "../src/aws/clients.ts";
import { createDocumentClient } from "../src/store/client.ts";
import { type LocalAws, type RoleCredentials, seedAccessGrantsLocation } from "./local-aws/index.ts";
import { noteSecret } from "./secrets-seen.ts";
import {
  FUNCTION_CONSTRUCT_IDS,
  type FunctionName,
  functionPolicies,
  type LocalDeployment,
  synthesizedTemplates,
  uploadersGroupPolicies,
} from "./synthesized-policies.ts";

export type { FunctionName } from "./synthesized-policies.ts";
export const FUNCTION_NAMES = Object.keys(FUNCTION_CONSTRUCT_IDS) as FunctionName[];

export interface FunctionIdentity {
  roleArn: string;
  /** The principal AWS sees: arn:aws:sts::ACCOUNT:assumed-role/<role>/<function>. */
  sessionArn: string;
  credentials: RoleCredentials;
  /** The local AWS's env (endpoints, region) with this role's credentials: what Lambda would give it. */
  env: Record<string, string>;
}

export interface DeployedRoles {
  functions: Record<FunctionName, FunctionIdentity>;
  /** SDK clients signing as `fn` (made once per function, destroyed by close()). */
  aws(fn: FunctionName): AwsClients;
  /** A DynamoDB document client signing as `fn`, through the local AWS (so its policy is enforced). */
  doc(fn: FunctionName): DynamoDBDocumentClient;
  close(): void;
}

export interface DeployOptions {
  tableName: string;
  instanceArn: string;
  locationId: string;
  bucketName?: string;
  uploadersGroupName?: string;
  region?: string;
  /** Secrets the functions read (ARNs from LocalAws.putSecret); placeholders when a suite reads none. */
  secrets?: { signingSecretArn?: string; botTokenArn?: string };
}

function placeholderSecretArn(local: LocalAws, region: string, name: string): string {
  return `arn:aws:secretsmanager:${region}:${local.accountId}:secret:${name}-AbCdEf`;
}

function localDeployment(local: LocalAws, opts: DeployOptions): LocalDeployment {
  const region = opts.region ?? "us-east-1";
  return {
    accountId: local.accountId,
    region,
    tableName: opts.tableName,
    secrets: {
      signingSecretArn:
        opts.secrets?.signingSecretArn ?? placeholderSecretArn(local, region, "cytoskel-signing-secret"),
      botTokenArn: opts.secrets?.botTokenArn ?? placeholderSecretArn(local, region, "cytoskel-bot-token"),
    },
    instanceArn: opts.instanceArn,
    locationId: opts.locationId,
    bucketName: opts.bucketName ?? "staging-cellpainting-gallery",
    uploadersGroupName: opts.uploadersGroupName ?? "staging_cpg_uploaders",
  };
}

/**
 * What the grants stack creates for contributors: the uploaders group with its synthesized policy, as
 * a customer managed policy attached to it (CloudFormation's AWS::IAM::ManagedPolicy). Idempotent.
 */
export async function seedUploadersGroup(
  admin: IAMClient,
  local: LocalAws,
  opts: DeployOptions,
): Promise<void> {
  const deployment = localDeployment(local, opts);
  const templates = await synthesizedTemplates();
  const documents = uploadersGroupPolicies(templates, deployment);
  // The stack's managed policy lives under a path (the operator policy reads it by that path).
  const resources = Object.values(
    templates.grants.Resources as Record<string, { Type: string; Properties?: { Path?: string } }>,
  );
  const path = resources.find((r) => r.Type === "AWS::IAM::ManagedPolicy")?.Properties?.Path ?? "/";
  const groupName = deployment.uploadersGroupName;
  if (!local.state.iam.groups.has(groupName.toLowerCase())) {
    await admin.send(new CreateGroupCommand({ GroupName: groupName }));
  }
  for (const [i, document] of documents.entries()) {
    const policyName = `${groupName}-synthesized-${i + 1}`;
    const arn = `arn:aws:iam::${local.accountId}:policy${path}${policyName}`;
    if (!local.state.iam.policies.has(arn)) {
      await admin.send(
        new CreatePolicyCommand({
          PolicyName: policyName,
          Path: path,
          PolicyDocument: JSON.stringify(document),
        }),
      );
    }
    await admin.send(new AttachGroupPolicyCommand({ GroupName: groupName, PolicyArn: arn }));
  }
}

/** Seed each function's synthesized role into `local` and hand out its session credentials. */
export async function deployRoles(local: LocalAws, opts: DeployOptions): Promise<DeployedRoles> {
  const policies = functionPolicies(await synthesizedTemplates(), localDeployment(local, opts));
  const functions = {} as Record<FunctionName, FunctionIdentity>;
  for (const fn of FUNCTION_NAMES) {
    const roleName = `Cytoskel${FUNCTION_CONSTRUCT_IDS[fn]}Role`;
    const docs = Object.fromEntries(policies[fn].map((d, i) => [`${roleName}Policy${i + 1}`, d]));
    const seeded = local.addRole(roleName, docs, { sessionName: `cytoskel-${fn}` });
    functions[fn] = {
      roleArn: seeded.arn,
      sessionArn: seeded.sessionArn,
      credentials: seeded.credentials,
      env: local.envFor(seeded.credentials),
    };
  }
  const clients = new Map<FunctionName, AwsClients>();
  const docs = new Map<FunctionName, DynamoDBDocumentClient>();
  const aws = (fn: FunctionName): AwsClients => {
    let c = clients.get(fn);
    if (!c) {
      c = createAwsClients({ env: functions[fn].env, region: opts.region ?? "us-east-1" });
      clients.set(fn, c);
    }
    return c;
  };
  return {
    functions,
    aws,
    doc(fn) {
      let d = docs.get(fn);
      if (!d) {
        d = createDocumentClient(aws(fn).dynamodb);
        docs.set(fn, d);
      }
      return d;
    },
    close() {
      for (const c of clients.values()) destroyAwsClients(c);
      clients.clear();
      docs.clear();
    },
  };
}

/** What `cdk deploy` leaves in an account, seeded into a local AWS: see deployLocally. */
export interface LocalDeploymentResult {
  locationId: string;
  instanceArn: string;
  /** The Slack secrets' ARNs in the stand-in's Secrets Manager. */
  secrets: { signingSecretArn: string; botTokenArn: string };
  roles: DeployedRoles;
}

/**
 * Everything the two stacks create, in a local AWS: the Access Grants instance and the bucket's
 * location, the Slack secrets (in Secrets Manager, under `secretPrefix`), the uploaders group with its
 * synthesized policy (made by `admin`, the account root) and each function's synthesized role. The
 * playground, the service suites, the bench and the CLI account all start from here.
 */
export async function deployLocally(
  local: LocalAws,
  admin: IAMClient,
  opts: {
    tableName: string;
    region?: string;
    locationScope?: string;
    bucketName?: string;
    uploadersGroupName?: string;
    /** Secret values to seed; a suite that reads none gets placeholders no policy can name wrongly. */
    slack?: { signingSecret?: string; botToken?: string };
    secretPrefix?: string;
  },
): Promise<LocalDeploymentResult> {
  const region = opts.region ?? "us-east-1";
  const { locationId, instanceArn } = seedAccessGrantsLocation(local, {
    region,
    ...(opts.locationScope ? { scope: opts.locationScope } : {}),
  });
  const prefix = opts.secretPrefix ?? "cytoskel";
  noteSecret("signing secret", opts.slack?.signingSecret);
  noteSecret("bot token", opts.slack?.botToken);
  const secrets = {
    signingSecretArn: local.putSecret(
      `${prefix}/slack-signing-secret`,
      opts.slack?.signingSecret ?? "unused",
      {
        region,
      },
    ),
    botTokenArn: local.putSecret(`${prefix}/slack-bot-token`, opts.slack?.botToken ?? "xoxb-unused", {
      region,
    }),
  };
  const deployment: DeployOptions = {
    tableName: opts.tableName,
    instanceArn,
    locationId,
    region,
    secrets,
    ...(opts.bucketName ? { bucketName: opts.bucketName } : {}),
    ...(opts.uploadersGroupName ? { uploadersGroupName: opts.uploadersGroupName } : {}),
  };
  await seedUploadersGroup(admin, local, deployment);
  return { locationId, instanceArn, secrets, roles: await deployRoles(local, deployment) };
}
