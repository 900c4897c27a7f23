// `npm run bench` runs every section module in bench/ (see section.ts); `npm run bench -- store prov`
// runs only the named ones. Sections run one after another so their figures do not disturb each other.
import { readdir } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchSection } from "./section.ts";

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
  for (const section of sections) {
    const started = performance.now();
    const figures = await section.run();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`\n## ${section.name}  (${seconds} s, load ${loadavg()[0]?.toFixed(1)})`);
    const width = Math.max(...figures.map((f) => f.metric.length));
    for (const f of figures) {
      const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(1);
      console.log(`  ${f.metric.padEnd(width)}  ${value.padStart(8)} ${f.unit}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
