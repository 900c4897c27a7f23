/**
 * Lambda entry of the provisioner: triggered by the requests table's stream (NEW_AND_OLD_IMAGES,
 * with FunctionResponseTypes ["ReportBatchItemFailures"] on the event source mapping).
 * `createProvisionerHandlerFromEnv` is the one wiring: the Lambda export, the tests and the playground
 * all build the function through it from an environment (variables: SERVICE_ENV in
 * src/service/runtime.ts). Config is read and clients are made on the first invocation; a bad config
 * fails it with a message naming every bad setting.
 */

import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import type { Env } from "../config/env.ts";
import { logLambdaContext } from "../log.ts";
import { lazyServiceRuntime, type ServiceRuntimeOptions } from "../service/runtime.ts";
import { handleProvisionerEvent } from "./handler.ts";

export type ProvisionerHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse>;

export function createProvisionerHandlerFromEnv(
  env: Env,
  opts: ServiceRuntimeOptions = {},
): ProvisionerHandler {
  const runtime = lazyServiceRuntime(env, opts);
  return async (event, context) => {
    logLambdaContext(context);
    const { config, deps } = await runtime.get();
    // A lock held by an invocation that timed out frees itself when that invocation would have ended.
    return handleProvisionerEvent(
      await deps({ remainingTimeMs: context.getRemainingTimeInMillis() }),
      event,
      {
        maxAttempts: config.provision.maxAttempts,
        backoffMs: config.provision.backoffMs,
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
      },
    );
  };
}

export const handler: ProvisionerHandler = createProvisionerHandlerFromEnv(process.env);
