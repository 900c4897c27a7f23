// The stand-in at the wire level (raw HTTP, no SDK): AWS's error envelopes, namespaces, statuses and
// header checks; and `npm run local-aws` printing a usable environment.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCliUnusableReason, proxyEnvTo } from "../../dev/aws-cli.ts";
import { seedUploadersGroup } from "../../dev/deployed-roles.ts";
import {
  LOCAL_ADMIN_CREDENTIALS,
  type LocalAws,
  seedAccessGrantsLocation,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import { signedHeaders } from "../../dev/local-aws/sigv4.ts";
import { createGrant, listLocations } from "../../src/aws/access-grants.ts";
import { createAccessKey } from "../../src/aws/access-keys.ts";
import { getAccountId } from "../../src/aws/account.ts";
import { createAwsClients, destroyAwsClients } from "../../src/aws/clients.ts";
import { addUserToGroup, createUser } from "../../src/aws/iam-users.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
let local: LocalAws;

beforeAll(async () => {
  local = await startLocalAws();
});
afterAll(async () => {
  await local.stop();
});

/** A raw request signed with the admin's (root) key, as the SDK would sign it. */
async function signed(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
  service: string,
) {
  const headers = signedHeaders({ url, ...init }, LOCAL_ADMIN_CREDENTIALS, { region: "us-east-1", service });
  const res = await fetch(url, { ...init, headers });
  return { status: res.status, text: await res.text() };
}

function iamQuery(body: string) {
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  return signed(local.url, { method: "POST", headers, body }, "iam");
}

function s3control(path: string, headers: Record<string, string> = {}) {
  return signed(`${local.url}/v20180820/${path}`, { method: "GET", headers }, "s3");
}

describe("IAM wire format", () => {
  it("answers a missing user with 404 and an IAM ErrorResponse", async () => {
    const { status, text } = await iamQuery("Action=GetUser&Version=2010-05-08&UserName=nobody");
    expect(status).toBe(404);
    expect(text).toContain('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(text).toContain("<Type>Sender</Type><Code>NoSuchEntity</Code>");
    expect(text).toContain("<Message>The user with name nobody cannot be found.</Message>");
  });

  it("wraps results in <Action>Response/<Action>Result with ResponseMetadata", async () => {
    const { status, text } = await iamQuery(
      "Action=CreateUser&Version=2010-05-08&UserName=wire&Path=%2Fcytoskel%2F",
    );
    expect(status).toBe(200);
    expect(text).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?><CreateUserResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><CreateUserResult><User><Path>\/cytoskel\/<\/Path><UserName>wire<\/UserName>/,
    );
    expect(text).toContain("<ResponseMetadata><RequestId>");
  });

  it("answers an unknown action with 400 InvalidAction", async () => {
    const { status, text } = await iamQuery("Action=FlyToTheMoon&Version=2010-05-08");
    expect(status).toBe(400);
    expect(text).toContain("<Code>InvalidAction</Code>");
  });

  it("refuses MaxItems outside 1..1000 with ValidationError", async () => {
    const { status, text } = await iamQuery("Action=ListUsers&Version=2010-05-08&MaxItems=0");
    expect(status).toBe(400);
    expect(text).toContain("<Code>ValidationError</Code>");
  });

  it("answers duplicate users with 409 EntityAlreadyExists, ignoring case like IAM", async () => {
    await iamQuery("Action=CreateUser&Version=2010-05-08&UserName=CaseUser");
    const { status, text } = await iamQuery("Action=CreateUser&Version=2010-05-08&UserName=caseuser");
    expect(status).toBe(409);
    expect(text).toContain("<Code>EntityAlreadyExists</Code>");
  });
});

describe("S3 Control wire format", () => {
  it("requires the x-amz-account-id header", async () => {
    const { status, text } = await s3control("accessgrantsinstance");
    expect(status).toBe(400);
    expect(text).toContain("<Code>InvalidRequest</Code>");
  });

  it("refuses another account's ID with 403 AccessDenied", async () => {
    const { status, text } = await s3control("accessgrantsinstance", { "x-amz-account-id": "210987654321" });
    expect(status).toBe(403);
    expect(text).toContain("<Error><Code>AccessDenied</Code>");
  });

  it("answers a missing instance with 404 AccessGrantsInstanceNotExistsError", async () => {
    const { status, text } = await s3control("accessgrantsinstance", { "x-amz-account-id": local.accountId });
    expect(status).toBe(404);
    expect(text).toContain("<Code>AccessGrantsInstanceNotExistsError</Code>");
  });

  it("refuses a continuation token it did not issue", async () => {
    seedAccessGrantsLocation(local);
    const { status, text } = await s3control("accessgrantsinstance/grants?nextToken=forged", {
      "x-amz-account-id": local.accountId,
    });
    expect(status).toBe(400);
    expect(text).toContain("<Code>InvalidRequest</Code>");
  });

  it("lists in the S3 Control namespace with AccessGrantsLocation members", async () => {
    seedAccessGrantsLocation(local);
    const { status, text } = await s3control("accessgrantsinstance/locations", {
      "x-amz-account-id": local.accountId,
    });
    expect(status).toBe(200);
    expect(text).toContain(
      '<ListAccessGrantsLocationsResult xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">',
    );
    expect(text).toContain("<AccessGrantsLocationsList><AccessGrantsLocation>");
    expect(text).toContain("<LocationScope>s3://staging-cellpainting-gallery/</LocationScope>");
  });
});

describe("npm run local-aws", () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("prints the environment that points the SDK at a seeded stand-in", async () => {
    // Same module the npm script runs, loaded through tsx's hook so there is one process to stop.
    child = spawn(process.execPath, ["--import", "tsx", "dev/local-aws-main.ts"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no environment printed:\n${out}`)), 15_000);
      child?.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Press Ctrl-C")) {
          clearTimeout(timer);
          done();
        }
      });
      child?.once("exit", (code) => fail(new Error(`exited with ${code}:\n${out}`)));
    });
    const env: Record<string, string> = {};
    for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = m[2] as string;
    expect(Object.keys(env).sort()).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_DEFAULT_REGION",
      "AWS_ENDPOINT_URL_IAM",
      "AWS_ENDPOINT_URL_S3_CONTROL",
      "AWS_ENDPOINT_URL_SECRETS_MANAGER",
      "AWS_ENDPOINT_URL_STS",
      "AWS_REGION",
      "AWS_SECRET_ACCESS_KEY",
    ]);
    expect(env.AWS_ENDPOINT_URL_IAM).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const clients = createAwsClients({ env, maxAttempts: 1 });
    try {
      const accountId = await getAccountId(clients.sts);
      expect(accountId).toBe("123456789012");
      const locations = await listLocations(clients.s3control, { accountId });
      expect(locations.map((l) => l.scope)).toEqual(["s3://staging-cellpainting-gallery/"]);
      expect(out).toContain(`(ID: ${locations[0]?.id})`);
    } finally {
      destroyAwsClients(clients);
    }
  });
});

const awsCliUnusable = awsCliUnusableReason();
if (awsCliUnusable) console.warn(`[test/aws/local-aws] skipping the AWS CLI test: ${awsCliUnusable}`);

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile("aws", args, { env, timeout: 25_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

describe.skipIf(awsCliUnusable !== undefined)("the AWS CLI (botocore) against the stand-in", () => {
  it("gets data access through HTTP_PROXY although it puts the account ID in front of the host", async () => {
    const { locationId, instanceArn, scope: locationScope } = seedAccessGrantsLocation(local);
    const admin = createAwsClients({ env: local.env, maxAttempts: 1 });
    let key: { accessKeyId: string; secretAccessKey: string };
    try {
      await seedUploadersGroup(admin.iam, local, {
        tableName: "unused",
        instanceArn,
        locationId,
        uploadersGroupName: "cli-uploaders",
      });
      const user = await createUser(admin.iam, { name: "cli-user" });
      await addUserToGroup(admin.iam, { userName: user.userName, groupName: "cli-uploaders" });
      key = await createAccessKey(admin.iam, user.userName);
      await createGrant(admin.s3control, {
        accountId: local.accountId,
        location: { id: locationId, scope: locationScope },
        scope: GrantScope.of("staging-cellpainting-gallery", "cpg0042/*"),
        permission: "READ",
        granteeArn: user.arn,
      });
    } finally {
      destroyAwsClients(admin);
    }
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: mkdtempSync(join(tmpdir(), "local-aws-cli-")),
      ...local.env,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      // Anything that would still go to an https AWS endpoint ends at the stand-in, never off the machine.
      ...proxyEnvTo(local.url),
    };
    const out = await run(
      [
        "s3control",
        "get-data-access",
        "--account-id",
        local.accountId,
        "--permission",
        "READ",
        "--target",
        "s3://staging-cellpainting-gallery/cpg0042/*",
        "--duration-seconds",
        "900",
      ],
      env,
    );
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toMatchObject({
      MatchedGrantTarget: "s3://staging-cellpainting-gallery/cpg0042/*",
      Credentials: { AccessKeyId: expect.stringMatching(/^ASIA/) },
    });
    expect(local.state.requests.at(-1)?.host).toBe(`${local.accountId}.127.0.0.1:${local.port}`);
  });
});
