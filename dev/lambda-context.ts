// The Context Lambda hands an invocation, as much of it as the entries read (remaining time for lock
// leases and retry deadlines, the request id for log lines).
import type { Context } from "aws-lambda";
import type { FunctionName } from "./deployed-roles.ts";

export function lambdaContext(fn: FunctionName, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: `cytoskel-${fn}`,
    awsRequestId: crypto.randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as Partial<Context> as Context;
}
