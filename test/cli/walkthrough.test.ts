// The original tool's walkthrough, through the CLI's real entry point (node dist/cytoskel.mjs, the built bin) as a child
// process against the local AWS stand-in, checking each output and the stand-in's state after it. The
// CLI signs as the IAM user `operator` holding docs/operator-policy.json; the contributor's own keys are
// judged by the uploaders group's synthesized policy. The last block checks the policy against the
// calls the walkthrough made: each was allowed, and every action the policy grants was needed.

import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteGroupPolicyCommand,
  PutGroupPolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import type { LocalAws } from "../../dev/local-aws/index.ts";
import { createGrant } from "../../src/aws/access-grants.ts";
import { createS3ControlClient } from "../../src/aws/clients.ts";
import { deleteUserCompletely } from "../../src/aws/iam-users.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";
import { createStores } from "../../src/store/index.ts";
import {
  BOOKS_NOTE,
  type CliAccount,
  childEnv,
  DEPLOYED_TABLE_PREFIX,
  operatorPolicy,
  runChild,
  snapshot,
  startCliAccount,
  writesSince,
} from "./helpers.ts";

const BUCKET_SCOPE = "s3://staging-cellpainting-gallery/";
let account: CliAccount;
let local: LocalAws;
let locationId: string;
let env: Record<string, string>;
let dynamo: LocalDynamo;

beforeAll(async () => {
  // What `cytoskel cpgstaging up` (the grants stack and the bot's table) would have created, and the operator.
  dynamo = await startDynamo({ tableName: DEPLOYED_TABLE_PREFIX });
  account = await startCliAccount({ dynamo });
  local = account.local;
  locationId = account.locationId;
  env = childEnv(account);
});

afterAll(async () => {
  await account?.stop();
  await dynamo?.stop();
});

describe("admin walkthrough: list location -> create user -> create grant -> list grant -> credentials -> delete grant -> delete user", () => {
  const accountId = "123456789012";
  const userArn = `arn:aws:iam::${accountId}:user/cytoskel/test_user`;
  let accessKeyId = "";
  let secretAccessKey = "";
  let grantId = "";

  it("list location prints the original's line for the registered bucket location", async () => {
    const run = await runChild(["cpgstaging", "list", "location"], env);
    expect(run).toEqual({ code: 0, stdout: `Location: ${BUCKET_SCOPE}, ID: ${locationId}\n`, stderr: "" });
  });

  it("create user makes the user in the uploaders group with one key and prints the secret once", async () => {
    const run = await runChild(["cpgstaging", "create", "user", "test_user"], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`Created user ARN: ${userArn}`);
    expect(lines[1]).toBe("Added to group: staging_cpg_uploaders");
    accessKeyId = /^Access key ID: (\S+)$/.exec(lines[2] ?? "")?.[1] ?? "";
    secretAccessKey = /^Secret access key: (\S+)$/.exec(lines[3] ?? "")?.[1] ?? "";
    expect(lines[4]).toMatch(/^Store the secret access key now .* shown only this once/);
    expect(lines).toHaveLength(5);

    const user = local.state.iam.users.get("test_user");
    expect(user?.path).toBe("/cytoskel/");
    expect([...(user?.groups ?? [])]).toEqual(["staging_cpg_uploaders"]);
    expect(user?.accessKeys.map((k) => [k.accessKeyId, k.secretAccessKey])).toEqual([
      [accessKeyId, secretAccessKey],
    ]);
    // The group is the grants stack's: `create user` only reads it. Its one policy is still the managed
    // GetDataAccess-only policy, and nothing was written onto the group.
    const group = local.state.iam.groups.get("staging_cpg_uploaders");
    expect(group?.inlinePolicies.size).toBe(0);
    const documents = [...(group?.attachedPolicies ?? [])].map((arn) =>
      JSON.parse(local.state.iam.policies.get(arn)?.document ?? "{}"),
    );
    expect(documents).toEqual([
      expect.objectContaining({
        Statement: [
          expect.objectContaining({
            Effect: "Allow",
            Action: "s3:GetDataAccess",
            Resource: `arn:aws:s3:us-east-1:${accountId}:access-grants/default`,
          }),
        ],
      }),
    ]);
    // The secret is on stdout once and nowhere else; a clean group gets no warning.
    expect(run.stdout.split(secretAccessKey)).toHaveLength(2);
    expect(run.stderr).toBe("");
  });

  it("create user warns when someone gave the uploaders group more than GetDataAccess, naming that policy", async () => {
    // By hand, as an administrator: an inline policy that makes members' keys worth stealing.
    await account.rootIam.send(
      new PutGroupPolicyCommand({
        GroupName: "staging_cpg_uploaders",
        PolicyName: "added-by-hand",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
        }),
      }),
    );
    try {
      const run = await runChild(["cpgstaging", "create", "user", "warned_user"], env);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe(
        "Warning: group staging_cpg_uploaders has other policies besides GetDataAccess (added-by-hand); " +
          "its members' keys are worth more than they should be.\n",
      );
    } finally {
      await account.rootIam.send(
        new DeleteGroupPolicyCommand({ GroupName: "staging_cpg_uploaders", PolicyName: "added-by-hand" }),
      );
      await deleteUserCompletely({ iam: account.rootIam }, "warned_user");
    }
  });

  it("list user prints the managed user's ARN, and --json parses", async () => {
    const run = await runChild(["cpgstaging", "list", "user"], env);
    expect(run).toEqual({ code: 0, stdout: `${userArn}\n`, stderr: "" });
    const json = await runChild(["cpgstaging", "list", "user", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual({
      all: false,
      users: [expect.objectContaining({ userName: "test_user", arn: userArn, path: "/cytoskel/" })],
    });
    expect(json.stdout).not.toContain(secretAccessKey);
  });

  it("create grant normalises the prefix and prints the grant ARN", async () => {
    const run = await runChild(["cpgstaging", "create", "grant", userArn, locationId, "cpg0042"], env);
    expect(run.code).toBe(0);
    const grants = [...(local.state.accessGrants.get("us-east-1")?.grants.values() ?? [])];
    expect(grants).toHaveLength(1);
    const grant = grants[0];
    grantId = grant?.id ?? "";
    expect(grant).toMatchObject({
      granteeType: "IAM",
      granteeIdentifier: userArn,
      locationId,
      subPrefix: "cpg0042/*",
      permission: "READWRITE",
    });
    expect(run.stdout).toBe(
      `Created grant with ARN: ${grant?.arn}\n` +
        `Grant ID: ${grantId}, Grantee: ${userArn}, Scope: ${BUCKET_SCOPE}cpg0042/*, Permission: READWRITE\n`,
    );
    // Without a table the books are not written, and the one line says so (on stderr: stdout is the original's).
    expect(run.stderr).toBe(BOOKS_NOTE);
  });

  it("list grant shows grantee, scope and permission", async () => {
    const run = await runChild(["cpgstaging", "list", "grant"], env);
    expect(run).toEqual({
      code: 0,
      stdout: `Grant ID: ${grantId}, Grantee: ${userArn}, Scope: ${BUCKET_SCOPE}cpg0042/*, Permission: READWRITE\n`,
      stderr: "",
    });
  });

  it("credentials (with the user's own keys) prints credential_process JSON for the granted prefix", async () => {
    const userEnv = childEnv(account, {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
    });
    const run = await runChild(
      ["credentials", "--prefix", "cpg0042/", "--duration", "90m", "--format", "credential-process"],
      userEnv,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc)).toEqual([
      "Version",
      "AccessKeyId",
      "SecretAccessKey",
      "SessionToken",
      "Expiration",
    ]);
    expect(doc.Version).toBe(1);
    expect(new Date(doc.Expiration).toISOString()).toBe(doc.Expiration);
    const call = local.state.dataAccessCalls.at(-1);
    expect(call).toMatchObject({
      callerArn: userArn,
      target: `${BUCKET_SCOPE}cpg0042/*`,
      permission: "READWRITE",
      durationSeconds: 5400,
      grantId,
    });
    expect(doc.Expiration).toBe(call?.expiration.toISOString());
    // The contributor's keys are judged by the uploaders group's policy alone.
    expect(local.state.authorizations.filter((a) => a.principalArn === userArn)).toEqual([
      expect.objectContaining({
        action: "s3:GetDataAccess",
        resource: `arn:aws:s3:us-east-1:${accountId}:access-grants/default`,
        allowed: true,
      }),
    ]);
  });

  it("delete grant removes it and prints the original's line", async () => {
    const run = await runChild(["cpgstaging", "delete", "grant", grantId], env);
    expect(run).toEqual({ code: 0, stdout: `Deleted grant with ID: ${grantId}\n`, stderr: BOOKS_NOTE });
    expect(local.state.accessGrants.get("us-east-1")?.grants.size).toBe(0);
  });

  it("delete user also removes the user's grants, keys and group membership", async () => {
    // A second grant, so there is something for delete user to clean up (via --json, which must parse).
    const created = await runChild(
      [
        "cpgstaging",
        "create",
        "grant",
        userArn,
        locationId,
        "cpg0042/sub/*",
        "--permission",
        "read",
        "--json",
      ],
      env,
    );
    expect(created.code).toBe(0);
    const { grant } = JSON.parse(created.stdout);
    expect(grant).toMatchObject({
      permission: "READ",
      scope: `${BUCKET_SCOPE}cpg0042/sub/*`,
      granteeArn: userArn,
    });

    // Everything else that blocks DeleteUser, put there by an administrator (the root), so that every
    // clean-up call of `delete user` is made (and judged) once.
    const root = account.rootIam;
    await root.send(
      new PutUserPolicyCommand({
        UserName: "test_user",
        PolicyName: "stray-inline",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
        }),
      }),
    );
    const stray = await root.send(
      new CreatePolicyCommand({
        PolicyName: "stray-managed",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
        }),
      }),
    );
    await root.send(new AttachUserPolicyCommand({ UserName: "test_user", PolicyArn: stray.Policy?.Arn }));
    await root.send(new CreateLoginProfileCommand({ UserName: "test_user", Password: "Not-used-1234567" }));
    // The stand-in has no calls that make these; seeded the way IAM would list them.
    const seeded = local.state.iam.users.get("test_user");
    seeded?.mfaDevices.push(`arn:aws:iam::${accountId}:mfa/test_user`);
    seeded?.signingCertificates.push("TESTSIGNINGCERTIFICATE0000000001");
    seeded?.sshPublicKeys.push("APKATESTSSHPUBLICKEY01");

    const run = await runChild(["cpgstaging", "delete", "user", "test_user"], env);
    expect(run).toEqual({
      code: 0,
      stdout: `Deleted grant with ID: ${grant.id}\nUser with username: test_user is deleted\n`,
      stderr: BOOKS_NOTE,
    });
    // Only the operator is left.
    expect([...local.state.iam.users.values()].map((u) => u.userName)).toEqual(["operator"]);
    expect(local.state.accessGrants.get("us-east-1")?.grants.size).toBe(0);
    expect([...(local.state.iam.groups.get("staging_cpg_uploaders")?.members ?? [])]).toEqual([]);
  });

  it("audit reads the bot's trail by person and by prefix (CYTOSKEL_TABLE_NAME names the table)", async () => {
    const withTable = { ...env, CYTOSKEL_TABLE_NAME: dynamo.tableName };
    const byUser = await runChild(["cpgstaging", "audit", "--user", "UNOBODY"], withTable);
    expect(byUser).toEqual({ code: 0, stdout: "", stderr: "No audit events match.\n" });
    const byPrefix = await runChild(["--json", "cpgstaging", "audit", "--prefix", "cpg0042/"], withTable);
    expect(byPrefix.code).toBe(0);
    expect(JSON.parse(byPrefix.stdout)).toEqual({ table: dynamo.tableName, prefix: "cpg0042/*", events: [] });
  });
});

describe("exit codes through the real entry point", () => {
  it("an unknown subcommand is a usage error (exit 2) with one line naming what is allowed; nothing sent", async () => {
    const before = local.state.requests.length;
    const run = await runChild(["cpgstaging", "list", "buckets"], env);
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'Error: unknown command "buckets" for "cytoskel cpgstaging list"; allowed: location, user, grant\n',
    });
    expect(local.state.requests.length).toBe(before);
  });

  it("a missing grant is a failure (exit 1); --debug adds the stack trace; nothing changed", async () => {
    const state = snapshot(local);
    const from = local.state.requests.length;
    const run = await runChild(
      ["--debug", "cpgstaging", "delete", "grant", "0d5bdb5a-0000-4000-8000-000000000000"],
      env,
    );
    expect(run.code).toBe(1);
    const [first, ...rest] = run.stderr.split("\n");
    expect(first).toBe(
      'Error: access grant "0d5bdb5a-0000-4000-8000-000000000000" does not exist (see "cytoskel cpgstaging list grant")',
    );
    expect(rest.join("\n")).toMatch(/NoSuchGrantError[\s\S]*at /);
    expect(snapshot(local)).toEqual(state);
    expect(writesSince(local, from)).toEqual(["DeleteAccessGrant"]);
  });
});

describe("close prefix: a dataset closed from the CLI with the operator's keys", () => {
  const CLOSER = "UCLOSE01";
  const closerUser = `slack-T0CYTOSKEL-${CLOSER}`;
  let requestId = "";
  let handGrantId = "";
  let closerGrantId = "";

  beforeAll(async () => {
    // Seeded as an administrator / the bot would have left it: an ACTIVE request with its user and grant,
    // a grant by hand to a role, and a sibling prefix's grant that must survive.
    const rootIam = account.rootIam;
    await rootIam.send(new CreateUserCommand({ UserName: closerUser, Path: "/cytoskel/" }));
    await rootIam.send(
      new AddUserToGroupCommand({ UserName: closerUser, GroupName: "staging_cpg_uploaders" }),
    );
    const s3control = createS3ControlClient({ env: local.env, maxAttempts: 1 });
    const grant = (prefix: string, granteeArn: string) =>
      createGrant(s3control, {
        accountId: local.accountId,
        location: { id: locationId, scope: BUCKET_SCOPE },
        scope: GrantScope.of("staging-cellpainting-gallery", prefix),
        permission: "READWRITE",
        granteeArn,
      });
    const closerArn = `arn:aws:iam::${local.accountId}:user/cytoskel/${closerUser}`;
    closerGrantId = (await grant("cpg0099/*", closerArn)).id;
    handGrantId = (await grant("cpg0099/manual/*", `arn:aws:iam::${local.accountId}:role/hand-made`)).id;
    await grant("cpg00991/*", `arn:aws:iam::${local.accountId}:role/hand-made`);
    s3control.destroy();
    const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
    const { request } = await stores.requests.create({
      requesterUserId: CLOSER,
      requesterTeamId: "T0CYTOSKEL",
      subPrefix: "cpg0099/*",
      permission: "READWRITE",
      durationDays: 30,
    });
    await stores.requests.transition(request.id, {
      from: "PENDING",
      to: "APPROVED",
      actor: { kind: "admin", id: "UADMIN" },
    });
    await stores.requests.transition(request.id, {
      from: "APPROVED",
      to: "ACTIVE",
      actor: { kind: "system", id: "provisioner" },
    });
    requestId = request.id;
  });

  it("revokes through the revoke path, deletes the hand-made grant, prints who had access and says nobody was told", async () => {
    const withTable = { ...env, CYTOSKEL_TABLE_NAME: dynamo.tableName };
    const run = await runChild(
      ["cpgstaging", "close", "prefix", "cpg0099/", "--reason", "published", "--admin", "UOPERATOR"],
      withTable,
    );
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      "Closed s3://staging-cellpainting-gallery/cpg0099/*",
      `Person: ${CLOSER}, Had: cpg0099/*, Revoked: cpg0099/*, Requests ended: ${requestId}, Grants deleted: ${closerGrantId}, IAM user deleted`,
      `Grant ID: ${handGrantId}, Grantee: arn:aws:iam::${local.accountId}:role/hand-made, Scope: cpg0099/manual/*, Permission: READWRITE, deleted`,
      "",
    ]);
    expect(run.stderr).toContain(
      `Nobody was told in Slack (set SLACK_BOT_TOKEN and CYTOSKEL_ADMIN_CHANNEL_ID`,
    );
    expect(run.stderr).toContain(`tell ${CLOSER} yourself`);
    const stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
    expect((await stores.requests.get(requestId))?.status).toBe("REVOKED");
    const events = (await stores.audit.listForRequest(requestId)).items;
    expect(
      events.some((e) => e.to === "REVOKED" && e.reason === "published" && e.actor.id === "UOPERATOR"),
    ).toBe(true);
    const left = [...(local.state.accessGrants.get("us-east-1")?.grants.values() ?? [])].map((g) => g.scope);
    expect(left.filter((p) => p.includes("cpg0099"))).toEqual([`${BUCKET_SCOPE}cpg00991/*`]);
    expect(local.state.iam.users.get(closerUser.toLowerCase())).toBeUndefined();
  });

  it("a second run (--json) finds nothing left and changes nothing", async () => {
    const withTable = { ...env, CYTOSKEL_TABLE_NAME: dynamo.tableName };
    const before = snapshot(local);
    const run = await runChild(["--json", "cpgstaging", "close", "prefix", "cpg0099/*"], withTable);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      bucket: "staging-cellpainting-gallery",
      prefix: "cpg0099/*",
      people: [],
      otherGrants: [],
      failures: [],
      posted: false,
      slackNotified: false,
    });
    expect(snapshot(local)).toEqual(before);
  });

  it("the whole bucket is a usage error (exit 2) and nothing is sent", async () => {
    const before = local.state.requests.length;
    const run = await runChild(["cpgstaging", "close", "prefix", "*"], {
      ...env,
      CYTOSKEL_TABLE_NAME: dynamo.tableName,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("never the whole bucket");
    expect(local.state.requests.length).toBe(before);
  });
});

// Runs after the blocks above (a file's tests run in order), so the stand-in's authorization log holds
// every call the walkthrough made.
describe("docs/operator-policy.json against the walkthrough's calls", () => {
  const operatorCalls = () =>
    local.state.authorizations.filter((a) => a.principalArn === account.operator.arn);
  /** Grant IDs are made at run time. */
  const shown = (resource: string) => resource.replace(/\/grant\/[0-9a-f-]+$/, "/grant/<id>");

  it("every call the CLI made as the operator was allowed, on exactly these actions and resources", () => {
    const calls = operatorCalls();
    expect(calls.filter((c) => !c.allowed)).toEqual([]);
    const instance = "arn:aws:s3:us-east-1:123456789012:access-grants/default";
    const user = "arn:aws:iam::123456789012:user/cytoskel/test_user";
    const group = "arn:aws:iam::123456789012:group/staging_cpg_uploaders";
    const policy = "arn:aws:iam::123456789012:policy/cytoskel/staging_cpg_uploaders-synthesized-1";
    const warned = "arn:aws:iam::123456789012:user/cytoskel/warned_user";
    const audit = `arn:aws:dynamodb:us-east-1:123456789012:table/${dynamo.tableName}/index`;
    const table = `arn:aws:dynamodb:us-east-1:123456789012:table/${dynamo.tableName}`;
    const closed = "arn:aws:iam::123456789012:user/cytoskel/slack-T0CYTOSKEL-UCLOSE01";
    expect([...new Set(calls.map((c) => `${c.action} ${shown(c.resource)}`))].sort()).toEqual(
      [
        // list location / list grant / create grant / delete user
        `s3:ListAccessGrantsLocations ${instance}`,
        `s3:ListAccessGrants ${instance}`,
        // create user
        `s3:GetAccessGrantsInstance ${instance}`,
        `iam:CreateUser ${user}`,
        `iam:TagUser ${user}`,
        `iam:GetGroup ${group}`,
        `iam:ListGroupPolicies ${group}`,
        `iam:GetGroupPolicy ${group}`,
        `iam:ListAttachedGroupPolicies ${group}`,
        `iam:GetPolicy ${policy}`,
        `iam:GetPolicyVersion ${policy}`,
        `iam:AddUserToGroup ${group}`,
        `iam:CreateAccessKey ${user}`,
        // create user, with a warning about the group
        `iam:CreateUser ${warned}`,
        `iam:TagUser ${warned}`,
        `iam:CreateAccessKey ${warned}`,
        // list user
        "iam:ListUsers *",
        // create grant
        `iam:GetUser ${user}`,
        `s3:CreateAccessGrant ${instance}/grant/<id>`,
        // delete grant (also the one that does not exist)
        `s3:DeleteAccessGrant ${instance}/grant/<id>`,
        // audit
        `dynamodb:Query ${audit}/auditByUser`,
        `dynamodb:Query ${audit}/auditByDataset`,
        // close prefix: the requests it ends, the person's lock and audit events; then the revoke path
        // tears down the closed person's user (the group and grant actions are listed above)
        `dynamodb:Query ${audit}/byStatus`,
        `dynamodb:Query ${audit}/byRequester`,
        `dynamodb:GetItem ${table}`,
        `dynamodb:PutItem ${table}`,
        `dynamodb:UpdateItem ${table}`,
        `dynamodb:DeleteItem ${table}`,
        ...[
          "GetUser",
          "ListGroupsForUser",
          "ListAccessKeys",
          "ListUserPolicies",
          "ListAttachedUserPolicies",
          "ListMFADevices",
          "ListSigningCertificates",
          "ListSSHPublicKeys",
          "DeleteLoginProfile",
          "DeleteUser",
        ].map((action) => `iam:${action} ${closed}`),
        // delete user
        `iam:ListGroupsForUser ${user}`,
        `iam:ListAccessKeys ${user}`,
        `iam:DeleteAccessKey ${user}`,
        `iam:RemoveUserFromGroup ${group}`,
        `iam:ListUserPolicies ${user}`,
        `iam:DeleteUserPolicy ${user}`,
        `iam:ListAttachedUserPolicies ${user}`,
        `iam:DetachUserPolicy ${user}`,
        `iam:ListMFADevices ${user}`,
        `iam:DeactivateMFADevice ${user}`,
        `iam:ListSigningCertificates ${user}`,
        `iam:DeleteSigningCertificate ${user}`,
        `iam:ListSSHPublicKeys ${user}`,
        `iam:DeleteSSHPublicKey ${user}`,
        `iam:DeleteLoginProfile ${user}`,
        `iam:DeleteUser ${user}`,
      ].sort(),
    );
    // Grants were made inside the bucket only (what the policy's s3:AccessGrantScope condition allows).
    expect(
      calls.filter((c) => c.action === "s3:CreateAccessGrant").map((c) => c.context["s3:AccessGrantScope"]),
    ).toEqual([`${BUCKET_SCOPE}cpg0042/*`, `${BUCKET_SCOPE}cpg0042/sub/*`]);
  });

  it("needs every action of every statement: without any one of them a recorded call is denied", () => {
    const calls = operatorCalls();
    const policy = operatorPolicy(local.accountId);
    const judge = (statements: object[], call: (typeof calls)[number]) =>
      runUnsafeSimulation(
        {
          request: {
            principal: account.operator.arn,
            action: call.action,
            resource: { resource: call.resource, accountId: local.accountId },
            contextVariables: call.context,
          },
          identityPolicies: [{ name: "operator", policy: { Version: "2012-10-17", Statement: statements } }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
    // The re-judging agrees with the stand-in on the whole policy.
    for (const call of calls) expect(judge(policy.Statement, call), call.action).toBe("Allowed");
    const unneeded: string[] = [];
    for (const [i, statement] of policy.Statement.entries()) {
      for (const action of [statement.Action].flat()) {
        const rest = [statement.Action].flat().filter((a) => a !== action);
        const without = policy.Statement.flatMap((st, k) =>
          k !== i ? [st] : rest.length > 0 ? [{ ...st, Action: rest }] : [],
        );
        if (!calls.some((c) => judge(without, c) !== "Allowed")) unneeded.push(`${statement.Sid}: ${action}`);
      }
    }
    expect(unneeded).toEqual([]);
  });
});
