// One structured logger for every Lambda and the playground: Powertools for AWS Lambda's Logger (JSON
// lines CloudWatch Logs Insights can query; level from POWERTOOLS_LOG_LEVEL or Lambda's log level;
// each line carries the Lambda request id once an entry hands over its context). An Error under any
// key is logged with its name, message, stack and cause. Callers pass ids, states and errors — never
// secrets or tokens (the errors this code raises name settings and AWS codes, never values).
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";

export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const powertools = new PowertoolsLogger({ serviceName: "cytoskel" });

export const jsonLogger: Logger = {
  info: (event, fields) => powertools.info(event, fields ?? {}),
  warn: (event, fields) => powertools.warn(event, fields ?? {}),
  error: (event, fields) => powertools.error(event, fields ?? {}),
};

/** Called by each Lambda entry per invocation: the request id and function name go on every line. */
export function logLambdaContext(context: unknown): void {
  const c = context as Parameters<PowertoolsLogger["addContext"]>[0] | undefined;
  if (c && typeof c.awsRequestId === "string") powertools.addContext(c);
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
