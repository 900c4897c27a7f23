// How long a person waits for the CLI: `cytoskel --help` from the built bin (dist/cytoskel.mjs, what
// `npx cytoskel` runs) beside a bare `node -e 0` and beside the source run through tsx (how it ran
// before the build), interleaved in one run, median of RUNS.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type BenchFigure, type BenchSection, median, nodeWallMs } from "./section.ts";

const RUNS = 15;
const ROOT = join(import.meta.dirname, "..");
const run = promisify(execFile);

const wallMs = (args: string[]) => nodeWallMs(args, { cwd: ROOT });

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
    return [
      { metric: "bare node -e 0, p50", value: median(ms.bare), unit: "ms" },
      {
        metric: "cytoskel --help (built) above bare node, p50",
        value: median(ms.built) - median(ms.bare),
        unit: "ms",
      },
      {
        metric: "cytoskel --help (source via tsx) above bare node, p50",
        value: median(ms.tsx) - median(ms.bare),
        unit: "ms",
      },
    ];
  },
};
