import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Every suite that talks to DynamoDB (except the store suite, which runs per engine and skips by
// itself) uses the run's one shared DynamoDB Local, started by the global setup. It needs Java 17+:
// without it those files cannot run, so they are left out and named in a warning.
const needsJava = (() => {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (!java.error && java.status === 0) return [];
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (
        entry.name.endsWith(".test.ts") &&
        /startDynamo\(|harness\.ts"|dev\/playground\.ts"/.test(readFileSync(path, "utf8"))
      )
        files.push(path);
    }
  };
  walk("test");
  console.warn(
    `[vitest] SKIPPING ${files.length} suites that need DynamoDB Local: java is not installed ` +
      `(DynamoDB Local needs Java 17+; .ci/run installs default-jre-headless):\n  ${files.join("\n  ")}`,
  );
  return files;
})();

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "cdk/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...needsJava],
    globalSetup: ["test/support/dynamodb-global-setup.ts", "test/support/synth-global-setup.ts"],
    setupFiles: ["test/support/dynamodb-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two cores here and in CI: more workers only fight over them.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
