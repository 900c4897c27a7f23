// vitest globalSetup: build the CLI (dist/cytoskel.mjs, the package's bin) from the current source, so
// the suites that run it as a child process test this checkout, not the build `npm ci` left.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, "../../scripts/build-cli.mjs")], {
    stdio: "inherit",
  });
}
