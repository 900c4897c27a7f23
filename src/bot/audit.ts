/**
 * `/cytoskel audit` for admins: one page of the trail about a person (auditByUser) or about every scope
 * at or under a prefix (auditByDataset), newest first. Shared by the slash command and the "Older
 * events" button; reads only (no write, no Slack call of its own).
 */
import type { webApi } from "@slack/bolt";
import { refusalText } from "../rules/authorization.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { AUDIT_PAGE_SIZE, auditPageMessage } from "./audit-view.ts";
import type { AuditTarget } from "./commands.ts";
import type { BotContext } from "./context.ts";

export async function readAudit(
  ctx: BotContext,
  actorUserId: string,
  client: webApi.WebClient,
  target: AuditTarget,
  cursor?: string,
): Promise<SlackMessage | string> {
  const verdict = await ctx.authorize("audit", actorUserId, client);
  if (!verdict.allowed) return refusalText(verdict.refusal, "audit");
  const reader = ctx.store.audit;
  if (!reader) return "Reading the audit trail isn't wired into this deployment; use the admin CLI.";
  const page = { limit: AUDIT_PAGE_SIZE, ...(cursor ? { cursor } : {}) };
  const events =
    target.kind === "user"
      ? await reader.listForUser(target.user.id, { ...page, newestFirst: true })
      : await reader.listForPrefix(target.subPrefix, page);
  ctx.log.info("audit_read", { by: actorUserId, target: target.kind, events: events.items.length });
  return auditPageMessage(target, events, cursor !== undefined);
}
