/**
 * Lambda entry of the provisioner: triggered by the requests table's stream (NEW_AND_OLD_IMAGES,
 * with FunctionResponseTypes ["ReportBatchItemFailures"] on the event source mapping).
 * Config is read and clients are made once per cold start (see src/service/runtime.ts for variables);
 * a bad config fails the first invocation with a message naming every bad setting.
 */

import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { logLambdaContext } from "../log.ts";
import { lazyServiceRuntime } from "../service/runtime.ts";
import { handleProvisionerEvent } from "./handler.ts";

const runtime = lazyServiceRuntime();

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  logLambdaContext(context);
  const { deps, config, locksFor } = await runtime.get();
  // A lock held by an invocation that timed out frees itself when that invocation would have ended.
  const locks = locksFor(context.getRemainingTimeInMillis());
  return handleProvisionerEvent({ ...deps, locks }, event, {
    maxAttempts: config.provision.maxAttempts,
    backoffMs: config.provision.backoffMs,
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  });
}

/** Tests and the playground start from a clean slate. */
export function resetProvisionerForTests(): void {
  runtime.reset();
}
