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
