// `aws` with `cytoskel credentials --format credential-process` as its credential_process, against the
// local AWS stand-in: five `aws sts get-caller-identity` calls each with the process uncached
// (--no-cache: STS + GetDataAccess every time), cached (an entry written by a first call), and with the
// contributor's static keys. Figures, not a pass/fail: the target is cached within 10% of static keys.
// The stand-in answers locally, so the cold figure understates what AWS's round trips cost.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AddUserToGroupCommand, CreateAccessKeyCommand, CreateUserCommand } from "@aws-sdk/client-iam";
import { CreateAccessGrantCommand } from "@aws-sdk/client-s3-control";
import { seedUploadersGroup } from "../dev/deployed-roles.ts";
import { LOCAL_ADMIN_CREDENTIALS, seedAccessGrantsLocation, startLocalAws } from "../dev/local-aws/index.ts";
import { createIamClient, createS3ControlClient } from "../src/aws/clients.ts";
import { type BenchFigure, type BenchSection, median, nodeWallMs } from "./section.ts";

const CALLS = 5;
const BIN = resolve(import.meta.dirname, "../dist/cytoskel.mjs");

function awsUsable(): boolean {
  try {
    execFileSync("aws", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function aws(env: Record<string, string>, profile?: string): Promise<void> {
  const args = ["sts", "get-caller-identity", "--output", "json", ...(profile ? ["--profile", profile] : [])];
  return new Promise((done, fail) => {
    execFile("aws", args, { env, timeout: 60_000 }, (err, _stdout, stderr) =>
      // stderr may carry the process's error; it never holds the long-lived secret (the tests check that).
      err ? fail(new Error(`aws failed: ${stderr.split("\n")[0]}`)) : done(),
    );
  });
}

/** Seconds per call, median of CALLS runs (one after another, as a user's shell would run them). */
async function timeCalls(run: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await run();
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export const section: BenchSection = {
  name: "credential-process",
  async run(): Promise<BenchFigure[]> {
    // The built bin, from this checkout's source (what `npx cytoskel` runs).
    execFileSync(process.execPath, [resolve(import.meta.dirname, "../scripts/build-cli.mjs")]);
    if (!awsUsable()) {
      console.warn("credential-process: `aws` is not installed; no figures");
      return [];
    }
    const local = await startLocalAws();
    const { locationId, instanceArn } = seedAccessGrantsLocation(local);
    const rootIam = createIamClient({ env: local.env, credentials: LOCAL_ADMIN_CREDENTIALS, maxAttempts: 1 });
    const rootS3Control = createS3ControlClient({
      env: local.env,
      credentials: LOCAL_ADMIN_CREDENTIALS,
      region: "us-east-1",
      maxAttempts: 1,
    });
    try {
      await seedUploadersGroup(rootIam, local, { tableName: "cytoskel-bench", instanceArn, locationId });
      const user = await rootIam.send(new CreateUserCommand({ UserName: "bench_user", Path: "/cytoskel/" }));
      await rootIam.send(
        new AddUserToGroupCommand({ UserName: "bench_user", GroupName: "staging_cpg_uploaders" }),
      );
      const key = (await rootIam.send(new CreateAccessKeyCommand({ UserName: "bench_user" }))).AccessKey;
      await rootS3Control.send(
        new CreateAccessGrantCommand({
          AccountId: local.accountId,
          AccessGrantsLocationId: locationId,
          AccessGrantsLocationConfiguration: { S3SubPrefix: "cpg0042/*" },
          Grantee: { GranteeType: "IAM", GranteeIdentifier: user.User?.Arn ?? "" },
          Permission: "READWRITE",
        }),
      );

      const home = mkdtempSync(join(tmpdir(), "cytoskel-bench-cp-"));
      mkdirSync(join(home, ".aws"));
      const process_ = `${process.execPath} ${BIN} credentials --prefix cpg0042/ --format credential-process`;
      writeFileSync(
        join(home, ".aws/config"),
        `[profile cached]\ncredential_process = ${process_}\nregion = us-east-1\n` +
          `[profile cold]\ncredential_process = ${process_} --no-cache\nregion = us-east-1\n`,
      );
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: key?.AccessKeyId ?? "",
        AWS_SECRET_ACCESS_KEY: key?.SecretAccessKey ?? "",
        AWS_ENDPOINT_URL_S3_CONTROL: local.url,
        AWS_ENDPOINT_URL_STS: local.url,
        // Nothing may reach a real AWS endpoint (all of ours are plain http on this machine).
        HTTPS_PROXY: "http://127.0.0.1:9",
        https_proxy: "http://127.0.0.1:9",
      };

      const staticKeys = await timeCalls(() => aws(env));
      const cold = await timeCalls(() => aws(env, "cold"));
      await aws(env, "cached"); // writes the entry
      const before = local.state.dataAccessCalls.length;
      const requestsBefore = local.state.requests.length;
      const cached = await timeCalls(() => aws(env, "cached"));
      // The process alone on a cache hit, beside a bare node (interleaved): how much of the gap is ours.
      const bare: number[] = [];
      const alone: number[] = [];
      const hitArgs = [BIN, "credentials", "--prefix", "cpg0042/", "--format", "credential-process"];
      for (let i = 0; i < 3 * CALLS; i++) {
        bare.push(await nodeWallMs(["-e", "0"], { env }));
        alone.push(await nodeWallMs(hitArgs, { env }));
      }
      const aboveBare = median(alone) - median(bare);
      const processCalls = local.state.requests
        .slice(requestsBefore)
        .filter((r) => r.operation !== "GetCallerIdentity" || !r.accessKeyId?.startsWith("ASIA")).length;
      return [
        { metric: `static keys, median of ${CALLS} aws calls`, value: staticKeys * 1000, unit: "ms" },
        { metric: "credential_process --no-cache", value: cold * 1000, unit: "ms" },
        { metric: "credential_process cached", value: cached * 1000, unit: "ms" },
        { metric: "cold / static", value: cold / staticKeys, unit: "x" },
        { metric: "cached / static (target <= 1.1)", value: cached / staticKeys, unit: "x" },
        { metric: "the process alone on a cache hit, above bare node, p50", value: aboveBare, unit: "ms" },
        {
          metric: "rest of the cached gap: the aws CLI running a process at all",
          value: cached * 1000 - staticKeys * 1000 - aboveBare - median(bare),
          unit: "ms",
        },
        {
          metric: "GetDataAccess while cached",
          value: local.state.dataAccessCalls.length - before,
          unit: "calls",
        },
        { metric: "AWS calls from the process while cached", value: processCalls, unit: "calls" },
      ];
    } finally {
      rootIam.destroy();
      rootS3Control.destroy();
      await local.stop();
    }
  },
};
