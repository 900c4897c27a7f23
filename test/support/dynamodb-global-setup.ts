// vitest globalSetup: ONE DynamoDB Local (in memory, telemetry off) for the whole run, instead of a JVM
// per test file (two cores here). Its endpoint reaches every test file through `provide`/`inject`
// (test/support/dynamodb-setup.ts puts it where dev/dynamodb.ts looks); each file makes its own
// uniquely named table. Without Java the java-only files are excluded in vitest.config.ts, with a warning.
import type { TestProject } from "vitest/node";
import { javaMissingReason, startDynamoDbLocal } from "../../dev/dynamodb.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's shared DynamoDB Local ("" when Java is missing). */
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = javaMissingReason();
  if (missing) {
    project.provide("dynamodbEndpoint", "");
    return undefined;
  }
  const engine = await startDynamoDbLocal({ killOnExit: true });
  if (!engine) throw new Error("DynamoDB Local reported available but did not start");
  project.provide("dynamodbEndpoint", engine.endpoint);
  return () => engine.stop();
}
