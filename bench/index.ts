// `npm run bench` runs every section module in bench/ (see section.ts); `npm run bench -- store prov`
// runs only the named ones. Sections run one after another so their figures do not disturb each other.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchFigure, BenchSection } from "./section.ts";

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = new Set(["index.ts", "section.ts"]);

async function loadSections(): Promise<BenchSection[]> {
  const files = (await readdir(here)).filter((f) => f.endsWith(".ts") && !SKIP.has(f) && !f.startsWith("_"));
  const sections: BenchSection[] = [];
  for (const file of files.sort()) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { section?: BenchSection };
    if (!mod.section) throw new Error(`bench/${file} exports no \`section\``);
    sections.push(mod.section);
  }
  return sections;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const sections = (await loadSections()).filter((s) => wanted.length === 0 || wanted.includes(s.name));
  if (sections.length === 0) throw new Error(`no bench section matches ${wanted.join(", ")}`);
  // Figures depend on what else runs: print the machine's load with them.
  const load = loadavg().map((l) => l.toFixed(1));
  console.log(`bench on ${cpus().length} CPUs, load average ${load.join(" ")} (1/5/15 min)`);
  const results: { section: string; seconds: number; load: number; figures: BenchFigure[] }[] = [];
  for (const section of sections) {
    const started = performance.now();
    const figures = await section.run();
    const seconds = (performance.now() - started) / 1000;
    results.push({ section: section.name, seconds, load: loadavg()[0] ?? 0, figures });
    console.log(`  ran ${section.name} (${seconds.toFixed(1)} s)`);
  }
  // One table: every section's figures in the same columns, so a run reads (and diffs) as one.
  const rows = results.flatMap((r) => r.figures.map((f) => [r.section, f.metric, format(f.value), f.unit]));
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  console.log();
  for (const [section, metric, value, unit] of rows) {
    console.log(
      `${(section ?? "").padEnd(widths[0] ?? 0)}  ${(metric ?? "").padEnd(widths[1] ?? 0)}  ${(value ?? "").padStart(widths[2] ?? 0)} ${unit}`,
    );
  }
  // The same figures as JSON (not committed: bench/results/ is git-ignored), one file per run.
  const dir = join(import.meta.dirname, "results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify({ cpus: cpus().length, loadBefore: load, results }, null, 2)}\n`);
  console.log(`\nwritten: ${file}`);
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
