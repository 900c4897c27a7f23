/** App Home shows the help text (an Events API JSON event: the non-ASCII base64 case lands here). */

import type { App } from "@slack/bolt";
import { section } from "../../slack/blocks.ts";
import { helpText } from "../commands.ts";
import type { BotContext } from "../context.ts";

export function register(app: App, ctx: BotContext): void {
  app.event("app_home_opened", async ({ event, client }) => {
    const admin = await ctx.isAdmin(event.user, client);
    await client.views.publish({
      user_id: event.user,
      view: {
        type: "home",
        blocks: [section(helpText({ admin, commandName: ctx.config.slack.commandName }))],
      },
    });
  });
}
