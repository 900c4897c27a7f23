// `npm run build` (and `prepare`, so `npm ci` leaves a working `npx cytoskel`): the admin CLI bundled
// by esbuild into dist/cytoskel.mjs, with a shebang and a source map, so it starts without tsx.
// Plain JavaScript on purpose: it runs right after `npm ci`, before anything else is set up.
import { chmod, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist");
const outfile = join(outdir, "cytoskel.mjs");

// Chunks are named by content hash: a rebuild must not leave the last build's beside them.
await rm(join(outdir, "chunks"), { recursive: true, force: true });
await build({
  entryPoints: { cytoskel: join(root, "src", "cli", "main.ts") },
  outdir,
  outExtension: { ".js": ".mjs" },
  // What a command loads with import() (the AWS SDK, the cdk runner) goes into its own chunk, so a
  // `--help` or a credential_process answered from the cache parses only what it runs.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // The AWS SDK and commander are bundled: nothing is resolved from node_modules at start.
  packages: "bundle",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cytoskelCreateRequire } from 'node:module'; const require = __cytoskelCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
await chmod(outfile, 0o755);
