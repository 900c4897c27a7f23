import { execFile } from "node:child_process";
import { promisify } from "node:util";

// The contract for a bench section: a module in bench/ (not index.ts, not starting with "_") that
// exports `section`. bench/index.ts finds and runs them, so adding one needs no edit elsewhere.
export interface BenchSection {
  /** Short name used to select it: `npm run bench -- store`. */
  name: string;
  /** Runs the measurements and returns figures to print as `name  metric  value unit`. */
  run(): Promise<BenchFigure[]>;
}

export interface BenchFigure {
  metric: string;
  value: number;
  unit: string;
}

/** The p-th percentile (nearest rank) of an ascending list; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** The median (p50, nearest rank) of unsorted figures. */
export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const execNode = promisify(execFile);

/** Wall time of one fresh `node <args>` process, start to exit (warnings off). */
export async function nodeWallMs(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const t = performance.now();
  await execNode(process.execPath, args, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { ...(opts.env ?? process.env), NODE_NO_WARNINGS: "1" },
  });
  return performance.now() - t;
}
