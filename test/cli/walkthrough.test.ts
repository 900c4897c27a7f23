// The original tool's walkthrough, through the CLI's real entry point (node bin/cytoskel.js) as a child
// process against the local AWS stand-in, checking each output and the stand-in's state after it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "../support/local-aws/index.ts";
import { childEnv, runChild, snapshot, writesSince } from "./helpers.ts";

const BUCKET_SCOPE = "s3://staging-cellpainting-gallery/";
let local: LocalAws;
let locationId: string;
let env: Record<string, string>;

beforeAll(async () => {
  local = await startLocalAws();
  // What `cytoskel cpgstaging up` (the grants stack) would have created.
  locationId = seedAccessGrantsLocation(local).locationId;
  env = childEnv(local);
});

afterAll(async () => {
  await local?.stop();
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
    const group = local.state.iam.groups.get("staging_cpg_uploaders");
    const policy = JSON.parse([...(group?.inlinePolicies.values() ?? [])][0] ?? "{}");
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Action: "s3:GetDataAccess",
        Resource: `arn:aws:s3:us-east-1:${accountId}:access-grants/default`,
      }),
    ]);
    // The secret is on stdout once and nowhere else.
    expect(run.stdout.split(secretAccessKey)).toHaveLength(2);
    expect(run.stderr).not.toContain(secretAccessKey);
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
    expect(run.stderr).toBe("");
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
    const userEnv = childEnv(local, {
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
  });

  it("delete grant removes it and prints the original's line", async () => {
    const run = await runChild(["cpgstaging", "delete", "grant", grantId], env);
    expect(run).toEqual({ code: 0, stdout: `Deleted grant with ID: ${grantId}\n`, stderr: "" });
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

    const run = await runChild(["cpgstaging", "delete", "user", "test_user"], env);
    expect(run).toEqual({
      code: 0,
      stdout: `Deleted grant with ID: ${grant.id}\nUser with username: test_user is deleted\n`,
      stderr: "",
    });
    expect(local.state.iam.users.size).toBe(0);
    expect(local.state.accessGrants.get("us-east-1")?.grants.size).toBe(0);
    expect([...(local.state.iam.groups.get("staging_cpg_uploaders")?.members ?? [])]).toEqual([]);
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
