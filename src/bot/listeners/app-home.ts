/**
 * The App Home tab (src/bot/home.ts), published when the person opens it and again after they act
 * from it. Reads: the person's active grants and open requests; for admins also the pending queue,
 * grants ending within the reminder window, and the last failures (one Query each, in parallel).
 */

import type { App, BlockAction, webApi } from "@slack/bolt";
import { isOpen } from "../../rules/lifecycle.ts";
import { helpSections } from "../commands.ts";
import type { BotContext } from "../context.ts";
import { helpOptionsOf } from "../help.ts";
import { HOME_LIST_LIMIT, type HomeList, homeView } from "../home.ts";

export function register(app: App, ctx: BotContext): void {
  app.event("app_home_opened", async ({ event, client }) => {
    // Slack sends this event for the Messages tab too; only the Home tab shows a view.
    if (event.tab && event.tab !== "home") return;
    await publishHome(ctx, client, event.user);
  });
}

const asList = (page: { items: HomeList["items"]; cursor?: unknown }): HomeList => ({
  items: page.items,
  more: page.cursor !== undefined,
});

/** Builds and publishes one person's Home; a failure is logged (the Home is a view, not a record). */
export async function publishHome(ctx: BotContext, client: webApi.WebClient, userId: string): Promise<void> {
  const { store } = ctx;
  const limit = HOME_LIST_LIMIT;
  try {
    const [admin, active, mine] = await Promise.all([
      ctx.isAdmin(userId, client),
      store.listActiveByUser(userId, { limit }),
      store.listByRequester(userId, { limit: 25 }),
    ]);
    const open = mine.items.filter((r) => isOpen(r.status) && r.status !== "ACTIVE");
    const endBefore = new Date(ctx.clock().getTime() + ctx.config.reminderDays * 86_400_000).toISOString();
    const queue = admin
      ? await Promise.all([
          store.listByStatus("PENDING", { limit }),
          store.listActiveExpiringBefore(endBefore, { limit }),
          store.listByStatus("FAILED", { limit, newestFirst: true }),
        ])
      : undefined;
    await client.views.publish({
      user_id: userId,
      view: homeView({
        bucket: ctx.bucket,
        commandName: ctx.config.slack.commandName,
        reminderDays: ctx.config.reminderDays,
        help: helpSections({ ...helpOptionsOf(ctx), admin }),
        mine: { active: asList(active), open: { items: open, more: mine.cursor !== undefined } },
        ...(queue
          ? { admin: { pending: asList(queue[0]), ending: asList(queue[1]), failed: asList(queue[2]) } }
          : {}),
      }),
    });
  } catch (err) {
    ctx.log.warn("home_publish_failed", { error: err });
  }
}

/** After a click on the Home tab, show the Home as it now is. */
export async function refreshHomeAfter(
  ctx: BotContext,
  client: webApi.WebClient,
  body: BlockAction,
): Promise<void> {
  if (body.view?.type === "home") await publishHome(ctx, client, body.user.id);
}
