/**
 * The "Older events" button under an audit page: the next page as a new ephemeral message through the
 * click's response_url (the page before stays on screen). The clicker must be an admin now (the button
 * may have been forwarded or outlived their role); the value is only ever read, never trusted for it.
 */

import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { AUDIT_OLDER_ACTION_ID } from "../../slack/action-ids.ts";
import { readAudit } from "../audit.ts";
import { decodeAuditCursor } from "../audit-view.ts";
import type { BotContext } from "../context.ts";
import { userTextFor } from "../errors.ts";
import { cardPayload } from "../payloads.ts";

export function register(app: App, ctx: BotContext): void {
  app.action<BlockAction<ButtonAction>>(
    AUDIT_OLDER_ACTION_ID,
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const next = decodeAuditCursor(action.value);
      let reply: Awaited<ReturnType<typeof readAudit>>;
      try {
        reply = next
          ? await readAudit(ctx, body.user.id, client, next.target, next.cursor)
          : "That button is malformed; nothing was read.";
      } catch (err) {
        ctx.log.error("audit_page_failed", { error: err });
        reply = userTextFor(err);
      }
      try {
        await respond({
          response_type: "ephemeral",
          replace_original: false,
          ...(typeof reply === "string" ? { text: reply } : cardPayload(reply)),
        });
      } catch (err) {
        ctx.log.warn("audit_page_not_sent", { error: err });
      }
    },
  );
}
