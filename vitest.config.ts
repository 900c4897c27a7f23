import { spawnSync } from "node:child_process";
import { defineConfig } from "vitest/config";

// Suites that need the run's shared DynamoDB Local (Java 17+; started once by the global setup). They
// form their own project, which is left out — with a warning naming it — where Java is missing. A new
// suite that starts DynamoDB Local (startDynamo, the playground, a harness) belongs here.
const DYNAMODB_LOCAL_SUITES = [
  "test/aws/authorization.test.ts",
  "test/bot/{app,audit,cards,change-flow,flow,help,home,identity,lambda,playground,receiver,status-failed}.test.ts",
  "test/cli/{audit,books,operator-policy,walkthrough}.test.ts",
  "test/contract/**/*.test.ts",
  "test/dev/stream.test.ts",
  "test/expiry/**/*.test.ts",
  "test/provisioner/**/*.test.ts",
  "test/secret-link/{browser,handler,lambda}.test.ts",
  "test/service/{change,close,crash,person-across-teams,provision,reconcile,reissue,revoke,revoke-other-group,user-lock}.test.ts",
  "test/store/jobs.test.ts",
  // Runs per engine and skips an engine that is missing; DynamoDB Local is this project's.
  "test/store/store-dynamodb-local.test.ts",
];

const java = spawnSync("java", ["-version"], { stdio: "ignore" });
const hasJava = !java.error && java.status === 0;
if (!hasJava) {
  console.warn(
    "[vitest] SKIPPING project dynamodb-local (the suites that need DynamoDB Local): java is not installed " +
      `(DynamoDB Local needs Java 17+; .ci/run installs default-jre-headless):\n  ${DYNAMODB_LOCAL_SUITES.join("\n  ")}`,
  );
}

export default defineConfig({
  test: {
    // The secrets scan (test/support/secrets-scan.ts) runs for every file of both projects.
    setupFiles: ["test/support/dynamodb-setup.ts", "test/support/secrets-scan-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two cores here and in CI: more workers only fight over them.
    maxWorkers: 2,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          // The CDK synth the role-seeding suites read from its cache (the second project's run hits it).
          globalSetup: ["test/support/synth-global-setup.ts", "test/support/cli-build-global-setup.ts"],
          include: ["test/**/*.test.ts", "cdk/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...DYNAMODB_LOCAL_SUITES],
        },
      },
      ...(hasJava
        ? [
            {
              extends: true as const,
              test: {
                name: "dynamodb-local",
                // One DynamoDB Local for the project, its endpoint handed to each file (dynamodb-setup.ts).
                globalSetup: ["test/support/dynamodb-global-setup.ts", "test/support/synth-global-setup.ts"],
                include: DYNAMODB_LOCAL_SUITES,
              },
            },
          ]
        : []),
    ],
  },
});
