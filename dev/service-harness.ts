/**
 * Shared set-up for the service, provisioner and expiry suites: what the stacks deploy, seeded into
 * the local AWS stand-in (dev/deployed-roles.ts: deployLocally), the store on DynamoDB Local, and
 * the fake Slack API. `deps()` are the service deps the provisioner's (or the expiry job's) Lambda
 * entry builds (src/service/runtime.ts) from the environment that function gets, signing as its
 * synthesized role; a suite overrides only what it steers (hooks, clock). One per test file
 * (beforeAll); tests keep apart by using fresh Slack user IDs.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import { listGrants } from "../src/aws/access-grants.ts";
import { createIamClient, createS3ControlClient, destroyAwsClients } from "../src/aws/clients.ts";
import type { EnvOf } from "../src/config/env.ts";
import { getTarget } from "../src/config/targets.ts";
import { type ServiceDeps, type ServiceHooks, silentLogger } from "../src/service/deps.ts";
import { provisionRequest } from "../src/service/provision.ts";
import { createServiceRuntime, loadServiceConfig, type SERVICE_ENV } from "../src/service/runtime.ts";
import { createDynamoUserLocks } from "../src/service/user-lock.ts";
import { iamUserNameFor } from "../src/service/users.ts";
import { createDocumentClient } from "../src/store/client.ts";
import { createStores, type Stores } from "../src/store/index.ts";
import type { AccessRequest, NewRequestInput } from "../src/store/types.ts";
import { type DeployedRoles, deployLocally } from "./deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "./dynamodb.ts";
import { type FakeSlack, type SlackCall, startFakeSlack } from "./fake-slack.ts";
import { type LocalAws, type LocalUser, startLocalAws } from "./local-aws/index.ts";

export const TEAM_ID = "T0CYTOSKEL";
export const ADMIN_ID = "UADMIN0001";
export const ADMIN_CHANNEL = "CADMIN0001";
export const SECRET_LINK_BASE = "http://127.0.0.1:9/links";
export const TARGET = getTarget("cpgstaging");

export interface Harness {
  aws: LocalAws;
  /** Each function's synthesized role as seeded in `aws` (the Slack bot token lives at `botTokenArn`). */
  roles: DeployedRoles;
  botTokenArn: string;
  dynamo: LocalDynamo;
  slack: FakeSlack;
  stores: Stores;
  iam: IAMClient;
  s3control: S3ControlClient;
  locationId: string;
  /**
   * Deps of the code under test, signing as the provisioner's synthesized role (or the expiry job's);
   * `overrides` e.g. { hooks, now }.
   */
  deps(overrides?: Partial<ServiceDeps>, as?: ServiceRole): ServiceDeps;
  /** File a request as `userId` and approve it as the admin. */
  approved(userId: string, input?: Partial<NewRequestInput>): Promise<AccessRequest>;
  /**
   * File, approve and provision a request (with `deps`, default the provisioner's); throws unless the
   * provisioning activated it. Returns the approved copy, as `approved` does.
   */
  active(userId: string, input?: Partial<NewRequestInput>, deps?: ServiceDeps): Promise<AccessRequest>;
  /** chat.postMessage calls addressed to the user's DM. */
  dmsTo(userId: string): SlackCall[];
  /** The stand-in's record of this Slack user's IAM user. */
  iamUser(userId: string): LocalUser | undefined;
  /** Live state in the AWS stand-in for this Slack user. */
  awsStateOf(userId: string): {
    exists: boolean;
    keyIds: string[];
    grants: { id: string; subPrefix: string }[];
  };
  grantsOf(userId: string): Promise<{ id: string; subPrefix: string; permission: string }[]>;
  stop(): Promise<void>;
}

let userCounter = 0;
/** A Slack user ID no other test in this process uses. */
export function newUserId(): string {
  userCounter += 1;
  return `U${process.pid.toString(36).toUpperCase()}X${String(userCounter).padStart(4, "0")}`;
}

/** Which function's role the service code runs as (the provisioner's, or the expiry job's). */
export type ServiceRole = "provisioner" | "expiry";

export async function startHarness(opts: { hooks?: ServiceHooks } = {}): Promise<Harness> {
  const [dynamo, slack] = await Promise.all([startDynamo(), startFakeSlack()]);
  // DynamoDB goes through the local AWS, which judges each call by the caller's role.
  const aws = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint });
  // The admin's clients (root): seeding and inspecting, never the code under test.
  const iam = createIamClient({ env: aws.env });
  const s3control = createS3ControlClient({ env: aws.env });
  // What the stacks create in a real account (the bot token in local Secrets Manager, as deployed).
  const deployed = await deployLocally(aws, iam, {
    tableName: dynamo.tableName,
    locationScope: TARGET.locationScope,
    slack: { botToken: "xoxb-test-token" },
  });
  const { roles, locationId } = deployed;
  const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  // The service code's deps as the provisioner's (or the expiry job's) Lambda entry builds them, from
  // the environment that function gets.
  const runtimeOf = async (role: ServiceRole) => {
    const env = {
      ...roles.functions[role].env,
      TABLE_NAME: dynamo.tableName,
      ADMIN_CHANNEL_ID: ADMIN_CHANNEL,
      SLACK_BOT_TOKEN_ARN: deployed.secrets.botTokenArn,
      SLACK_API_URL: slack.apiUrl,
      SLACK_MAX_RETRIES: "0",
      SECRET_LINK_BASE_URL: SECRET_LINK_BASE,
      ACCESS_GRANTS_LOCATION_ID: locationId,
      AWS_ACCOUNT_ID: aws.accountId,
    } satisfies EnvOf<typeof SERVICE_ENV> & Record<string, string>;
    const runtime = await createServiceRuntime(loadServiceConfig(env), env);
    const doc = createDocumentClient(runtime.clients.dynamodb);
    return {
      runtime,
      base: await runtime.deps(),
      // A longer lock wait than Lambda's: these suites race several provisionings on a busy machine.
      locks: createDynamoUserLocks({ doc, tableName: dynamo.tableName, waitMs: 20_000 }),
    };
  };
  const runAs = { provisioner: await runtimeOf("provisioner"), expiry: await runtimeOf("expiry") };

  const deps = (overrides: Partial<ServiceDeps> = {}, as: ServiceRole = "provisioner"): ServiceDeps => ({
    ...runAs[as].base,
    locks: runAs[as].locks,
    log: silentLogger,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    ...overrides,
  });
  const botTokenArn = deployed.secrets.botTokenArn;

  // The stand-in keys users by lower-cased name (IAM names are case-insensitive).
  const userState = (userId: string) =>
    aws.state.iam.users.get(iamUserNameFor(TEAM_ID, userId).toLowerCase());

  const harness: Harness = {
    aws,
    roles,
    botTokenArn,
    dynamo,
    slack,
    stores,
    iam,
    s3control,
    locationId,
    deps,
    async approved(userId, input = {}) {
      const { request } = await stores.requests.create({
        requesterUserId: userId,
        requesterTeamId: TEAM_ID,
        subPrefix: "cpg0042/*",
        permission: "READWRITE",
        durationDays: 30,
        ...input,
      });
      return stores.requests.transition(request.id, {
        from: "PENDING",
        to: "APPROVED",
        actor: { kind: "admin", id: ADMIN_ID },
      });
    },
    async active(userId, input = {}, provisionDeps) {
      const request = await harness.approved(userId, input);
      const result = await provisionRequest(provisionDeps ?? deps(), request.id);
      if (result.outcome !== "activated")
        throw new Error(`provisioning request ${request.id} ended "${result.outcome}", not "activated"`);
      return request;
    },
    dmsTo(userId) {
      return slack.callsTo("chat.postMessage").filter((c) => c.args.channel === userId);
    },
    iamUser: userState,
    awsStateOf(userId) {
      const user = userState(userId);
      if (!user) return { exists: false, keyIds: [], grants: [] };
      const grants = [...(aws.state.accessGrants.get("us-east-1")?.grants.values() ?? [])]
        .filter((g) => g.granteeIdentifier === user.arn)
        .map((g) => ({ id: g.id, subPrefix: g.subPrefix }));
      return { exists: true, keyIds: user.accessKeys.map((k) => k.accessKeyId), grants };
    },
    async grantsOf(userId) {
      const user = userState(userId);
      if (!user) return [];
      const grants = await listGrants(s3control, { accountId: aws.accountId, granteeArn: user.arn });
      return grants.map((g) => ({ id: g.id, subPrefix: g.scope.prefix, permission: g.permission }));
    },
    async stop() {
      roles.close();
      for (const { runtime } of Object.values(runAs)) destroyAwsClients(runtime.clients);
      iam.destroy();
      s3control.destroy();
      await Promise.all([aws.stop(), dynamo.stop(), slack.stop()]);
    },
  };
  return harness;
}

/** IAM calls the stand-in answered since `start` (an index into its request log), as "Operation:status". */
export function iamCallsSince(h: Harness, start: number): string[] {
  return h.aws.state.requests
    .slice(start)
    .filter((r) => r.service === "iam")
    .map((r) => `${r.operation}:${r.status}`);
}
