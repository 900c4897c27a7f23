/**
 * Builds the HTTP handler (Lambda event in, Lambda result out) from its dependencies. The Lambda entry,
 * the playground's HTTP server, the tests and the benchmark all call this, so they run the same code.
 */

import type { webApi } from "@slack/bolt";
import { type BotLogger, type BotStore, createBotApp, type JobQueue } from "./app.ts";
import type { ResolvedBotConfig } from "./config.ts";
import { type LambdaHttpHandler, LambdaReceiver, type ReceiverLogger } from "./receiver.ts";

export interface BotHandlerDeps {
  config: ResolvedBotConfig;
  store: BotStore;
  clock?: () => Date;
  clientOptions?: webApi.WebClientOptions;
  jobs?: JobQueue;
  logger?: BotLogger;
  receiverLogger?: ReceiverLogger;
}

export function createBotHandler(deps: BotHandlerDeps): LambdaHttpHandler {
  const clock = deps.clock ?? (() => new Date());
  const receiver = new LambdaReceiver({
    signingSecret: deps.config.slack.signingSecret,
    now: () => clock().getTime(),
    ...(deps.receiverLogger ? { logger: deps.receiverLogger } : {}),
  });
  createBotApp({ ...deps, receiver });
  return receiver.toHandler();
}
