// The local AWS judges every call by the caller's IAM policies, as AWS does: principals from SigV4 keys,
// resource ARNs from the Service Authorization Reference, AWS's denial codes and messages, and a denied
// call changes nothing. DynamoDB is judged too (item by item in transactions, LeadingKeys, index ARNs).
import { CreateGroupCommand, CreateUserCommand, GetUserCommand } from "@aws-sdk/client-iam";
import { CreateAccessGrantCommand } from "@aws-sdk/client-s3-control";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "../../dev/local-aws/index.ts";
import { createAwsClients } from "../../src/aws/clients.ts";
import { createDocumentClient } from "../../src/store/client.ts";
import { INDEX } from "../../src/store/table.ts";

let local: LocalAws;
let dynamo: LocalDynamo;
let locationId: string;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  dynamo = await startDynamo();
  local = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint });
  ({ locationId } = seedAccessGrantsLocation(local));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await local.stop();
  await dynamo.stop();
});

const ACCOUNT = () => local.accountId;
const tableArn = () => `arn:aws:dynamodb:us-east-1:${ACCOUNT()}:table/${dynamo.tableName}`;

function allow(action: string | string[], resource: string | string[], condition?: object) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: action, Resource: resource, ...(condition ? { Condition: condition } : {}) },
    ],
  };
}

/** Clients signing as a fresh role session with these policies. */
function asRole(name: string, policies: Record<string, object>) {
  const { credentials, sessionArn } = local.addRole(name, policies as never);
  const aws = createAwsClients({ env: local.envFor(credentials) });
  const doc = createDocumentClient(aws.dynamodb);
  clients.push(...Object.values(aws));
  return { aws, doc, sessionArn, credentials };
}

async function caught(
  p: Promise<unknown>,
): Promise<{ name?: string; message?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  throw new Error("expected the call to fail");
}

describe("IAM authorization", () => {
  it("judges a call naming a missing user on user/NAME without its path: a path-scoped policy gets 403 AccessDenied, not NoSuchEntity", async () => {
    const role = asRole("PathScoped", {
      users: allow(["iam:GetUser", "iam:CreateUser"], `arn:aws:iam::${ACCOUNT()}:user/cytoskel/*`),
    });
    const err = await caught(role.aws.iam.send(new GetUserCommand({ UserName: "slack-T1-U1" })));
    expect(err.name).toBe("AccessDenied");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: ${role.sessionArn} is not authorized to perform: iam:GetUser on resource: arn:aws:iam::${ACCOUNT()}:user/slack-T1-U1 because no identity-based policy allows the iam:GetUser action`,
    );
    // Created under the path, the same user is judged on user/cytoskel/NAME and allowed.
    await role.aws.iam.send(new CreateUserCommand({ UserName: "slack-T1-U1", Path: "/cytoskel/" }));
    const out = await role.aws.iam.send(new GetUserCommand({ UserName: "slack-T1-U1" }));
    expect(out.User?.Arn).toBe(`arn:aws:iam::${ACCOUNT()}:user/cytoskel/slack-T1-U1`);
  });

  it("a denied call changes nothing", async () => {
    const role = asRole("NoGroups", { users: allow("iam:CreateUser", "*") });
    const err = await caught(role.aws.iam.send(new CreateGroupCommand({ GroupName: "not-allowed" })));
    expect(err.name).toBe("AccessDenied");
    expect(local.state.iam.groups.has("not-allowed")).toBe(false);
  });

  it("an explicit Deny wins over an Allow and says so", async () => {
    const role = asRole("Denied", {
      all: allow("iam:*", "*"),
      deny: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Action: "iam:CreateUser", Resource: "*" }],
      },
    });
    const err = await caught(role.aws.iam.send(new CreateUserCommand({ UserName: "nope" })));
    expect(err.message).toContain("with an explicit deny in an identity-based policy");
  });

  it("refuses a key it never issued, and a role session whose token is missing", async () => {
    const stranger = new STSClient({
      endpoint: local.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" },
    });
    clients.push(stranger);
    expect((await caught(stranger.send(new GetCallerIdentityCommand({})))).name).toBe("InvalidClientTokenId");
    const { credentials } = local.addRole("Tokenless", {});
    const tokenless = new STSClient({
      endpoint: local.url,
      region: "us-east-1",
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    });
    clients.push(tokenless);
    expect((await caught(tokenless.send(new GetCallerIdentityCommand({})))).name).toBe(
      "InvalidClientTokenId",
    );
  });

  it("refuses a role session's temporary credentials once they expired (ExpiredToken)", async () => {
    const role = asRole("ShortLived", {});
    const session = local.state.iam.roleSessions.get(role.credentials.accessKeyId);
    if (!session) throw new Error("no session");
    session.expiresAt = new Date(Date.now() - 1000);
    expect((await caught(role.aws.sts.send(new GetCallerIdentityCommand({})))).name).toBe("ExpiredToken");
  });

  it("answers GetCallerIdentity to any valid principal, with the assumed-role ARN for a role session", async () => {
    const role = asRole("NothingAllowed", {});
    const me = await role.aws.sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(role.sessionArn);
  });
});

describe("S3 Control authorization", () => {
  const grantInput = (subPrefix: string) => ({
    AccountId: local.accountId,
    AccessGrantsLocationId: locationId,
    AccessGrantsLocationConfiguration: { S3SubPrefix: subPrefix },
    Grantee: { GranteeType: "IAM" as const, GranteeIdentifier: `arn:aws:iam::${ACCOUNT()}:user/cytoskel/x` },
    Permission: "READ" as const,
  });

  it("judges CreateAccessGrant on the grant ARN: a policy on the instance and location is denied", async () => {
    const instance = `arn:aws:s3:us-east-1:${ACCOUNT()}:access-grants/default`;
    const role = asRole("InstanceOnly", {
      p: allow("s3:CreateAccessGrant", [instance, `${instance}/location/${locationId}`]),
    });
    const before = local.state.accessGrants.get("us-east-1")?.grants.size;
    const err = await caught(role.aws.s3control.send(new CreateAccessGrantCommand(grantInput("cpg0001/*"))));
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toMatch(
      /s3:CreateAccessGrant on resource: arn:aws:s3:us-east-1:\d+:access-grants\/default\/grant\//,
    );
    expect(local.state.accessGrants.get("us-east-1")?.grants.size).toBe(before);
  });

  it("evaluates s3:AccessGrantScope on the scope the grant would have", async () => {
    const grants = `arn:aws:s3:us-east-1:${ACCOUNT()}:access-grants/default/grant/*`;
    const role = asRole("ScopedGrants", {
      p: allow("s3:CreateAccessGrant", grants, {
        StringLike: { "s3:AccessGrantScope": "s3://staging-cellpainting-gallery/cpg0042/*" },
      }),
    });
    const ok = await role.aws.s3control.send(new CreateAccessGrantCommand(grantInput("cpg0042/plate1/*")));
    expect(ok.GrantScope).toBe("s3://staging-cellpainting-gallery/cpg0042/plate1/*");
    const err = await caught(role.aws.s3control.send(new CreateAccessGrantCommand(grantInput("cpg0099/*"))));
    expect(err.name).toBe("AccessDenied");
  });
});

describe("Secrets Manager authorization", () => {
  it("answers AccessDeniedException 400 for a secret the role may not read", async () => {
    const allowed = local.putSecret("cytoskel/allowed", "v1");
    const other = local.putSecret("cytoskel/other", "v2");
    const role = asRole("OneSecret", { p: allow("secretsmanager:GetSecretValue", allowed) });
    expect(
      (await role.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: allowed }))).SecretString,
    ).toBe("v1");
    const err = await caught(role.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: other })));
    expect(err.name).toBe("AccessDeniedException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toContain(`secretsmanager:GetSecretValue on resource: ${other}`);
  });
});

describe("DynamoDB authorization", () => {
  it("judges dynamodb:LeadingKeys on the item's partition key", async () => {
    const role = asRole("SecretsOnly", {
      p: allow(["dynamodb:GetItem", "dynamodb:PutItem"], tableArn(), {
        "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["SECRET#*"] },
      }),
    });
    const TableName = dynamo.tableName;
    await role.doc.send(new PutCommand({ TableName, Item: { pk: "SECRET#1", sk: "SECRET" } }));
    const err = await caught(role.doc.send(new GetCommand({ TableName, Key: { pk: "REQ#1", sk: "META" } })));
    expect(err.name).toBe("AccessDeniedException");
    expect(err.message).toContain(`dynamodb:GetItem on resource: ${tableArn()}`);
  });

  it("authorizes TransactWriteItems item by item: one denied item refuses the whole transaction, nothing written", async () => {
    const role = asRole("PutOnly", { p: allow("dynamodb:PutItem", tableArn()) });
    const TableName = dynamo.tableName;
    const err = await caught(
      role.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { pk: "TX#1", sk: "A" } } },
            {
              Update: {
                TableName,
                Key: { pk: "TX#2", sk: "B" },
                UpdateExpression: "SET x = :x",
                ExpressionAttributeValues: { ":x": 1 },
              },
            },
          ],
        }),
      ),
    );
    expect(err.message).toContain("dynamodb:UpdateItem");
    expect(
      (await dynamo.doc.send(new GetCommand({ TableName, Key: { pk: "TX#1", sk: "A" } }))).Item,
    ).toBeUndefined();
    const decisions = local.state.authorizations.filter((a) => a.principalArn === role.sessionArn);
    expect(decisions.map((d) => [d.action, d.context["dynamodb:EnclosingOperation"], d.allowed])).toEqual([
      ["dynamodb:PutItem", "TransactWriteItems", true],
      ["dynamodb:UpdateItem", "TransactWriteItems", false],
    ]);
  });

  it("judges a query on an index on the index ARN, not the table's", async () => {
    const role = asRole("TableOnly", { p: allow("dynamodb:Query", tableArn()) });
    const err = await caught(
      role.doc.send(
        new QueryCommand({
          TableName: dynamo.tableName,
          IndexName: INDEX.byStatus,
          KeyConditionExpression: "#s = :s",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":s": "PENDING" },
        }),
      ),
    );
    expect(err.message).toContain(`dynamodb:Query on resource: ${tableArn()}/index/${INDEX.byStatus}`);
  });
});
