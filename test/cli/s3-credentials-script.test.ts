// scripts/s3_credentials.sh, sourced in bash, with the real AWS CLI and jq against the local stand-in.
// The AWS CLI's S3 Control endpoint rules put the account ID in front of the host
// (123456789012.127.0.0.1), so its requests go through a tiny forwarding HTTP proxy to the stand-in.
// The contributor's user and grant are made by the operator through the CLI; the contributor's keys are
// then judged by the uploaders group's (synthesized) policy.

import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCliUnusableReason, proxyEnvTo } from "../../dev/aws-cli.ts";
import type { LocalAws } from "../../dev/local-aws/index.ts";
import { type CliAccount, REPO_ROOT, runInProcess, startCliAccount } from "./helpers.ts";

function has(tool: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const missing = ["bash", "jq"].filter((t) => !has(t)).map((t) => `${t} not installed`);
const awsCliUnusable = awsCliUnusableReason();
if (awsCliUnusable) missing.push(awsCliUnusable);
if (missing.length > 0) console.warn(`SKIPPED s3_credentials.sh tests: ${missing.join("; ")}`);

const SCRIPT = join(REPO_ROOT, "scripts/s3_credentials.sh");
const SCOPE = "s3://staging-cellpainting-gallery/";

describe.skipIf(missing.length > 0)("scripts/s3_credentials.sh (bash + AWS CLI + jq)", () => {
  let account: CliAccount;
  let local: LocalAws;
  let proxy: Server;
  let proxyUrl = "";
  let bob = { accessKeyId: "", secretAccessKey: "" };
  const home = mkdtempSync(join(tmpdir(), "cytoskel-script-home-"));

  beforeAll(async () => {
    account = await startCliAccount();
    local = account.local;
    const loc = account.locationId;
    const created = await runInProcess(["--json", "cpgstaging", "create", "user", "bob"], account);
    const doc = JSON.parse(created.stdout);
    bob = { accessKeyId: doc.accessKeyId, secretAccessKey: doc.secretAccessKey };
    const arn = doc.user.arn as string;
    expect((await runInProcess(["cpgstaging", "create", "grant", arn, loc, "cpg0042/"], account)).code).toBe(
      0,
    );

    // Forward every proxied request (absolute-form URL, any host) to the stand-in.
    proxy = createServer((req, res) => {
      // Not `new URL`: WHATWG URLs reject a host like 123456789012.127.0.0.1.
      const path = (req.url ?? "/").replace(/^https?:\/\/[^/]*/, "") || "/";
      const upstream = request(
        { host: "127.0.0.1", port: local.port, method: req.method, path, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    await account?.stop();
  });

  /** Source the script in a fresh bash and print the resulting AWS_* variables after a marker. */
  function source(
    args: string,
    extraEnv: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      AWS_ACCESS_KEY_ID: bob.accessKeyId,
      AWS_SECRET_ACCESS_KEY: bob.secretAccessKey,
      AWS_ENDPOINT_URL_S3_CONTROL: local.url,
      AWS_ENDPOINT_URL_STS: local.url,
      // https too: nothing may reach a real AWS endpoint.
      ...proxyEnvTo(proxyUrl),
      // Use the keys above, not a profile.
      CYTOSKEL_PROFILE: "",
      ...extraEnv,
    };
    const cmd = `source "${SCRIPT}" ${args}; rc=$?; echo "--- rc=$rc"; env | grep -E '^AWS_(ACCESS_KEY_ID|SESSION_TOKEN)=' | sort`;
    return new Promise((done) => {
      execFile("bash", ["-c", cmd], { env, timeout: 30_000 }, (err, stdout, stderr) => {
        done({ code: err ? 1 : 0, stdout, stderr });
      });
    });
  }

  it("exports temporary credentials for the granted prefix and says so", async () => {
    const calls = local.state.dataAccessCalls.length;
    const run = await source("cpg0042");
    expect(run.stderr).toBe("");
    const [before, after] = run.stdout.split("--- rc=");
    expect(before).toMatch(
      new RegExp(
        `^AWS credentials have been set successfully.\\nThey cover ${SCOPE.replaceAll("/", "\\/")}cpg0042\\/\\* \\(READWRITE\\) until \\S+\\.\\n$`,
      ),
    );
    expect(after).toMatch(/^0\nAWS_ACCESS_KEY_ID=ASIA\w+\nAWS_SESSION_TOKEN=\S+\n$/);
    expect(local.state.dataAccessCalls.slice(calls)).toEqual([
      expect.objectContaining({
        callerArn: "arn:aws:iam::123456789012:user/cytoskel/bob",
        target: `${SCOPE}cpg0042/*`,
        permission: "READWRITE",
        durationSeconds: 43_200,
        privilege: "Default",
      }),
    ]);
  });

  it("explains a missing grant and exports nothing", async () => {
    // The account given: one AWS CLI start fewer (each costs seconds).
    const run = await source(`'${SCOPE}cpg0043/*' readwrite`, { CYTOSKEL_ACCOUNT_ID: "123456789012" });
    expect(run.stdout).toBe(`--- rc=1\nAWS_ACCESS_KEY_ID=${bob.accessKeyId}\n`);
    expect(run.stderr).toMatch(
      /^Failed to get data access information: An error occurred \(AccessDenied\) when calling the GetDataAccess operation: /,
    );
    expect(run.stderr).toContain(
      `  -> No access grant gives you READWRITE on ${SCOPE}cpg0043/*. Check the prefix (and CYTOSKEL_PERMISSION; a READ grant does not give READWRITE), or ask an admin for a grant.\n`,
    );
    expect(run.stderr).not.toContain(bob.secretAccessKey);
  });

  it("in the wrong region names the region (IAM denies there before any instance is looked up)", async () => {
    const run = await source("cpg0042", {
      CYTOSKEL_REGION: "eu-west-1",
      CYTOSKEL_ACCOUNT_ID: "123456789012",
    });
    expect(run.stdout).toBe(`--- rc=1\nAWS_ACCESS_KEY_ID=${bob.accessKeyId}\n`);
    expect(run.stderr).toContain("arn:aws:s3:eu-west-1:123456789012:access-grants/default");
    expect(run.stderr).toContain(
      "  -> Wrong region: the staging bucket's grants are in us-east-1; check CYTOSKEL_REGION.\n",
    );
  });

  it("refuses a bad prefix or permission before calling AWS, and refuses to run unsourced", async () => {
    const requests = local.state.requests.length;
    const bad = await source("cpg0042/../x");
    expect(bad.stdout).toBe(`--- rc=2\nAWS_ACCESS_KEY_ID=${bob.accessKeyId}\n`);
    expect(bad.stderr).toBe(
      "s3_credentials: refused prefix 'cpg0042/../x': no empty, '.' or '..' segments, and '*' only at the end.\n",
    );
    const badPermission = await source("cpg0042/ admin");
    expect(badPermission.stdout).toBe(`--- rc=2\nAWS_ACCESS_KEY_ID=${bob.accessKeyId}\n`);
    expect(badPermission.stderr).toBe(
      "s3_credentials: unknown permission 'ADMIN'; allowed: READ, WRITE, READWRITE\n",
    );
    expect(local.state.requests.length).toBe(requests);

    const unsourced = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile("bash", [SCRIPT, "cpg0042/"], { timeout: 10_000 }, (_err, _stdout, stderr) => {
        done({ code: child.exitCode, stderr });
      });
    });
    expect(unsourced.code).toBe(2);
    expect(unsourced.stderr).toMatch(/^s3_credentials.sh must be sourced/);
  });
  it("the AWS CLI accepts `cytoskel credentials --format credential-process` as a credential_process", async () => {
    const cpHome = homeWithProcessProfile("cytoskel-cp-home-");
    const calls = local.state.dataAccessCalls.length;
    const requests = local.state.requests.length;
    const out = await callerIdentityThrough(cpHome, { bob, localUrl: local.url, proxyUrl });
    expect(local.state.dataAccessCalls.slice(calls)).toEqual([
      expect.objectContaining({
        target: `${SCOPE}cpg0042/*`,
        callerArn: "arn:aws:iam::123456789012:user/cytoskel/bob",
      }),
    ]);
    // The AWS CLI took the process's output and signed its own call with the temporary key, not bob's
    // long-lived one.
    const last = local.state.requests.slice(requests).at(-1);
    expect(last?.operation).toBe("GetCallerIdentity");
    expect(last?.accessKeyId).toMatch(/^ASIA/);
    expect(last?.accessKeyId).not.toBe(bob.accessKeyId);
    // The vended credentials are a session of the location's role, which GetCallerIdentity names.
    expect(last?.errorCode).toBeUndefined();
    expect(out.err).toBeNull();
    const me = JSON.parse(out.stdout) as { Account: string; Arn: string };
    expect(me.Account).toBe("123456789012");
    expect(me.Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/[\w+=,.@-]+\/bob$/);
  });

  it("as the AWS CLI's credential_process, the cache makes three `aws` calls cost one GetDataAccess", async () => {
    const cpHome = homeWithProcessProfile("cytoskel-cp-cached-home-");
    const calls = local.state.dataAccessCalls.length;
    const requests = local.state.requests.length;
    const keys = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const out = await callerIdentityThrough(cpHome, { bob, localUrl: local.url, proxyUrl });
      expect(out.err).toBeNull();
      expect(out.stderr).not.toContain(bob.secretAccessKey);
    }
    // Three GetCallerIdentity calls signed by the AWS CLI with the one cached session key; cytoskel itself
    // asked only the first time.
    const made = local.state.requests.slice(requests);
    for (const r of made.filter((r) => r.accessKeyId?.startsWith("ASIA"))) keys.add(r.accessKeyId ?? "");
    expect(local.state.dataAccessCalls.slice(calls)).toHaveLength(1);
    expect(local.state.dataAccessCalls.at(-1)?.durationSeconds).toBe(3600);
    expect(made.map((r) => r.operation)).toEqual([
      "GetCallerIdentity",
      "GetDataAccess",
      "GetCallerIdentity",
      "GetCallerIdentity",
      "GetCallerIdentity",
    ]);
    expect(keys.size).toBe(1);
  });
});

/** `aws sts get-caller-identity --profile cpg0042` with `home`'s ~/.aws/config (its credential_process). */
function callerIdentityThrough(
  home: string,
  as: { bob: { accessKeyId: string; secretAccessKey: string }; localUrl: string; proxyUrl: string },
): Promise<{ err: Error | null; stdout: string; stderr: string }> {
  const { bob, localUrl, proxyUrl } = as;
  return new Promise((done) => {
    execFile(
      "aws",
      ["sts", "get-caller-identity", "--profile", "cpg0042", "--output", "json"],
      {
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          // For the credential_process child (cytoskel): the long-lived keys and the stand-in.
          AWS_ACCESS_KEY_ID: bob.accessKeyId,
          AWS_SECRET_ACCESS_KEY: bob.secretAccessKey,
          AWS_ENDPOINT_URL_S3_CONTROL: localUrl,
          AWS_ENDPOINT_URL_STS: localUrl,
          ...proxyEnvTo(proxyUrl),
        },
      },
      (err, stdout, stderr) => done({ err, stdout, stderr }),
    );
  });
}

/** A fresh HOME whose ~/.aws/config has profile cpg0042 run the built cytoskel as its credential_process. */
function homeWithProcessProfile(prefix: string): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, ".aws"));
  const command = `${process.execPath} ${join(REPO_ROOT, "dist/cytoskel.mjs")} credentials --prefix cpg0042/ --format credential-process`;
  writeFileSync(
    join(home, ".aws/config"),
    `[profile cpg0042]\ncredential_process = ${command}\nregion = us-east-1\n`,
  );
  return home;
}
