import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "cdk/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two cores here and in CI: more workers only fight over them.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
