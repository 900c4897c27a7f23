// What docs/operator-policy.json must not allow: each call below is made with the operator's keys (real
// SDK clients, the stand-in judging them as AWS would) and must be refused with AWS's AccessDenied,
// naming the action and the resource, with nothing changed. The walkthrough (walkthrough.test.ts)
// shows the other side: everything the CLI needs is allowed, and nothing more is granted.

import { GetItemCommand, PutItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteUserCommand,
  type IAMClient,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateAccessGrantCommand,
  CreateAccessGrantsLocationCommand,
  DeleteAccessGrantsLocationCommand,
  GetDataAccessCommand,
  type S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { seedAccessGrantsLocation } from "../../dev/local-aws/index.ts";
import { createDynamoDbClient, createIamClient, createS3ControlClient } from "../../src/aws/clients.ts";
import {
  type CliAccount,
  DEPLOYED_TABLE_PREFIX,
  runInProcess,
  snapshot,
  startCliAccount,
  writesSince,
} from "./helpers.ts";

const ACCOUNT = "123456789012";
const OPERATOR_ARN = `arn:aws:iam::${ACCOUNT}:user/operator`;
const INSTANCE = `arn:aws:s3:us-east-1:${ACCOUNT}:access-grants/default`;
const ALLOW_ALL = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
});

let account: CliAccount;
let dynamo: LocalDynamo;
let iam: IAMClient;
let s3control: S3ControlClient;
let carolKeyId = "";
let otherLocationId = "";

beforeAll(async () => {
  dynamo = await startDynamo({ tableName: DEPLOYED_TABLE_PREFIX });
  account = await startCliAccount({ dynamo });
  const { local, rootIam } = account;
  // A contributor the operator made through the CLI, an administrator's own user and group, and a
  // location for another bucket (registered by an administrator).
  const created = await runInProcess(["--json", "cpgstaging", "create", "user", "carol"], account);
  expect(created.code).toBe(0);
  carolKeyId = JSON.parse(created.stdout).accessKeyId;
  await rootIam.send(new CreateUserCommand({ UserName: "admin_user" }));
  await rootIam.send(new CreateGroupCommand({ GroupName: "admins" }));
  otherLocationId = seedAccessGrantsLocation(local, { scope: "s3://other-bucket/" }).locationId;
  const base = { env: local.envFor(account.operator.credentials), maxAttempts: 1 };
  iam = createIamClient(base);
  s3control = createS3ControlClient(base);
});

afterAll(async () => {
  iam?.destroy();
  s3control?.destroy();
  await account?.stop();
  await dynamo?.stop();
});

describe("the operator policy refuses what the admin CLI never needs", () => {
  const cases = (): Array<
    [what: string, call: () => Promise<unknown>, action: string, resource: string | RegExp]
  > => [
    [
      "a key for a user outside /cytoskel/ (an administrator's)",
      () => iam.send(new CreateAccessKeyCommand({ UserName: "admin_user" })),
      "iam:CreateAccessKey",
      `arn:aws:iam::${ACCOUNT}:user/admin_user`,
    ],
    [
      "a second key for itself",
      () => iam.send(new CreateAccessKeyCommand({})),
      "iam:CreateAccessKey",
      OPERATOR_ARN,
    ],
    [
      "an inline policy on a contributor",
      () =>
        iam.send(
          new PutUserPolicyCommand({ UserName: "carol", PolicyName: "more", PolicyDocument: ALLOW_ALL }),
        ),
      "iam:PutUserPolicy",
      `arn:aws:iam::${ACCOUNT}:user/cytoskel/carol`,
    ],
    [
      "a managed policy on a contributor",
      () =>
        iam.send(
          new AttachUserPolicyCommand({
            UserName: "carol",
            PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
          }),
        ),
      "iam:AttachUserPolicy",
      `arn:aws:iam::${ACCOUNT}:user/cytoskel/carol`,
    ],
    [
      "reactivating or deactivating a contributor's key (only create, list, delete)",
      () =>
        iam.send(
          new UpdateAccessKeyCommand({ UserName: "carol", AccessKeyId: carolKeyId, Status: "Inactive" }),
        ),
      "iam:UpdateAccessKey",
      `arn:aws:iam::${ACCOUNT}:user/cytoskel/carol`,
    ],
    [
      "a managed policy on the uploaders group",
      () =>
        iam.send(
          new AttachGroupPolicyCommand({
            GroupName: "staging_cpg_uploaders",
            PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
          }),
        ),
      "iam:AttachGroupPolicy",
      `arn:aws:iam::${ACCOUNT}:group/staging_cpg_uploaders`,
    ],
    [
      "a user outside /cytoskel/",
      () => iam.send(new CreateUserCommand({ UserName: "sneaky" })),
      "iam:CreateUser",
      `arn:aws:iam::${ACCOUNT}:user/sneaky`,
    ],
    [
      "membership of another group",
      () => iam.send(new AddUserToGroupCommand({ UserName: "carol", GroupName: "admins" })),
      "iam:AddUserToGroup",
      `arn:aws:iam::${ACCOUNT}:group/admins`,
    ],
    [
      "deleting a user outside /cytoskel/",
      () => iam.send(new DeleteUserCommand({ UserName: "admin_user" })),
      "iam:DeleteUser",
      `arn:aws:iam::${ACCOUNT}:user/admin_user`,
    ],
    [
      "a new managed policy",
      () => iam.send(new CreatePolicyCommand({ PolicyName: "escalate", PolicyDocument: ALLOW_ALL })),
      "iam:CreatePolicy",
      `arn:aws:iam::${ACCOUNT}:policy/escalate`,
    ],
    [
      "a grant outside the staging bucket (s3:AccessGrantScope)",
      () =>
        s3control.send(
          new CreateAccessGrantCommand({
            AccountId: ACCOUNT,
            AccessGrantsLocationId: otherLocationId,
            AccessGrantsLocationConfiguration: { S3SubPrefix: "data/*" },
            Grantee: { GranteeType: "IAM", GranteeIdentifier: `arn:aws:iam::${ACCOUNT}:user/cytoskel/carol` },
            Permission: "READWRITE",
          }),
        ),
      "s3:CreateAccessGrant",
      new RegExp(`^${INSTANCE}/grant/[0-9a-f-]+$`),
    ],
    [
      "registering a location (that is `cdk deploy`'s)",
      () =>
        s3control.send(
          new CreateAccessGrantsLocationCommand({
            AccountId: ACCOUNT,
            LocationScope: "s3://other-bucket/more/",
            IAMRoleArn: `arn:aws:iam::${ACCOUNT}:role/cytoskel-access-grants-location`,
          }),
        ),
      "s3:CreateAccessGrantsLocation",
      new RegExp(`^${INSTANCE}/location/[0-9a-f-]+$`),
    ],
    [
      "removing the bucket's location",
      () =>
        s3control.send(
          new DeleteAccessGrantsLocationCommand({
            AccountId: ACCOUNT,
            AccessGrantsLocationId: account.locationId,
          }),
        ),
      "s3:DeleteAccessGrantsLocation",
      `${INSTANCE}/location/${account.locationId}`,
    ],
    [
      "temporary credentials for the bucket (the operator holds no grant and needs none)",
      () =>
        s3control.send(
          new GetDataAccessCommand({
            AccountId: ACCOUNT,
            Target: "s3://staging-cellpainting-gallery/*",
            Permission: "READ",
          }),
        ),
      "s3:GetDataAccess",
      INSTANCE,
    ],
  ];

  it("each refused with AccessDenied naming the action and the resource; nothing changed", async () => {
    const { local } = account;
    const state = snapshot(local);
    const from = local.state.requests.length;
    for (const [what, call, action, resource] of cases()) {
      const decisions = local.state.authorizations.length;
      const err = (await call().then(
        () => undefined,
        (e: unknown) => e,
      )) as { name?: string; message?: string } | undefined;
      expect(err?.name, what).toBe("AccessDenied");
      const [, said] =
        /^User: (?:\S+) is not authorized to perform: (?:\S+) on resource: (\S+) because /.exec(
          err?.message ?? "",
        ) ?? [];
      expect(err?.message, what).toBe(
        `User: ${OPERATOR_ARN} is not authorized to perform: ${action} on resource: ${said} because no ` +
          `identity-based policy allows the ${action} action`,
      );
      if (typeof resource === "string") expect(said, what).toBe(resource);
      else expect(said, what).toMatch(resource);
      expect(local.state.authorizations.slice(decisions).at(-1), what).toMatchObject({
        principalArn: OPERATOR_ARN,
        action,
        allowed: false,
      });
    }
    expect(snapshot(local)).toEqual(state);
    expect(writesSince(local, from, { succeededOnly: true })).toEqual([]);
  });
});

describe("the operator policy reads nothing of the bot's table but the audit indexes", () => {
  it("refuses Scan, secrets and jobs, and Query of the table or the expiry index; allows Query of the audit indexes and of what close reads", async () => {
    const db = createDynamoDbClient({
      env: account.local.envFor(account.operator.credentials),
      maxAttempts: 1,
    });
    const TableName = dynamo.tableName;
    const tableArn = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${TableName}`;
    const query = (IndexName?: string) =>
      new QueryCommand({
        TableName,
        ...(IndexName ? { IndexName } : {}),
        KeyConditionExpression:
          IndexName === "byRequester" ? "requesterUserId = :v" : IndexName ? "subjectUserId = :v" : "pk = :v",
        ExpressionAttributeValues: { ":v": { S: IndexName ? "U1" : "SECRET#x" } },
      });
    const refused: Array<[string, () => Promise<unknown>, string]> = [
      ["a Scan of the whole table", () => db.send(new ScanCommand({ TableName })), tableArn],
      [
        "a secret's item",
        () => db.send(new GetItemCommand({ TableName, Key: { pk: { S: "SECRET#x" }, sk: { S: "SECRET" } } })),
        tableArn,
      ],
      ["a Query of the table", () => db.send(query()), tableArn],
      [
        "a Query of the expiry index",
        () => db.send(query("byStatusExpiry")),
        `${tableArn}/index/byStatusExpiry`,
      ],
      [
        "writing a secret's item (close writes only requests, their audit events and locks)",
        () =>
          db.send(new PutItemCommand({ TableName, Item: { pk: { S: "SECRET#x" }, sk: { S: "SECRET" } } })),
        tableArn,
      ],
      [
        "a job's item",
        () => db.send(new GetItemCommand({ TableName, Key: { pk: { S: "JOB#x" }, sk: { S: "JOB" } } })),
        tableArn,
      ],
    ];
    try {
      for (const [what, call, resource] of refused) {
        const err = (await call().then(
          () => undefined,
          (e: unknown) => e,
        )) as { name?: string; message?: string } | undefined;
        expect(err?.name, what).toBe("AccessDeniedException");
        expect(err?.message, what).toContain(`on resource: ${resource} `);
      }
      const allowed = await db.send(query("auditByUser"));
      expect(allowed.Items).toEqual([]);
      // close prefix: a person's requests (byRequester) and one request item.
      expect((await db.send(query("byRequester"))).Items).toEqual([]);
      const req = await db.send(
        new GetItemCommand({ TableName, Key: { pk: { S: "REQ#x" }, sk: { S: "META" } } }),
      );
      expect(req.Item).toBeUndefined();
    } finally {
      db.destroy();
    }
  });
});
