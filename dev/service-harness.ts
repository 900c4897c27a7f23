/**
 * Shared set-up for the service, provisioner and expiry suites: real SDK clients against the local AWS
 * stand-in, the store on DynamoDB Local, and a WebClient posting to the fake Slack API. One per
 * test file (beforeAll); tests keep apart by using fresh Slack user IDs.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import { listGrants } from "../src/aws/access-grants.ts";
import { createIamClient, createS3ControlClient } from "../src/aws/clients.ts";
import { getTarget } from "../src/config/targets.ts";
import type { ServiceDeps, ServiceHooks } from "../src/service/deps.ts";
import { createSlackNotifier, createWebClient } from "../src/service/notifier.ts";
import { createDynamoUserLocks } from "../src/service/user-lock.ts";
import { iamUserNameFor } from "../src/service/users.ts";
import { createStores, type Stores } from "../src/store/index.ts";
import type { AccessRequest, NewRequestInput } from "../src/store/types.ts";
import { type DeployedRoles, deployRoles, seedUploadersGroup } from "./deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "./dynamodb.ts";
import { type FakeSlack, type SlackCall, startFakeSlack } from "./fake-slack.ts";
import { type LocalAws, type LocalUser, seedAccessGrantsLocation, startLocalAws } from "./local-aws/index.ts";

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
  const { locationId, instanceArn } = seedAccessGrantsLocation(aws, { scope: TARGET.locationScope });
  // What the grants stack creates in a real account, then each function's synthesized role.
  // The bot token in (local) Secrets Manager, as deployed: the roles' policies name it.
  const botTokenArn = aws.putSecret("cytoskel/slack-bot-token", "xoxb-test-token");
  const deployment = { tableName: dynamo.tableName, instanceArn, locationId, secrets: { botTokenArn } };
  await seedUploadersGroup(iam, aws, deployment);
  const roles = await deployRoles(aws, deployment);
  const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  const web = createWebClient({ token: "xoxb-test-token", slackApiUrl: slack.apiUrl, retries: 0 });
  const notifier = createSlackNotifier(web, { adminChannelId: ADMIN_CHANNEL });
  const asRole = (role: ServiceRole) => {
    const doc = roles.doc(role);
    const roleStores = createStores({ client: doc, tableName: dynamo.tableName });
    const locks = createDynamoUserLocks({ doc, tableName: dynamo.tableName, waitMs: 20_000 });
    return { stores: roleStores, locks, clients: roles.aws(role) };
  };
  const runAs = { provisioner: asRole("provisioner"), expiry: asRole("expiry") };

  const deps = (overrides: Partial<ServiceDeps> = {}, as: ServiceRole = "provisioner"): ServiceDeps => ({
    store: runAs[as].stores.requests,
    secrets: runAs[as].stores.secrets,
    iam: runAs[as].clients.iam,
    s3control: runAs[as].clients.s3control,
    accountId: aws.accountId,
    target: TARGET,
    locationId,
    notifier,
    locks: runAs[as].locks,
    secretLinkBaseUrl: SECRET_LINK_BASE,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    ...overrides,
  });

  // The stand-in keys users by lower-cased name (IAM names are case-insensitive).
  const userState = (userId: string) =>
    aws.state.iam.users.get(iamUserNameFor(TEAM_ID, userId).toLowerCase());

  return {
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
      iam.destroy();
      s3control.destroy();
      await Promise.all([aws.stop(), dynamo.stop(), slack.stop()]);
    },
  };
}

/** IAM calls the stand-in answered since `start` (an index into its request log), as "Operation:status". */
export function iamCallsSince(h: Harness, start: number): string[] {
  return h.aws.state.requests
    .slice(start)
    .filter((r) => r.service === "iam")
    .map((r) => `${r.operation}:${r.status}`);
}
