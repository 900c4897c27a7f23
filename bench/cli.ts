// How long a person waits for the CLI: `cytoskel --help` from the built bin (dist/cytoskel.mjs, what
// `npx cytoskel` runs) beside a bare `node -e 0` and beside the source run through tsx (how it ran
// before the build), interleaved in one run, median of RUNS.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type BenchFigure, type BenchSection, percentile } from "./section.ts";

const RUNS = 15;
const ROOT = join(import.meta.dirname, "..");
const run = promisify(execFile);

async function wallMs(args: string[]): Promise<number> {
  const t = performance.now();
  await run(process.execPath, args, { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: "1" } });
  return performance.now() - t;
}

export const section: BenchSection = {
  name: "cli",
  async run(): Promise<BenchFigure[]> {
    await run(process.execPath, [join(ROOT, "scripts/build-cli.mjs")]);
    const ms = { bare: [] as number[], built: [] as number[], tsx: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      ms.bare.push(await wallMs(["-e", "0"]));
      ms.built.push(await wallMs([join(ROOT, "dist/cytoskel.mjs"), "--help"]));
      ms.tsx.push(await wallMs(["--import", "tsx", join(ROOT, "src/cli/main.ts"), "--help"]));
    }
    const p50 = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    return [
      { metric: "bare node -e 0, p50", value: p50(ms.bare), unit: "ms" },
      {
        metric: "cytoskel --help (built) above bare node, p50",
        value: p50(ms.built) - p50(ms.bare),
        unit: "ms",
      },
      {
        metric: "cytoskel --help (source via tsx) above bare node, p50",
        value: p50(ms.tsx) - p50(ms.bare),
        unit: "ms",
      },
    ];
  },
};
