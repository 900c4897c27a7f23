// How the admin CLI's listings scale: `cytoskel cpgstaging list grant` and `list user` (the built bin,
// a fresh process each, against the local AWS as the account root) at two sizes, wall time and peak
// memory: max RSS (from /usr/bin/time) and, in a second run, the peak of what is still live after a
// full GC (bench/fixtures/live-heap.mjs). Live memory that grows with the listing means the pages are
// collected before printing instead of streamed out; RSS also grows with garbage not yet collected.

import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { CreateUserCommand } from "@aws-sdk/client-iam";
import { CreateAccessGrantCommand } from "@aws-sdk/client-s3-control";
import { seedAccessGrantsLocation, startLocalAws } from "../dev/local-aws/index.ts";
import { createIamClient, createS3ControlClient } from "../src/aws/clients.ts";
import type { BenchFigure, BenchSection } from "./section.ts";

const BIN = resolve(import.meta.dirname, "../dist/cytoskel.mjs");
const LIVE_HEAP = resolve(import.meta.dirname, "fixtures/live-heap.mjs");
const TIME = "/usr/bin/time";
const SIZES = { grant: [1_000, 10_000], user: [500, 5_000] } as const;
const run = promisify(execFile);

/** Run `fn` over 0..n-1, `width` at a time. */
async function inParallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export const section: BenchSection = {
  name: "cli-lists",
  async run(): Promise<BenchFigure[]> {
    execFileSync(process.execPath, [resolve(import.meta.dirname, "../scripts/build-cli.mjs")]);
    if (!existsSync(TIME)) {
      console.warn("cli-lists: /usr/bin/time is missing (Debian package time); no figures");
      return [];
    }
    const local = await startLocalAws();
    const { locationId } = seedAccessGrantsLocation(local);
    const iam = createIamClient({ env: local.env, maxAttempts: 1 });
    const s3control = createS3ControlClient({ env: local.env, region: "us-east-1", maxAttempts: 1 });
    const figures: BenchFigure[] = [];
    const measure = async (what: "grant" | "user", size: number) => {
      const { stderr, stdout } = await run(
        TIME,
        ["-f", "%e %M", process.execPath, BIN, "cpgstaging", "list", what],
        {
          env: { ...process.env, ...local.env, NODE_NO_WARNINGS: "1" },
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      const [seconds, kb] = (stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
      const traced = await run(
        process.execPath,
        ["--expose-gc", `--import=${LIVE_HEAP}`, BIN, "cpgstaging", "list", what],
        { env: { ...process.env, ...local.env, NODE_NO_WARNINGS: "1" }, maxBuffer: 256 * 1024 * 1024 },
      );
      const liveLine = traced.stderr.split("\n").find((l) => l.startsWith("cytoskel-bench-live-heap "));
      const live = JSON.parse(liveLine?.slice("cytoskel-bench-live-heap ".length) ?? "{}") as {
        heapUsed?: number;
        arrayBuffers?: number;
      };
      const lines = stdout.trim().split("\n").length;
      if (lines < size) throw new Error(`list ${what} printed ${lines} lines, expected ${size}`);
      figures.push({
        metric: `list ${what}, ${size} ${what}s: time`,
        value: (seconds ?? 0) * 1000,
        unit: "ms",
      });
      figures.push({
        metric: `list ${what}, ${size} ${what}s: peak memory (max RSS)`,
        value: (kb ?? 0) / 1024,
        unit: "MB",
      });
      figures.push({
        metric: `list ${what}, ${size} ${what}s: peak live heap + buffers after GC`,
        value: ((live.heapUsed ?? Number.NaN) + (live.arrayBuffers ?? 0)) / 1024 / 1024,
        unit: "MB",
      });
    };
    try {
      const user = await iam.send(new CreateUserCommand({ UserName: "lists_grantee", Path: "/cytoskel/" }));
      let grants = 0;
      let users = 1;
      for (const size of SIZES.grant) {
        await inParallel(size - grants, 16, (i) =>
          s3control.send(
            new CreateAccessGrantCommand({
              AccountId: local.accountId,
              AccessGrantsLocationId: locationId,
              AccessGrantsLocationConfiguration: { S3SubPrefix: `list${grants + i}/*` },
              Grantee: { GranteeType: "IAM", GranteeIdentifier: user.User?.Arn ?? "" },
              Permission: "READ",
            }),
          ),
        );
        grants = size;
        await measure("grant", size);
      }
      for (const size of SIZES.user) {
        await inParallel(size - users, 16, (i) =>
          iam.send(new CreateUserCommand({ UserName: `lists_user_${users + i}`, Path: "/cytoskel/" })),
        );
        users = size;
        await measure("user", size);
      }
      return figures;
    } finally {
      iam.destroy();
      s3control.destroy();
      await local.stop();
    }
  },
};
