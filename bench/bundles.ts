// What a cold start pays for code: each Lambda function bundled with the stack's own bundling config
// (cdk/lib/bundling.ts), its size, and the wall time of a fresh `node` that imports it beside a bare
// `node -e 0` in the same run (interleaved, median of RUNS), with and without --enable-source-maps (the
// functions set it). Nothing is invoked: importing an entry makes no network call. The "sdk floor" line
// is a bundle of only the clients the functions use (bench/fixtures/sdk-floor.ts): what no trimming of
// our code can go below.
//
// The import targets (issue 11: bot ≤ 100 ms, provisioner/expiry ≤ 80 ms, secret link ≤ 60 ms above bare
// Node) were set on a machine where the all-clients floor, bundled with the SDK's whole credential chain,
// imported in +69 ms. That "reference floor" is built here too, so each target is also checked as a ratio
// of it, which holds on a slower or busier machine: bot ≤ 100/69 of it, and so on.

const REFERENCE_FLOOR = "sdk floor as issue 11 measured it (whole credential chain)";
const REFERENCE_FLOOR_MS = 69;
const IMPORT_TARGET_MS: Record<string, number> = { bot: 100, provisioner: 80, expiry: 80, secretLink: 60 };

import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { DEFAULT_ENTRIES } from "../cdk/lib/app.ts";
import { CREDENTIAL_CHAIN, esbuildOptions } from "../cdk/lib/bundling.ts";
import { type BenchFigure, type BenchSection, median, nodeWallMs } from "./section.ts";

const RUNS = 15;

// As on Lambda: no extra CA bundle to load.
const { NODE_EXTRA_CA_CERTS: _unset, ...LAMBDA_LIKE_ENV } = process.env;
const wallMs = (args: string[]) => nodeWallMs(args, { env: LAMBDA_LIKE_ENV });

export const section: BenchSection = {
  name: "bundles",
  async run(): Promise<BenchFigure[]> {
    const dir = await mkdtemp(join(tmpdir(), "cytoskel-bundles-"));
    const figures: BenchFigure[] = [];
    try {
      const files: Record<string, string> = {};
      // The floor: the SDK clients and Slack's Web API alone, bundled the same way.
      const entries = {
        ...DEFAULT_ENTRIES,
        "sdk floor (all clients)": join(import.meta.dirname, "fixtures/sdk-floor.ts"),
        "sdk floor (secret link's clients)": join(import.meta.dirname, "fixtures/sdk-floor-secret-link.ts"),
      };
      for (const [fn, entry] of Object.entries({
        ...entries,
        [REFERENCE_FLOOR]: entries["sdk floor (all clients)"],
      })) {
        const outfile = join(dir, fn, "index.mjs");
        const options = esbuildOptions(entry, outfile);
        if (fn === REFERENCE_FLOOR) delete (options.alias as Record<string, string>)[CREDENTIAL_CHAIN];
        await build(options);
        files[fn] = outfile;
        figures.push({ metric: `${fn} bundle size`, value: (await stat(outfile)).size / 1024, unit: "KB" });
      }
      const bare: number[] = [];
      const above: Record<string, { plain: number[]; maps: number[] }> = {};
      for (let i = 0; i < RUNS; i++) {
        bare.push(await wallMs(["-e", "0"]));
        for (const [fn, file] of Object.entries(files)) {
          above[fn] ??= { plain: [], maps: [] };
          const importIt = ["--input-type=module", "-e", `await import(${JSON.stringify(file)})`];
          above[fn].plain.push(await wallMs(importIt));
          above[fn].maps.push(await wallMs(["--enable-source-maps", ...importIt]));
        }
      }
      const bareP50 = median(bare);
      figures.push({ metric: "bare node -e 0, p50", value: bareP50, unit: "ms" });
      // Plain against plain, with source maps against with source maps.
      for (const maps of [false, true] as const) {
        const of = (fn: string) => median((maps ? above[fn]?.maps : above[fn]?.plain) ?? []) - bareP50;
        for (const [fn, target] of Object.entries(IMPORT_TARGET_MS)) {
          figures.push({
            metric: `${fn} import as % of the reference floor's${maps ? " (both with source maps)" : ""}, target ≤ ${Math.round((100 * target) / REFERENCE_FLOOR_MS)}%`,
            value: (100 * of(fn)) / of(REFERENCE_FLOOR),
            unit: "%",
          });
        }
      }
      for (const [fn, t] of Object.entries(above)) {
        figures.push({
          metric: `${fn} import above bare node, p50`,
          value: median(t.plain) - bareP50,
          unit: "ms",
        });
        figures.push({
          metric: `${fn} import above bare node with --enable-source-maps, p50`,
          value: median(t.maps) - bareP50,
          unit: "ms",
        });
      }
      return figures;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
