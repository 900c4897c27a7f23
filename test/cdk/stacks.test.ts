// Both stacks, synthesized ONCE by the real CDK CLI (`npx cdk synth --no-notices`, offline, telemetry
// off), then checked with aws-cdk-lib/assertions. cdk-nag runs inside that synth: an unacknowledged
// finding fails it.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { marshall } from "@aws-sdk/util-dynamodb";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { DynamoDBRecord } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ENTRIES } from "../../cdk/lib/app.ts";
import type { FunctionEntries } from "../../cdk/lib/bot-functions.ts";
import { FORBIDDEN_PACKAGES } from "../../cdk/lib/bundling.ts";
import { STREAM_RETRY_ATTEMPTS } from "../../cdk/lib/constructs/provisioner-trigger.ts";
import { LOCATION_BUCKET_ACTIONS, LOCATION_OBJECT_ACTIONS } from "../../cdk/lib/grants-stack.ts";
import { buildSlackManifest } from "../../cdk/lib/manifest.ts";
import { BOT_STACK_NAME, GRANTS_STACK_NAME } from "../../cdk/lib/names.ts";
import { ROBOTS_TXT_PATH, SECRET_LINK_ROUTE, SLACK_EVENTS_PATH } from "../../cdk/lib/routes.ts";
import { signedEvent, slashCommandBody } from "../../dev/slack-requests.ts";
import {
  actionsOf,
  allStatements,
  documentStatements,
  functionNamed,
  type Json,
  matchesFilter,
  only,
  render,
  resources,
  resourcesOf,
  roleOfFunction,
  roleStatements,
  type Statement,
} from "../../dev/template-helpers.ts";
import { BOT_ENV, loadBotConfig } from "../../src/bot/config.ts";
import { TARGETS } from "../../src/config/targets.ts";
import { approvedRequestId, deniedRequest } from "../../src/provisioner/handler.ts";
import { queuedJob } from "../../src/provisioner/jobs.ts";
import {
  DENY_NOTICE_TRANSITION,
  PROVISION_TRIGGER_STATUSES,
  QUEUED_JOB_STATE,
  REDRIVE_ATTRIBUTE,
} from "../../src/provisioner/trigger-states.ts";
import { loadSecretLinkConfig, SECRET_LINK_ENV } from "../../src/secret-link/config.ts";
import { loadServiceConfig, SERVICE_ENV } from "../../src/service/runtime.ts";
import { INDEX, TABLE_SCHEMA } from "../../src/store/table.ts";
import { type CliSynthResult, cliSynth, REPO_ROOT } from "./cli-synth.ts";

const CONTEXT = {
  createBucket: "true",
  adminUserIds: "U0ADMIN01,U0ADMIN02",
  adminChannelId: "C0ADMIN01",
  slackBotId: "B0BOT0001",
  slackBotUserId: "U0BOT0001",
  helpUrl: "https://example.org/cytoskel/docs/access-cpg-staging.md",
};
const BUCKET = TARGETS.cpgstaging.bucket;
const INSTANCE_ARN = "arn:<AWS::Partition>:s3:us-east-1:<AWS::AccountId>:access-grants/default";
const FUNCTIONS = ["Bot", "Provisioner", "SecretLink", "Expiry"] as const;

let synth: CliSynthResult;
let grantsJson: Json;
let botJson: Json;
let grants: Template;
let bot: Template;

/** Entry files not written yet are replaced by stubs (reported), so the wiring is still checked. */
function stubMissingEntries(): Partial<FunctionEntries> {
  const dir = join(REPO_ROOT, "test-artifacts", "cdk-stub-entries");
  const stubs: { -readonly [K in keyof FunctionEntries]?: string } = {};
  for (const [name, path] of Object.entries(DEFAULT_ENTRIES) as Array<[keyof FunctionEntries, string]>) {
    if (existsSync(path)) continue;
    mkdirSync(dir, { recursive: true });
    const stub = join(dir, `${name}.ts`);
    writeFileSync(stub, "export const handler = async (): Promise<unknown> => ({ statusCode: 501 });\n");
    stubs[name] = stub;
  }
  return stubs;
}

beforeAll(async () => {
  const stubs = stubMissingEntries();
  const missing = Object.keys(stubs);
  if (missing.length > 0) {
    console.warn(`[cdk] Lambda entries not written yet, synthesized with stubs for: ${missing.join(", ")}`);
  }
  synth = await cliSynth({
    context: CONTEXT,
    ...(missing.length > 0
      ? {
          app: "npx tsx test/cdk/stub-entries-app.ts",
          extraEnv: { CYTOSKEL_STUB_ENTRIES: JSON.stringify(stubs) },
        }
      : {}),
  });
  if (synth.exitCode !== 0) {
    throw new Error(`cdk synth failed (${synth.exitCode}):\n${synth.stderr.slice(-6000)}`);
  }
  grantsJson = synth.template(GRANTS_STACK_NAME);
  botJson = synth.template(BOT_STACK_NAME);
  grants = Template.fromJSON(grantsJson);
  bot = Template.fromJSON(botJson);
}, 300_000);

describe("cdk synth through the CLI", () => {
  it("runs offline: no AWS credentials, profile or metadata service, telemetry and notices off", () => {
    expect(synth.exitCode).toBe(0);
    expect(synth.args).toContain("--no-notices");
    expect(synth.stderr).not.toMatch(/Unknown option/);
    // Every setting the bot needs was given, so no "will refuse to start" warning.
    expect(synth.stderr).not.toMatch(/refuse to start/);
    expect(synth.stderr).not.toMatch(/cross-stack-reference strength/);
    expect(synth.env.CDK_DISABLE_CLI_TELEMETRY).toBe("true");
    expect(synth.env.AWS_EC2_METADATA_DISABLED).toBe("true");
    expect(
      Object.keys(synth.env).filter((k) =>
        /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE)$/.test(k),
      ),
    ).toEqual([]);
  });

  it("passes cdk-nag's AWS Solutions checks with no unacknowledged finding", () => {
    expect(synth.stderr).not.toMatch(/AwsSolutions-[A-Z]+\d+/);
    expect(`${synth.stdout}${synth.stderr}`).not.toMatch(/Validation failed/);
  });

  it("gives every acknowledged cdk-nag finding a specific reason, recorded in the template", () => {
    const acks: Array<{ id: string; reason: string; on: string }> = [];
    for (const t of [grantsJson, botJson]) {
      for (const r of resources(t)) {
        const rules = (
          (r.raw.Metadata as Json | undefined)?.cdk_nag as { rules_to_suppress?: unknown[] } | undefined
        )?.rules_to_suppress as Array<{ id: string; reason: string }> | undefined;
        for (const rule of rules ?? []) acks.push({ ...rule, on: r.logicalId });
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.id} on ${ack.on}`).toBeGreaterThan(60);
      // Wildcard findings are acknowledged one resource at a time, never the whole rule.
      if (ack.id.startsWith("AwsSolutions-IAM5"))
        expect(ack.id).toMatch(/^AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
    }
    const ids = new Set(acks.map((a) => a.id.replace(/\[.*$/, "")));
    expect([...ids].sort()).toEqual([
      "AwsSolutions-APIG4",
      "AwsSolutions-IAM5",
      "AwsSolutions-S1",
      "AwsSolutions-SMG4",
      "AwsSolutions-SQS3",
    ]);
  });

  it("bundles every function with esbuild into an ESM asset", () => {
    const assetDirs = readdirSync(synth.outdir).filter((d) => d.startsWith("asset."));
    for (const name of FUNCTIONS) {
      const code = functionNamed(botJson, name).raw.Metadata as Json;
      const assetPath = code["aws:asset:path"] as string;
      expect(assetDirs).toContain(assetPath);
      expect(existsSync(join(synth.outdir, assetPath, "index.mjs"))).toBe(true);
    }
  });
});

describe("bundled functions", () => {
  it("load as ES modules on Node and export an async handler, without touching the network", async () => {
    for (const name of FUNCTIONS) {
      const assetPath = (functionNamed(botJson, name).raw.Metadata as Json)["aws:asset:path"] as string;
      const file = join(synth.outdir, assetPath, "index.mjs");
      const result = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`,
        ],
        { env: synth.env, encoding: "utf8", timeout: 60_000 },
      );
      expect(result.stderr, name).toBe("");
      expect(result.stdout.trim(), name).toBe("function");
    }
  }, 120_000);

  it("answer a signed request whole, signing AWS calls with the execution role's keys from the environment", async () => {
    // The bundles replace the SDK's credential chain by its environment link (cdk/lib/lambda-credentials.mjs)
    // and Bolt's receivers and OAuth by a stub. The bundled bot answers a signed `/cytoskel status`: its
    // one AWS call is a DynamoDB query, which a recorder on 127.0.0.1 captures and answers with no requests.
    const seen: string[] = [];
    const recorder = createServer((req, res) => {
      seen.push(req.headers.authorization ?? "(unsigned)");
      req.resume();
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify({ Count: 0, ScannedCount: 0, Items: [] }));
    });
    await new Promise<void>((done) => recorder.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    const assetPath = (functionNamed(botJson, "Bot").raw.Metadata as Json)["aws:asset:path"] as string;
    const file = join(synth.outdir, assetPath, "index.mjs");
    const secret = "bundle-signing-secret";
    const event = signedEvent(
      secret,
      slashCommandBody({ userId: "UBUNDLE", text: "status", responseUrl: url }),
    );
    const run = async (keys: Record<string, string>) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const { handler } = await import(${JSON.stringify(file)});
           const r = await handler(JSON.parse(process.env.EVENT), {});
           console.log(JSON.stringify({ status: r.statusCode, text: JSON.parse(r.body).text }));`,
        ],
        {
          env: {
            PATH: process.env.PATH ?? "",
            AWS_EC2_METADATA_DISABLED: "true",
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL_DYNAMODB: url,
            SLACK_SIGNING_SECRET: secret,
            SLACK_BOT_TOKEN: "xoxb-bundle",
            SLACK_API_URL: `${url}/api/`,
            SLACK_BOT_ID: "BBUNDLE",
            SLACK_BOT_USER_ID: "UBUNDLEBOT",
            ADMIN_USER_IDS: "UADMIN",
            ADMIN_CHANNEL_ID: "CADMINS",
            TABLE_NAME: "cytoskel-bundle",
            EVENT: JSON.stringify(event),
            ...keys,
          },
          timeout: 60_000,
        },
      );
      return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { status?: number; text?: string };
    };
    try {
      const answered = await run({
        AWS_ACCESS_KEY_ID: "AKIABUNDLEROLE",
        AWS_SECRET_ACCESS_KEY: "bundle-role-secret",
      });
      expect(answered.status).toBe(200);
      expect(answered.text).not.toMatch(/something went wrong/i);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIABUNDLEROLE\/\d{8}\/us-east-1\/dynamodb\//);
      // Without the role's keys nothing is sent, and the person is told to try again.
      seen.length = 0;
      const refused = await run({});
      expect(refused.text).toMatch(/something went wrong/i);
      expect(seen).toEqual([]);
    } finally {
      recorder.close();
    }
  }, 120_000);

  it("carry only what each function runs: no Bolt receivers anywhere, no Bolt outside the bot (esbuild metafiles)", () => {
    const packagesIn = (name: (typeof FUNCTIONS)[number]) => {
      const assetPath = (functionNamed(botJson, name).raw.Metadata as Json)["aws:asset:path"] as string;
      const meta = JSON.parse(readFileSync(join(synth.outdir, assetPath, "index.meta.json"), "utf8")) as {
        inputs: Record<string, unknown>;
      };
      const names = new Set<string>();
      for (const input of Object.keys(meta.inputs)) {
        const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
        if (m?.[1]) names.add(m[1]);
      }
      return names;
    };
    for (const name of FUNCTIONS) {
      const packages = packagesIn(name);
      expect(packages.has("@aws-sdk/client-dynamodb"), `${name} bundles the DynamoDB client`).toBe(true);
      const forbidden = [
        ...FORBIDDEN_PACKAGES.all,
        ...FORBIDDEN_PACKAGES.credentialChain,
        ...(name === "Bot" ? [] : FORBIDDEN_PACKAGES.notBot),
      ];
      expect(
        forbidden.filter((p) => packages.has(p)),
        `${name} bundles packages it never runs`,
      ).toEqual([]);
    }
    expect(packagesIn("Bot").has("@slack/bolt")).toBe(true);
    // The credential chain's one link that answers on Lambda stays (cdk/lib/lambda-credentials.mjs).
    for (const name of FUNCTIONS)
      expect(packagesIn(name).has("@aws-sdk/credential-provider-env"), name).toBe(true);
  });
});

describe("grants stack", () => {
  it("creates the bucket with public access blocked, encryption, versioning, no ACLs, retained on delete", () => {
    grants.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: Match.objectLike({
        BucketName: BUCKET,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
        VersioningConfiguration: { Status: "Enabled" },
        OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: "staging/" }),
      }),
    });
  });

  it("refuses every non-TLS request to the bucket", () => {
    const bucketId = resources(grantsJson, "AWS::S3::Bucket").find(
      (b) => b.properties.BucketName === BUCKET,
    )?.logicalId;
    const policy = resources(grantsJson, "AWS::S3::BucketPolicy").find(
      (p) => (p.properties.Bucket as { Ref: string }).Ref === bucketId,
    );
    const statements = documentStatements(policy, "PolicyDocument");
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Action: "s3:*",
        Principal: { AWS: "*" },
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
  });

  it("creates the Access Grants instance and registers s3://<bucket>/ with the location role", () => {
    grants.resourceCountIs("AWS::S3::AccessGrantsInstance", 1);
    const location = only(grantsJson, "AWS::S3::AccessGrantsLocation");
    expect(location.properties.LocationScope).toBe(`s3://${BUCKET}/`);
    const roleId = (location.properties.IamRoleArn as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0];
    expect(resources(grantsJson, "AWS::IAM::Role").map((r) => r.logicalId)).toContain(roleId);
    expect(location.raw.DependsOn).toEqual(expect.arrayContaining(["AccessGrantsInstance"]));
    grants.hasOutput("AccessGrantsLocationId", {
      Value: { "Fn::GetAtt": [location.logicalId, "AccessGrantsLocationId"] },
    });
  });

  it("trusts only access-grants.s3.amazonaws.com, for AssumeRole + SetSourceIdentity, from this account's instance", () => {
    const role = resources(grantsJson, "AWS::IAM::Role").find((r) => r.logicalId.startsWith("LocationRole"));
    expect(role?.properties.MaxSessionDuration).toBe(43_200);
    const trust = documentStatements(role, "AssumeRolePolicyDocument");
    expect(trust).toHaveLength(1);
    const [statement] = trust as [Statement];
    expect(statement.Effect).toBe("Allow");
    expect(statement.Principal).toEqual({ Service: "access-grants.s3.amazonaws.com" });
    expect(actionsOf(statement).sort()).toEqual(["sts:AssumeRole", "sts:SetSourceIdentity"]);
    expect(render(statement.Condition?.StringEquals?.["aws:SourceAccount"])).toBe("<AWS::AccountId>");
    expect(render(statement.Condition?.ArnEquals?.["aws:SourceArn"])).toBe(INSTANCE_ARN);
  });

  it("limits the location role to object actions and s3:ListBucket on the bucket, only via this instance", () => {
    const role = resources(grantsJson, "AWS::IAM::Role").find((r) => r.logicalId.startsWith("LocationRole"));
    const statements = roleStatements(grantsJson, role?.logicalId ?? "");
    const bucketArn = `<${resources(grantsJson, "AWS::S3::Bucket").find((b) => b.properties.BucketName === BUCKET)?.logicalId}.Arn>`;
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      [...LOCATION_OBJECT_ACTIONS, ...LOCATION_BUCKET_ACTIONS].sort(),
    );
    for (const s of statements) {
      const isList = actionsOf(s).includes("s3:ListBucket");
      expect(resourcesOf(s)).toEqual([isList ? bucketArn : `${bucketArn}/*`]);
      expect(render(s.Condition?.ArnEquals?.["s3:AccessGrantsInstanceArn"])).toBe(INSTANCE_ARN);
      expect(render(s.Condition?.StringEquals?.["aws:ResourceAccount"])).toBe("<AWS::AccountId>");
    }
    expect(statements.flatMap(actionsOf)).not.toContain("s3:DeleteObjectVersion");
  });

  it("gives the uploaders group s3:GetDataAccess on the instance and nothing else", () => {
    const group = only(grantsJson, "AWS::IAM::Group");
    expect(group.properties.GroupName).toBe(TARGETS.cpgstaging.uploadersGroup);
    expect(group.properties.Policies).toBeUndefined();
    const attached = group.properties.ManagedPolicyArns as Array<{ Ref: string }>;
    expect(attached).toHaveLength(1);
    const policy = resources(grantsJson, "AWS::IAM::ManagedPolicy").find(
      (p) => p.logicalId === attached[0]?.Ref,
    );
    const statements = documentStatements(policy, "PolicyDocument");
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0] as Statement)).toEqual(["s3:GetDataAccess"]);
    expect(resourcesOf(statements[0] as Statement)).toEqual([INSTANCE_ARN]);
  });
});

describe("least privilege across both stacks", () => {
  it("has no Allow statement with a service-wide or global action wildcard (no iam:*, s3:*, *)", () => {
    for (const t of [grantsJson, botJson]) {
      for (const { holder, statement } of allStatements(t)) {
        if (statement.Effect !== "Allow") continue;
        for (const action of actionsOf(statement)) {
          expect(action, `${holder.logicalId}`).not.toMatch(/(^\*$|:\*$)/);
        }
      }
    }
  });

  it("keeps IAM and S3 Control actions away from the secret-link function", () => {
    const actions = roleStatements(botJson, roleOfFunction(functionNamed(botJson, "SecretLink"))).flatMap(
      actionsOf,
    );
    expect(actions.filter((a) => a.startsWith("iam:") || a.startsWith("s3:"))).toEqual([]);
  });

  it("lets the internet-facing secret-link function only consume secrets and append audit events", () => {
    const table = only(botJson, "AWS::DynamoDB::Table").logicalId;
    const statements = roleStatements(botJson, roleOfFunction(functionNamed(botJson, "SecretLink"))).filter(
      (s) => actionsOf(s).some((a) => a.startsWith("dynamodb:")),
    );
    const byActions = Object.fromEntries(
      statements.map((s) => [
        actionsOf(s).sort().join(","),
        {
          resources: resourcesOf(s),
          keys: s.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"],
        },
      ]),
    );
    expect(byActions).toEqual({
      "dynamodb:DeleteItem,dynamodb:GetItem": { resources: [`<${table}.Arn>`], keys: ["SECRET#*"] },
      "dynamodb:PutItem": { resources: [`<${table}.Arn>`], keys: ["REQ#*", "USER#*"] },
    });
  });

  it("lets only the bot read the audit trail: Query on exactly the two audit indexes, in a statement of its own", () => {
    const table = only(botJson, "AWS::DynamoDB::Table").logicalId;
    const auditIndexArns = [INDEX.auditByUser, INDEX.auditByDataset].map((i) => `<${table}.Arn>/index/${i}`);
    for (const name of FUNCTIONS) {
      const statements = roleStatements(botJson, roleOfFunction(functionNamed(botJson, name)));
      const reading = statements.filter((s) => resourcesOf(s).some((r) => auditIndexArns.includes(r)));
      if (name !== "Bot") {
        expect(reading, name).toEqual([]);
        continue;
      }
      expect(reading).toHaveLength(1);
      expect(reading[0]?.Sid).toBe("ReadAuditTrail");
      expect(actionsOf(reading[0] as Statement)).toEqual(["dynamodb:Query"]);
      expect(resourcesOf(reading[0] as Statement)).toEqual(auditIndexArns);
    }
  });

  it("confines every IAM and S3 Control action to /cytoskel/ users, the uploaders group and this instance", () => {
    const allowed = [
      "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/cytoskel/*",
      INSTANCE_ARN,
      `${INSTANCE_ARN}/grant/*`,
    ];
    for (const name of FUNCTIONS) {
      const statements = roleStatements(botJson, roleOfFunction(functionNamed(botJson, name)));
      const iamOrS3 = statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith("iam:") || a.startsWith("s3:")),
      );
      for (const s of iamOrS3) {
        for (const r of resourcesOf(s)) {
          const ok =
            allowed.includes(r) ||
            r.startsWith(`${INSTANCE_ARN}/location/<import:`) ||
            /^<import:CytoskelGrants:ExportsOutputFnGetAttUploadersGroup/.test(r) ||
            // iam:ListUsers has no resource type (Service Authorization Reference): "*" alone, and only it.
            (r === "*" && actionsOf(s).every((a) => a === "iam:ListUsers"));
          expect(ok, `${name}: ${actionsOf(s).join(",")} on ${r}`).toBe(true);
        }
      }
      // Nothing that could give a user more than the uploaders group does, or hand out a role.
      for (const forbidden of [
        "iam:PutUserPolicy",
        "iam:AttachUserPolicy",
        "iam:CreateLoginProfile",
        "iam:PassRole",
        "iam:UpdateAssumeRolePolicy",
        "s3:GetDataAccess",
      ]) {
        expect(statements.flatMap(actionsOf), name).not.toContain(forbidden);
      }
    }
  });

  it("allows s3:CreateAccessGrant on the grant resource AWS authorizes it against, only for scopes inside the bucket", () => {
    for (const name of ["Provisioner", "Expiry"] as const) {
      const statements = roleStatements(botJson, roleOfFunction(functionNamed(botJson, name)));
      const holding = (action: string) => statements.filter((s) => actionsOf(s).includes(action));
      const create = holding("s3:CreateAccessGrant");
      expect(create.length, name).toBeGreaterThan(0);
      for (const s of create) {
        // The Service Authorization Reference lists one resource type for it: …/grant/<id>.
        expect(resourcesOf(s), name).toEqual([`${INSTANCE_ARN}/grant/*`]);
        expect(s.Condition, name).toEqual({ StringLike: { "s3:AccessGrantScope": `s3://${BUCKET}/*` } });
      }
      // Only the provisioner re-reads a grant (after a crash); both delete grants.
      const actions =
        name === "Provisioner" ? ["s3:GetAccessGrant", "s3:DeleteAccessGrant"] : ["s3:DeleteAccessGrant"];
      for (const action of actions) {
        expect(holding(action).flatMap(resourcesOf), `${name} ${action}`).toEqual([
          `${INSTANCE_ARN}/grant/*`,
        ]);
      }
      if (name === "Expiry") expect(holding("s3:GetAccessGrant")).toEqual([]);
    }
  });

  it("lets only the provisioner create users, keys and group members; the bot holds no IAM or S3 Control action", () => {
    const actions = (name: (typeof FUNCTIONS)[number]) =>
      roleStatements(botJson, roleOfFunction(functionNamed(botJson, name))).flatMap(actionsOf);
    const holders = (action: string) => FUNCTIONS.filter((name) => actions(name).includes(action));
    expect(holders("iam:CreateUser")).toEqual(["Provisioner"]);
    expect(holders("iam:AddUserToGroup")).toEqual(["Provisioner"]);
    expect(holders("iam:CreateAccessKey")).toEqual(["Provisioner"]);
    // Revoke and re-issue are queued by the bot and run by the provisioner.
    for (const action of [
      "iam:DeleteUser",
      "iam:DeleteAccessKey",
      "iam:ListAccessKeys",
      "iam:RemoveUserFromGroup",
      "s3:DeleteAccessGrant",
      "s3:ListAccessGrants",
    ]) {
      expect(holders(action), action).toEqual(["Provisioner", "Expiry"]);
    }
    expect(actions("Bot").filter((a) => a.startsWith("iam:") || a.startsWith("s3:"))).toEqual([]);
    const group = roleStatements(botJson, roleOfFunction(functionNamed(botJson, "Provisioner"))).find((s) =>
      actionsOf(s).includes("iam:AddUserToGroup"),
    );
    expect(resourcesOf(group as Statement)).toHaveLength(1);
  });

  it("lets only the bot read the Slack signing secret; every function reads the bot token", () => {
    const readers = (secretPrefix: string) =>
      FUNCTIONS.filter((name) =>
        roleStatements(botJson, roleOfFunction(functionNamed(botJson, name))).some(
          (s) =>
            actionsOf(s).includes("secretsmanager:GetSecretValue") &&
            resourcesOf(s).some((r) => r.startsWith(`<${secretPrefix}`)),
        ),
      );
    expect(readers("SlackSigningSecret")).toEqual(["Bot"]);
    expect(readers("SlackBotToken")).toEqual([...FUNCTIONS]);
  });
});

describe("bot stack", () => {
  it("builds the table from the store's single definition, with PITR, TTL and a stream", () => {
    const table = only(botJson, "AWS::DynamoDB::Table");
    expect(table.raw.DeletionPolicy).toBe("Retain");
    expect(table.properties).toMatchObject({
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey.name, KeyType: "HASH" },
        { AttributeName: TABLE_SCHEMA.sortKey.name, KeyType: "RANGE" },
      ],
      BillingMode: TABLE_SCHEMA.billingMode,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
      StreamSpecification: { StreamViewType: TABLE_SCHEMA.streamViewType },
      DeletionProtectionEnabled: true,
    });
    const gsis = table.properties.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown }>;
    expect(gsis.map((g) => g.IndexName).sort()).toEqual(Object.values(INDEX).sort());
    for (const def of TABLE_SCHEMA.globalSecondaryIndexes) {
      expect(gsis.find((g) => g.IndexName === def.indexName)?.KeySchema).toEqual([
        { AttributeName: def.partitionKey.name, KeyType: "HASH" },
        { AttributeName: def.sortKey.name, KeyType: "RANGE" },
      ]);
    }
  });

  it("runs every function on Node 24, arm64, with its own log group that has a retention", () => {
    const logGroups = resources(botJson, "AWS::Logs::LogGroup");
    for (const name of FUNCTIONS) {
      const fn = functionNamed(botJson, name);
      expect(fn.properties.Runtime, name).toBe("nodejs24.x");
      expect(fn.properties.Architectures, name).toEqual(["arm64"]);
      expect(fn.properties.Handler, name).toBe("index.handler");
      const logGroupRef = (fn.properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const group = logGroups.find((g) => g.logicalId === logGroupRef);
      expect(group?.properties.RetentionInDays, name).toBe(90);
    }
  });

  it("retries the stream trigger, halves failing batches, and parks what still fails in an SQS dead-letter queue", () => {
    const mapping = only(botJson, "AWS::Lambda::EventSourceMapping");
    const queue = only(botJson, "AWS::SQS::Queue");
    expect(mapping.properties).toMatchObject({
      FunctionName: { Ref: functionNamed(botJson, "Provisioner").logicalId },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queue.logicalId, "Arn"] } } },
    });
    expect(render(mapping.properties.EventSourceArn)).toMatch(/StreamArn/);
    const filters = (mapping.properties.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ["INSERT"], dynamodb: { NewImage: { status: { S: [...PROVISION_TRIGGER_STATUSES] } } } },
      {
        eventName: ["MODIFY"],
        dynamodb: {
          NewImage: { status: { S: [...PROVISION_TRIGGER_STATUSES] } },
          OldImage: { status: { S: [{ "anything-but": [...PROVISION_TRIGGER_STATUSES] }] } },
        },
      },
      {
        eventName: ["MODIFY"],
        dynamodb: {
          NewImage: { status: { S: [DENY_NOTICE_TRANSITION.to] } },
          OldImage: { status: { S: [DENY_NOTICE_TRANSITION.from] } },
        },
      },
      { eventName: ["INSERT"], dynamodb: { NewImage: { jobState: { S: [QUEUED_JOB_STATE] } } } },
      { eventName: ["MODIFY"], dynamodb: { NewImage: { [REDRIVE_ATTRIBUTE]: { S: [{ exists: true }] } } } },
    ]);
    expect(queue.properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
  });

  it("invokes the provisioner for exactly the stream records its handler would act on", () => {
    const mapping = only(botJson, "AWS::Lambda::EventSourceMapping");
    const patterns = (
      mapping.properties.FilterCriteria as { Filters: Array<{ Pattern: string }> }
    ).Filters.map((f) => JSON.parse(f.Pattern) as Json);
    const request = (status: string) => ({
      pk: "REQ#r1",
      sk: "META",
      id: "r1",
      requesterUserId: "U1",
      status,
      progress: {},
    });
    const job = (jobState: string) => ({
      pk: "JOB#j1",
      sk: "JOB",
      id: "j1",
      kind: "revoke",
      targetUserId: "U1",
      jobState,
      ttl: 1,
    });
    const record = (eventName: string, next?: Json, prev?: Json): DynamoDBRecord => ({
      eventName: eventName as DynamoDBRecord["eventName"],
      dynamodb: {
        ...(next ? { NewImage: marshall(next) as never } : {}),
        ...(prev ? { OldImage: marshall(prev) as never } : {}),
      },
    });
    const samples: Array<[string, DynamoDBRecord]> = [
      ["approved on insert", record("INSERT", request("APPROVED"))],
      ["PENDING -> APPROVED", record("MODIFY", request("APPROVED"), request("PENDING"))],
      ["FAILED -> APPROVED (retry)", record("MODIFY", request("APPROVED"), request("FAILED"))],
      ["progress write APPROVED -> APPROVED", record("MODIFY", request("APPROVED"), request("APPROVED"))],
      ["APPROVED -> ACTIVE", record("MODIFY", request("ACTIVE"), request("APPROVED"))],
      ["new PENDING request", record("INSERT", request("PENDING"))],
      ["removed request", record("REMOVE", undefined, request("APPROVED"))],
      ["audit event", record("INSERT", { pk: "REQ#r1", sk: "AUDIT#2026#e1", kind: "approved" })],
      ["secret", record("INSERT", { pk: "SECRET#s1", sk: "SECRET", ttl: 1 })],
      ["PENDING -> DENIED", record("MODIFY", request("DENIED"), request("PENDING"))],
      ["denied card annotated (DENIED -> DENIED)", record("MODIFY", request("DENIED"), request("DENIED"))],
      ["PENDING -> CANCELLED", record("MODIFY", request("CANCELLED"), request("PENDING"))],
      ["PENDING -> EXPIRED", record("MODIFY", request("EXPIRED"), request("PENDING"))],
      ["job queued", record("INSERT", job("QUEUED"))],
      ["job claimed", record("MODIFY", job("RUNNING"), job("QUEUED"))],
      ["job done", record("MODIFY", job("DONE"), job("RUNNING"))],
      ["job aged out (TTL)", record("REMOVE", undefined, job("DONE"))],
    ];
    for (const [what, r] of samples) {
      const filtered = patterns.some((p) => matchesFilter(p, r as unknown as Json));
      const handled =
        approvedRequestId(r) !== undefined || queuedJob(r) !== undefined || deniedRequest(r) !== undefined;
      expect(filtered, what).toBe(handled);
    }
  });

  it("runs the expiry job on a schedule", () => {
    const rule = only(botJson, "AWS::Events::Rule");
    expect(rule.properties.ScheduleExpression).toBe("rate(1 hour)");
    const targets = rule.properties.Targets as Array<{ Arn: unknown; RetryPolicy?: unknown }>;
    expect(render(targets[0]?.Arn)).toBe(`<${functionNamed(botJson, "Expiry").logicalId}.Arn>`);
  });

  it("routes POST /slack/events to the bot, and GET/HEAD/POST /s/{id} and GET /robots.txt to the secret-link function", () => {
    const routes = resources(botJson, "AWS::ApiGatewayV2::Route");
    expect(routes.map((r) => r.properties.RouteKey).sort()).toEqual(
      [
        `GET ${SECRET_LINK_ROUTE}`,
        `HEAD ${SECRET_LINK_ROUTE}`,
        `POST ${SECRET_LINK_ROUTE}`,
        `GET ${ROBOTS_TXT_PATH}`,
        `POST ${SLACK_EVENTS_PATH}`,
      ].sort(),
    );
    const integrationTarget = (routeKey: string) => {
      const route = routes.find((r) => r.properties.RouteKey === routeKey);
      const integrationId = render(route?.properties.Target).replace(/^integrations\/<(.+)>$/, "$1");
      const integration = resources(botJson, "AWS::ApiGatewayV2::Integration").find(
        (i) => i.logicalId === integrationId,
      );
      return render(integration?.properties.IntegrationUri);
    };
    expect(integrationTarget(`POST ${SLACK_EVENTS_PATH}`)).toBe(
      `<${functionNamed(botJson, "Bot").logicalId}.Arn>`,
    );
    expect(integrationTarget(`GET ${SECRET_LINK_ROUTE}`)).toBe(
      `<${functionNamed(botJson, "SecretLink").logicalId}.Arn>`,
    );
    expect(integrationTarget(`POST ${SECRET_LINK_ROUTE}`)).toBe(
      `<${functionNamed(botJson, "SecretLink").logicalId}.Arn>`,
    );
    // What src/secret-link/handler.ts answers: HEAD like GET without a body, and a robots.txt.
    for (const key of [`HEAD ${SECRET_LINK_ROUTE}`, `GET ${ROBOTS_TXT_PATH}`]) {
      expect(integrationTarget(key), key).toBe(`<${functionNamed(botJson, "SecretLink").logicalId}.Arn>`);
    }
    // API Gateway may invoke the secret-link function for the robots.txt route too.
    const permissions = resources(botJson, "AWS::Lambda::Permission").filter(
      (p) => render(p.properties.FunctionName) === `<${functionNamed(botJson, "SecretLink").logicalId}.Arn>`,
    );
    expect(permissions.map((p) => render(p.properties.SourceArn)).join("\n")).toContain(
      `/*/*${ROBOTS_TXT_PATH}`,
    );
  });

  it("logs API access by route key, so a secret link's id never reaches the logs", () => {
    const stage = only(botJson, "AWS::ApiGatewayV2::Stage");
    const format = (stage.properties.AccessLogSettings as { Format: string }).Format;
    expect(format).toContain("$context.routeKey");
    expect(format).not.toMatch(/\$context\.(path|resourcePath)|rawPath/);
    expect(stage.properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
  });

  it("gives each function the environment its config loader reads", () => {
    const env = (name: (typeof FUNCTIONS)[number]) =>
      (functionNamed(botJson, name).properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
    expect(Object.keys(env("Bot"))).toEqual(
      expect.arrayContaining([
        "TABLE_NAME",
        "SLACK_SIGNING_SECRET_ARN",
        "SLACK_BOT_TOKEN_ARN",
        "SLACK_BOT_ID",
        "SLACK_BOT_USER_ID",
        "ADMIN_USER_IDS",
        "ADMIN_CHANNEL_ID",
        "BUCKET",
      ]),
    );
    // The bot does no AWS work beyond the table: what only the service layer reads stays out.
    for (const key of ["SECRET_LINK_BASE_URL", "AWS_ACCOUNT_ID", "IAM_PATH", "UPLOADERS_GROUP"]) {
      expect(Object.keys(env("Bot")), key).not.toContain(key);
    }
    expect(env("Bot").ADMIN_USER_IDS).toBe(CONTEXT.adminUserIds);
    // The guide is the bot's alone (help); the other functions never link it.
    expect(env("Bot").HELP_URL).toBe(CONTEXT.helpUrl);
    for (const name of ["Provisioner", "SecretLink", "Expiry"] as const)
      expect(Object.keys(env(name)), name).not.toContain("HELP_URL");
    expect(Object.keys(env("SecretLink"))).toEqual(
      expect.arrayContaining(["TABLE_NAME", "SLACK_BOT_TOKEN_ARN"]),
    );
    for (const name of ["Provisioner", "Expiry"] as const) {
      expect(Object.keys(env(name)), name).toEqual(
        expect.arrayContaining([
          "TABLE_NAME",
          "ADMIN_CHANNEL_ID",
          "SLACK_BOT_TOKEN_ARN",
          "AWS_ACCOUNT_ID",
          "BUCKET",
          "ACCESS_GRANTS_LOCATION_ID",
          "UPLOADERS_GROUP",
          "IAM_PATH",
          "SECRET_LINK_BASE_URL",
        ]),
      );
    }
    for (const name of FUNCTIONS) {
      expect(JSON.stringify(env(name)), name).not.toMatch(/xoxb-|xapp-/);
    }
  });

  it("sets only variables its loader's contract names, and the loader accepts them as deployed", () => {
    const contracts = {
      Bot: BOT_ENV,
      Provisioner: SERVICE_ENV,
      SecretLink: SECRET_LINK_ENV,
      Expiry: SERVICE_ENV,
    };
    const loaders = {
      Bot: loadBotConfig,
      Provisioner: loadServiceConfig,
      SecretLink: loadSecretLinkConfig,
      Expiry: loadServiceConfig,
    };
    // What CloudFormation resolves the references to, in the formats the loaders check.
    const deployed: Record<string, string> = {
      TABLE_NAME: "CytoskelBot-RequestsTable-ABC123",
      SLACK_SIGNING_SECRET_ARN:
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/signing-AbCdEf",
      SLACK_BOT_TOKEN_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cytoskel/bot-AbCdEf",
      SECRET_LINK_BASE_URL: "https://abc123.execute-api.us-east-1.amazonaws.com",
      AWS_ACCOUNT_ID: "123456789012",
      ACCESS_GRANTS_LOCATION_ID: "a1b2c3d4-0000-4000-8000-000000000001",
      UPLOADERS_GROUP: "staging_cpg_uploaders",
      BUCKET: "staging-cellpainting-gallery",
    };
    for (const name of FUNCTIONS) {
      const variables = (
        functionNamed(botJson, name).properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      // NODE_OPTIONS is Node's own (CytoskelFunction turns source maps on), not a loader's setting.
      const known = [...Object.keys(contracts[name]), "NODE_OPTIONS"];
      for (const key of Object.keys(variables)) expect(known, `${name} sets ${key}`).toContain(key);
      const resolved = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, typeof v === "string" ? v : deployed[k]]),
      );
      expect(() => loaders[name]({ ...resolved, AWS_REGION: "us-east-1" }), name).not.toThrow();
    }
  });
});

describe("failure alarms as the CLI synthesizes them (every setting: test/cdk/alarms.test.ts)", () => {
  it("has the provisioner-errors, dead-letter-depth and expiry-errors alarms, without actions by default", () => {
    const metric = (namespace: string, name: string, dimension: Json) =>
      bot.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: namespace,
        MetricName: name,
        Dimensions: [dimension],
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        AlarmActions: Match.absent(),
      });
    metric("AWS/Lambda", "Errors", {
      Name: "FunctionName",
      Value: { Ref: functionNamed(botJson, "Provisioner").logicalId },
    });
    metric("AWS/Lambda", "Errors", {
      Name: "FunctionName",
      Value: { Ref: functionNamed(botJson, "Expiry").logicalId },
    });
    metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {
      Name: "QueueName",
      Value: { "Fn::GetAtt": ["ProvisionerDlq8DA8DC37", "QueueName"] },
    });
    bot.resourceCountIs("AWS::CloudWatch::Alarm", 3);
    bot.resourceCountIs("AWS::SNS::Topic", 0);
  });
});

describe("Slack manifest vs the deployed routes", () => {
  /** The output as CloudFormation would resolve it for an API with id "abc123" in us-east-1. */
  function deployedOutput(name: string): string {
    const value = render(((botJson.Outputs as Json)[name] as { Value: unknown }).Value);
    return value
      .replace("<AWS::Region>", "us-east-1")
      .replace("<AWS::URLSuffix>", "amazonaws.com")
      .replace(/<Api[A-Za-z0-9]+>/, "abc123");
  }

  it("points the slash command, interactivity and events at the stack's POST /slack/events route", () => {
    bot.hasOutput("SlackRequestUrl", { Value: Match.anyValue() });
    const requestUrl = deployedOutput("SlackRequestUrl");
    expect(requestUrl).toBe(`https://abc123.execute-api.us-east-1.amazonaws.com${SLACK_EVENTS_PATH}`);
    const manifest = buildSlackManifest({ requestUrl }) as {
      features: { slash_commands: Array<{ url: string; should_escape: boolean }> };
      settings: {
        interactivity: { request_url: string };
        event_subscriptions: { request_url: string };
        socket_mode_enabled: boolean;
      };
    };
    const urls = [
      ...manifest.features.slash_commands.map((c) => c.url),
      manifest.settings.interactivity.request_url,
      manifest.settings.event_subscriptions.request_url,
    ];
    const routeKeys = resources(botJson, "AWS::ApiGatewayV2::Route").map((r) => r.properties.RouteKey);
    for (const url of urls) {
      expect(new URL(url).host).toBe("abc123.execute-api.us-east-1.amazonaws.com");
      expect(routeKeys).toContain(`POST ${new URL(url).pathname}`);
    }
    expect(manifest.features.slash_commands[0]?.should_escape).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  it("builds secret links on the stack's GET and POST /s/{id} routes", () => {
    const base = deployedOutput("SecretLinkBaseUrl");
    const linkPath = new URL(`${base}/s/ID`).pathname.replace(/ID$/, "{id}");
    const routeKeys = resources(botJson, "AWS::ApiGatewayV2::Route").map((r) => r.properties.RouteKey);
    expect(routeKeys).toEqual(expect.arrayContaining([`GET ${linkPath}`, `POST ${linkPath}`]));
    const provisionerEnv = (
      functionNamed(botJson, "Provisioner").properties.Environment as { Variables: Json }
    ).Variables;
    expect(render(provisionerEnv.SECRET_LINK_BASE_URL)).toBe(
      render(((botJson.Outputs as Json).SecretLinkBaseUrl as { Value: unknown }).Value),
    );
  });
});
