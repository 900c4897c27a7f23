// `npm run build` (and `prepare`, so `npm ci` leaves a working `npx cytoskel`): the admin CLI bundled
// by esbuild into dist/cytoskel.mjs, with a shebang and a source map, so it starts without tsx.
// Plain JavaScript on purpose: it runs right after `npm ci`, before anything else is set up.
import { chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "cytoskel.mjs");

await build({
  entryPoints: [join(root, "src", "cli", "main.ts")],
  outfile,
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
