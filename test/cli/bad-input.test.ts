// Bad input for every command, run in-process through runCli (the same wiring as the real entry point)
// with real SDK clients against the local AWS stand-in: exact message, exit code, and nothing changed.
// The CLI signs as the operator (docs/operator-policy.json); contributors with their own keys.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateUserCommand,
  DetachGroupPolicyCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, seedAccessGrantsLocation } from "../../dev/local-aws/index.ts";
import type { UpPlan } from "../../src/cli/commands/up.ts";
import {
  BOOKS_NOTE,
  type CliAccount,
  type Keys,
  ROOT_KEYS,
  runInProcess,
  snapshot,
  startCliAccount,
  writesSince,
} from "./helpers.ts";

const ACCOUNT = "123456789012";
const ALICE_ARN = `arn:aws:iam::${ACCOUNT}:user/cytoskel/alice`;
const SCOPE = "s3://staging-cellpainting-gallery/";
const OPERATOR_ARN = `arn:aws:iam::${ACCOUNT}:user/operator`;
let account: CliAccount;
let local: LocalAws;
let loc = "";
let alice: Keys = { accessKeyId: "", secretAccessKey: "" };

beforeAll(async () => {
  account = await startCliAccount();
  local = account.local;
  loc = account.locationId;
  const created = await runInProcess(["--json", "cpgstaging", "create", "user", "alice"], account);
  expect(created.code).toBe(0);
  const doc = JSON.parse(created.stdout);
  alice = { accessKeyId: doc.accessKeyId, secretAccessKey: doc.secretAccessKey };
  const granted = await runInProcess(["cpgstaging", "create", "grant", ALICE_ARN, loc, "cpg0042/*"], account);
  expect(granted.code).toBe(0);
});

afterAll(async () => {
  await account?.stop();
});

// Built lazily: the location ID is only known once the stand-in is seeded.
const usageCases = (): Array<[args: string[], message: string]> => [
  [
    ["cpgstaging", "frobnicate"],
    'unknown command "frobnicate" for "cytoskel cpgstaging"; allowed: up, list, create, delete, sync, audit, close',
  ],
  [
    ["cpgstagin", "list", "user"],
    'unknown target or command "cpgstagin" for "cytoskel"; allowed targets: cpgstaging; other commands: credentials',
  ],
  [
    ["cpgstaging", "list", "users"],
    'unknown command "users" for "cytoskel cpgstaging list"; allowed: location, user, grant',
  ],
  [
    ["cpgstaging", "delete", "user", "alice", "bob"],
    'unexpected argument "bob" for "cytoskel cpgstaging delete user"; usage: cytoskel cpgstaging delete user [options] <name>',
  ],
  [
    ["cpgstaging", "delete", "bucket", "x"],
    'unknown command "bucket" for "cytoskel cpgstaging delete"; allowed: grant, user',
  ],
  [["cpgstaging", "create"], 'missing command after "cytoskel cpgstaging create"; allowed: user, grant'],
  [
    ["cpgstaging", "create", "user"],
    `missing required argument 'name' for "cytoskel cpgstaging create user"; usage: cytoskel cpgstaging create user [options] <name>`,
  ],
  [
    ["cpgstaging", "create", "user", "bad name"],
    'invalid user name "bad name"; allowed: 1-64 letters, digits and + = , . @ _ - (e.g. test_user)',
  ],
  [
    ["cpgstaging", "delete", "user", "cytoskel/alice"],
    'invalid user name "cytoskel/alice"; allowed: 1-64 letters, digits and + = , . @ _ - (e.g. test_user)',
  ],
  [
    ["cpgstaging", "create", "grant", "arn:aws:iam::12345:user/alice", loc, "cpg0042"],
    'malformed user ARN "arn:aws:iam::12345:user/alice"; expected arn:aws:iam::<12-digit account>:user/<name> (see "cytoskel cpgstaging list user")',
  ],
  [
    ["cpgstaging", "create", "grant", "alice", loc, "cpg0042"],
    'malformed user ARN "alice"; expected arn:aws:iam::<12-digit account>:user/<name> (see "cytoskel cpgstaging list user")',
  ],
  [
    ["cpgstaging", "create", "grant", `arn:aws:iam::${ACCOUNT}:role/admin`, loc, "cpg0042"],
    `malformed user ARN "arn:aws:iam::${ACCOUNT}:role/admin"; expected arn:aws:iam::<12-digit account>:user/<name> (see "cytoskel cpgstaging list user")`,
  ],
  [
    ["cpgstaging", "create", "grant", ALICE_ARN, loc, "../cpg0042"],
    'refused prefix "../cpg0042": it has a ".." segment',
  ],
  [
    ["cpgstaging", "create", "grant", ALICE_ARN, loc, "*"],
    'refused prefix "*": the whole bucket (*) is not allowed; name a prefix like cpg0042/*',
  ],
  [
    ["cpgstaging", "create", "grant", ALICE_ARN, loc, "s3://cellpainting-gallery/cpg0042/"],
    'refused prefix "s3://cellpainting-gallery/cpg0042/": it points at bucket "cellpainting-gallery"; only s3://staging-cellpainting-gallery/ is allowed',
  ],
  [
    ["cpgstaging", "create", "grant", ALICE_ARN, loc, "cpg0042", "--permission", "admin"],
    'unknown permission "admin"; allowed: READ, WRITE, READWRITE',
  ],
  [
    ["cpgstaging", "create", "grant", ALICE_ARN, "not a location!", "cpg0042"],
    'malformed location ID "not a location!"; allowed: letters, digits and "-" (see "cytoskel cpgstaging list location")',
  ],
  [
    ["cpgstaging", "create", "grant", ALICE_ARN, loc],
    `missing required argument 'prefix' for "cytoskel cpgstaging create grant"; usage: cytoskel cpgstaging create grant [options] <user_arn> <location_id> <prefix>`,
  ],
  [
    ["cpgstaging", "delete", "grant", "bad id!"],
    'malformed grant ID "bad id!"; allowed: letters, digits and "-" (see "cytoskel cpgstaging list grant")',
  ],
  [
    ["cpgstaging", "list", "user", "--everything"],
    `unknown option '--everything' for "cytoskel cpgstaging list user"; usage: cytoskel cpgstaging list user [options]`,
  ],
  [
    ["cpgstaging", "list", "grant", "extra"],
    'unexpected argument "extra" for "cytoskel cpgstaging list grant"; usage: cytoskel cpgstaging list grant [options]',
  ],
  [
    ["--region", "mars", "cpgstaging", "list", "user"],
    'invalid region "mars" (--region); expected a region name like us-east-1',
  ],
  [
    ["credentials"],
    `required option '--prefix <prefix>' not specified for "cytoskel credentials"; usage: cytoskel credentials [options]`,
  ],
  [
    ["credentials", "--prefix", "cpg0042//x"],
    'refused prefix "cpg0042//x": it has an empty segment ("//"); write cpg0042/*',
  ],
  [
    ["credentials", "--prefix", "cpg0042", "--duration", "13h"],
    'invalid --duration "13h" (46800 seconds); allowed: 900-43200 seconds (15m to 12h)',
  ],
  [
    ["credentials", "--prefix", "cpg0042", "--duration", "60s"],
    'invalid --duration "60s" (60 seconds); allowed: 900-43200 seconds (15m to 12h)',
  ],
  [
    ["credentials", "--prefix", "cpg0042", "--duration", "soon"],
    'invalid --duration "soon"; write it like 12h, 90m or 3600s (900-43200 seconds)',
  ],
  [
    ["credentials", "--prefix", "cpg0042", "--format", "yaml"],
    'unknown --format "yaml"; allowed: env, json, credential-process',
  ],
  [
    ["credentials", "--prefix", "cpg0042", "--target", "nope"],
    'unknown target "nope"; allowed targets: cpgstaging',
  ],
  [
    ["credentials", "--prefix", "cpg0042", "--permission", "rw"],
    'unknown permission "rw"; allowed: READ, WRITE, READWRITE',
  ],
];

describe("usage errors: exit 2, one stderr line naming what is allowed, no AWS request at all", () => {
  it("every usage case", async () => {
    for (const [args, message] of usageCases()) {
      const state = snapshot(local);
      const from = local.state.requests.length;
      const run = await runInProcess(args, account);
      expect({ args, ...run }).toEqual({ args, code: 2, stdout: "", stderr: `Error: ${message}\n` });
      expect(local.state.requests.length, `requests sent for ${args.join(" ")}`).toBe(from);
      expect(snapshot(local)).toEqual(state);
    }
  });
});

describe("failures: exit 1, one stderr line, nothing changed", () => {
  const failureCases = (): Array<
    [
      args: string[],
      message: string,
      opts?: { asAlice?: boolean; asRoot?: boolean; env?: Record<string, string> },
    ]
  > => [
    [
      ["cpgstaging", "create", "grant", ALICE_ARN, "0d5bdb5a-0000-4000-8000-000000000000", "cpg0043"],
      `unknown location ID "0d5bdb5a-0000-4000-8000-000000000000"; known locations: ${loc} (${SCOPE})`,
    ],
    [
      ["cpgstaging", "create", "grant", `arn:aws:iam::${ACCOUNT}:user/cytoskel/ghost`, loc, "cpg0043"],
      'IAM user "ghost" does not exist (see "cytoskel cpgstaging list user")',
    ],
    [
      ["cpgstaging", "create", "grant", `arn:aws:iam::${ACCOUNT}:user/alice`, loc, "cpg0043"],
      `user ARN "arn:aws:iam::${ACCOUNT}:user/alice" does not match IAM user alice (${ALICE_ARN}); copy the ARN from "list user"`,
    ],
    [
      ["cpgstaging", "create", "grant", ALICE_ARN, loc, "cpg0042/"],
      `${ALICE_ARN} already has grant ${[...(local.state.accessGrants.get("us-east-1")?.grants.keys() ?? [])][0]} ` +
        `with READWRITE on ${SCOPE}cpg0042/*; nothing changed`,
    ],
    [
      ["cpgstaging", "delete", "grant", "0d5bdb5a-0000-4000-8000-000000000000"],
      'access grant "0d5bdb5a-0000-4000-8000-000000000000" does not exist (see "cytoskel cpgstaging list grant")',
    ],
    [
      ["cpgstaging", "delete", "user", "ghost"],
      'IAM user "ghost" does not exist (see "cytoskel cpgstaging list user")',
    ],
    [["cpgstaging", "create", "user", "alice"], "IAM user alice already exists"],
    // In another region the operator's and the contributor's policies (us-east-1's instance only) are
    // what answers, as on AWS, where authorization comes before the missing instance: the hint says so.
    [
      ["--region", "eu-west-1", "cpgstaging", "list", "location"],
      `Access denied: User: ${OPERATOR_ARN} is not authorized to perform: s3:ListAccessGrantsLocations on resource: arn:aws:s3:eu-west-1:${ACCOUNT}:access-grants/default because no identity-based policy allows the s3:ListAccessGrantsLocations action (wrong region? the grants live in us-east-1: check AWS_REGION / --region)`,
    ],
    [
      ["credentials", "--prefix", "cpg0042"],
      `Access denied: User: ${ALICE_ARN} is not authorized to perform: s3:GetDataAccess on resource: arn:aws:s3:eu-west-1:${ACCOUNT}:access-grants/default because no identity-based policy allows the s3:GetDataAccess action (wrong region? the grants live in us-east-1: check AWS_REGION / --region)`,
      { asAlice: true, env: { AWS_REGION: "eu-west-1" } },
    ],
    // An administrator (allowed everywhere) gets the wrong-region hint.
    [
      ["--region", "eu-west-1", "cpgstaging", "list", "location"],
      `no S3 Access Grants instance for account ${ACCOUNT} in region eu-west-1: wrong region? the grants live in us-east-1 (check AWS_REGION / --region)`,
      { asRoot: true },
    ],
    [
      ["credentials", "--prefix", "cpg0042"],
      `no S3 Access Grants instance for account ${ACCOUNT} in region eu-west-1: wrong region? the grants live in us-east-1 (check AWS_REGION / --region)`,
      { asRoot: true, env: { AWS_REGION: "eu-west-1" } },
    ],
    [
      ["credentials", "--prefix", "cpg0043"],
      `no access grant gives you READWRITE on ${SCOPE}cpg0043/*: ask an admin for one, or check --prefix and --permission (a READ or WRITE grant does not give READWRITE)`,
      { asAlice: true },
    ],
  ];

  it("every failure case", async () => {
    for (const [args, message, opts] of failureCases()) {
      const state = snapshot(local);
      const from = local.state.requests.length;
      const run = await runInProcess(args, account, {
        ...(opts?.asAlice ? { credentials: alice } : {}),
        ...(opts?.asRoot ? { credentials: ROOT_KEYS } : {}),
        ...(opts?.env ? { env: opts.env } : {}),
      });
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(run.stderr).toBe(`Error: ${message}\n`);
      expect(snapshot(local), args.join(" ")).toEqual(state);
      expect(writesSince(local, from, { succeededOnly: true }), args.join(" ")).toEqual([]);
    }
  });

  it("a malformed AWS_REGION is a usage error naming where it came from", async () => {
    const from = local.state.requests.length;
    const run = await runInProcess(["cpgstaging", "list", "user"], account, {
      env: { AWS_REGION: "US East" },
    });
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr: 'Error: invalid region "US East" (AWS_REGION); expected a region name like us-east-1\n',
    });
    expect(local.state.requests.length).toBe(from);
  });

  it("credentials with deleted keys explains that AWS rejected them", async () => {
    const gone = { accessKeyId: "AKIAGONEGONEGONEGONE", secretAccessKey: "x".repeat(40) };
    local.state.iam.deletedAccessKeyIds.add(gone.accessKeyId);
    const run = await runInProcess(["credentials", "--prefix", "cpg0042"], account, { credentials: gone });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "Error: AWS rejected the credentials (The security token included in the request is invalid.): the keys " +
        "are wrong, deactivated or expired; check AWS_PROFILE and ~/.aws/credentials, and unset " +
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN left from an earlier session\n",
    );
    expect(run.stderr).not.toContain(gone.secretAccessKey);
  });
});

describe("credentials output formats", () => {
  it("env format prints shell exports on stdout and the expiry on stderr", async () => {
    const run = await runInProcess(
      ["credentials", "--prefix", "cpg0042/sub/", "--duration", "3600"],
      account,
      {
        credentials: alice,
      },
    );
    expect(run.code).toBe(0);
    const call = local.state.dataAccessCalls.at(-1);
    expect(call).toMatchObject({
      target: `${SCOPE}cpg0042/sub/*`,
      durationSeconds: 3600,
      permission: "READWRITE",
    });
    expect(run.stdout).toMatch(
      /^export AWS_ACCESS_KEY_ID='ASIA\w+'\nexport AWS_SECRET_ACCESS_KEY='[^']+'\nexport AWS_SESSION_TOKEN='[^']+'\n$/,
    );
    expect(run.stderr).toBe(
      `Credentials for ${call?.matchedGrantTarget} valid until ${call?.expiration.toISOString()}.\n`,
    );
  });

  it("json format mirrors `aws s3control get-data-access` output, and --json means the same", async () => {
    for (const args of [["--format", "json"], ["--json"]]) {
      const run = await runInProcess(
        ["credentials", "--prefix", "cpg0042", "--permission", "read", ...args],
        account,
        {
          credentials: alice,
        },
      );
      expect(run.code).toBe(0);
      const doc = JSON.parse(run.stdout);
      expect(Object.keys(doc.Credentials)).toEqual([
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
      ]);
      expect(doc.MatchedGrantTarget).toBe(`${SCOPE}cpg0042/*`);
      expect(local.state.dataAccessCalls.at(-1)?.permission).toBe("READ");
    }
  });

  it("list user shows managed users only (--all: every user); delete user needs --any-path outside /cytoskel/, and an administrator", async () => {
    // A user made outside cytoskel (e.g. by the original tool, at /), by an administrator.
    await account.rootIam.send(new CreateUserCommand({ UserName: "legacy_user" }));
    const managed = await runInProcess(["cpgstaging", "list", "user"], account);
    expect(managed).toEqual({ code: 0, stdout: `${ALICE_ARN}\n`, stderr: "" });
    const all = await runInProcess(["cpgstaging", "list", "user", "--all"], account);
    expect(all.stdout.trimEnd().split("\n").sort()).toEqual([
      ALICE_ARN,
      `arn:aws:iam::${ACCOUNT}:user/legacy_user`,
      OPERATOR_ARN,
    ]);

    // Users outside /cytoskel/ are only deleted on purpose.
    const refused = await runInProcess(["cpgstaging", "delete", "user", "legacy_user"], account);
    expect(refused).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "Error: IAM user legacy_user (path /) was not created by cytoskel (path /cytoskel/); nothing changed; " +
        "add --any-path to delete it anyway\n",
    });
    expect(local.state.iam.users.has("legacy_user")).toBe(true);

    // ... and not by the operator, whose policy reaches users under /cytoskel/ only: refused before any
    // change (the first call about the user's keys or groups).
    const state = snapshot(local);
    const from = local.state.requests.length;
    const denied = await runInProcess(["cpgstaging", "delete", "user", "legacy_user", "--any-path"], account);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      new RegExp(
        `^Error: Access denied: User: ${OPERATOR_ARN} is not authorized to perform: iam:\\w+ on resource: ` +
          `arn:aws:iam::${ACCOUNT}:user/legacy_user because no identity-based policy allows the iam:\\w+ action`,
      ),
    );
    expect(snapshot(local)).toEqual(state);
    expect(writesSince(local, from, { succeededOnly: true })).toEqual([]);

    // An administrator may.
    const deleted = await runInProcess(
      ["cpgstaging", "delete", "user", "legacy_user", "--any-path"],
      account,
      {
        credentials: ROOT_KEYS,
      },
    );
    expect(deleted).toEqual({
      code: 0,
      stdout: "User with username: legacy_user is deleted\n",
      stderr: BOOKS_NOTE,
    });
    expect(local.state.iam.users.has("legacy_user")).toBe(false);
  });

  it("create user refuses, creating nothing, when the uploaders group does not grant s3:GetDataAccess", async () => {
    const group = local.state.iam.groups.get("staging_cpg_uploaders");
    const attached = [...(group?.attachedPolicies ?? [])];
    for (const PolicyArn of attached) {
      await account.rootIam.send(
        new DetachGroupPolicyCommand({ GroupName: "staging_cpg_uploaders", PolicyArn }),
      );
    }
    try {
      const state = snapshot(local);
      const refused = await runInProcess(["cpgstaging", "create", "user", "keyless_user"], account);
      expect(refused).toEqual({
        code: 1,
        stdout: "",
        stderr:
          `Error: the uploaders group staging_cpg_uploaders does not grant s3:GetDataAccess on arn:aws:s3:us-east-1:${ACCOUNT}:access-grants/default; ` +
          'nothing changed; redeploy the grants stack ("cytoskel cpgstaging up")\n',
      });
      expect(snapshot(local)).toEqual(state);
    } finally {
      for (const PolicyArn of attached) {
        await account.rootIam.send(
          new AttachGroupPolicyCommand({ GroupName: "staging_cpg_uploaders", PolicyArn }),
        );
      }
    }
  });

  it("delete user refuses a cytoskel user who is also in another group, before deleting anything", async () => {
    // Set up by an administrator: a managed user someone also put in another team's group.
    await account.rootIam.send(new CreateUserCommand({ UserName: "grouped_user", Path: "/cytoskel/" }));
    await account.rootIam.send(new CreateGroupCommand({ GroupName: "other-team" }));
    await account.rootIam.send(
      new AddUserToGroupCommand({ UserName: "grouped_user", GroupName: "other-team" }),
    );
    await account.rootIam.send(new CreateAccessKeyCommand({ UserName: "grouped_user" }));
    const state = snapshot(local);
    const from = local.state.requests.length;
    const refused = await runInProcess(["cpgstaging", "delete", "user", "grouped_user"], account);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("other-team");
    expect(snapshot(local)).toEqual(state);
    expect(writesSince(local, from, { succeededOnly: true })).toEqual([]);
  });

  it("list commands' --json output parses", async () => {
    const locations = await runInProcess(["cpgstaging", "list", "location", "--json"], account);
    expect(JSON.parse(locations.stdout)).toEqual({
      bucket: "staging-cellpainting-gallery",
      locations: [expect.objectContaining({ id: loc, scope: SCOPE })],
    });
    const grants = await runInProcess(["cpgstaging", "list", "grant", "--json"], account);
    expect(JSON.parse(grants.stdout).grants).toEqual([
      expect.objectContaining({ granteeArn: ALICE_ARN, scope: `${SCOPE}cpg0042/*`, permission: "READWRITE" }),
    ]);
  });
});

describe("up", () => {
  it("outside a clone (no cdk.json) says where to run it and runs nothing (exit 1)", async () => {
    const empty = mkdtempSync(join(tmpdir(), "cytoskel-no-cdk-"));
    const run = await runInProcess(["cpgstaging", "up"], account, { repoRoot: empty });
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: cannot deploy cpgstaging: no cdk.json in ${empty} — run \`cytoskel cpgstaging up\` from a clone of the cytoskel repository; nothing was changed\n`,
    });
  });

  it("with a CDK app runs `npx cdk deploy` for the target's settings, telemetry off", async () => {
    const repo = mkdtempSync(join(tmpdir(), "cytoskel-cdk-"));
    writeFileSync(join(repo, "cdk.json"), "{}");
    const plans: UpPlan[] = [];
    const run = await runInProcess(["cpgstaging", "up", "--json"], account, {
      repoRoot: repo,
      runProcess: async (plan, opts) => {
        plans.push(plan);
        expect(opts.stdoutToStderr).toBe(true);
        return 0;
      },
    });
    const expected = [
      "npx",
      "cdk",
      "deploy",
      "--all",
      "--no-notices",
      "--outputs-file",
      "cdk-outputs.json",
      "--context",
      "region=us-east-1",
      "--context",
      "bucketName=staging-cellpainting-gallery",
      "--context",
      "uploadersGroupName=staging_cpg_uploaders",
      "--context",
      "iamUserPath=/cytoskel/",
    ];
    expect(plans).toEqual([
      { cwd: repo, command: "npx", args: expected.slice(1), env: { CDK_DISABLE_CLI_TELEMETRY: "true" } },
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ target: "cpgstaging", command: expected, exitCode: 0 });
  });

  it("a failed deploy is exit 1 naming cdk's exit code", async () => {
    const repo = mkdtempSync(join(tmpdir(), "cytoskel-cdk-"));
    writeFileSync(join(repo, "cdk.json"), "{}");
    const run = await runInProcess(["cpgstaging", "up"], account, {
      repoRoot: repo,
      runProcess: async () => 3,
    });
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error: cdk deploy for cpgstaging failed with exit code 3 (see its output above)\n",
    });
  });
});

// Last: the location seeded here would change the "known locations" of the failures above.
describe("create grant at a location that is not the bucket root", () => {
  it("sends the prefix relative to the location, and refuses a prefix the location cannot reach", async () => {
    const incoming = seedAccessGrantsLocation(local, { scope: `${SCOPE}incoming/` });
    const made = await runInProcess(
      ["--json", "cpgstaging", "create", "grant", ALICE_ARN, incoming.locationId, "incoming/cpg0050"],
      account,
    );
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout).grant).toMatchObject({
      locationId: incoming.locationId,
      scope: `${SCOPE}incoming/cpg0050/*`,
      subPrefix: "cpg0050/*",
    });

    const from = local.state.requests.length;
    const refused = await runInProcess(
      ["cpgstaging", "create", "grant", ALICE_ARN, incoming.locationId, "cpg0051"],
      account,
    );
    expect(refused).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: location "${incoming.locationId}" (${SCOPE}incoming/) does not cover ${SCOPE}cpg0051/*; pick another location (see "list location")\n`,
    });
    expect(writesSince(local, from)).toEqual([]);
  });
});
