/** The help's settings from the bot config: one place, so `help`, usage errors and the App Home agree. */
import type { HelpOptions } from "./commands.ts";
import type { BotContext } from "./context.ts";

export function helpOptionsOf(ctx: Pick<BotContext, "config">): HelpOptions {
  const { slack, durations, helpUrl } = ctx.config;
  return {
    commandName: slack.commandName,
    defaultDurationDays: durations.defaultDays,
    maxDurationDays: durations.maxDays,
    ...(helpUrl ? { helpUrl } : {}),
  };
}
