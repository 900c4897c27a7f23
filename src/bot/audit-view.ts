/**
 * The audit trail as admins read it in Slack: one section per event (when, who, what, scope, why),
 * newest first, and an "Older events" button that carries the next page (the target and the store's
 * opaque cursor). Pure builders; every piece of stored text (reasons, details, prefixes, actor ids) is
 * escaped before it reaches mrkdwn, so `<!channel>` or `<https://evil.example|x>` stay plain text.
 */
import type { types } from "@slack/bolt";
import { AUDIT_OLDER_ACTION_ID } from "../slack/action-ids.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { actions, button, code, context, escapeMrkdwn, section, slackDate } from "../slack/blocks.ts";
import type { AuditEvent, Page } from "../store/types.ts";
import type { AuditTarget } from "./commands.ts";

/** Events per Slack page: one section each keeps every block well under Slack's 3,000 characters. */
export const AUDIT_PAGE_SIZE = 10;
const MAX_BUTTON_VALUE = 2000;
const MAX_SHOWN_REASON = 300;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** What the "Older events" button carries. */
export interface AuditCursor {
  target: AuditTarget;
  cursor: string;
}

export function encodeAuditCursor(c: AuditCursor): string {
  const t = c.target;
  return JSON.stringify(t.kind === "user" ? { u: t.user.id, c: c.cursor } : { p: t.subPrefix, c: c.cursor });
}

export function decodeAuditCursor(value: string | undefined): AuditCursor | undefined {
  try {
    const v = JSON.parse(value ?? "") as { u?: unknown; p?: unknown; c?: unknown };
    if (typeof v.c !== "string" || !v.c) return undefined;
    if (typeof v.u === "string" && SLACK_USER_ID.test(v.u))
      return { target: { kind: "user", user: { id: v.u } }, cursor: v.c };
    if (typeof v.p === "string" && v.p) return { target: { kind: "prefix", subPrefix: v.p }, cursor: v.c };
  } catch {
    // fall through
  }
  return undefined;
}

/** A mention only for a real Slack user ID; anything else (a system actor) as inert text. */
function who(id: string): string {
  return SLACK_USER_ID.test(id) ? `<@${id}>` : escapeMrkdwn(id);
}

/** One event as one mrkdwn line: when — who — what (— about whom) — scope — why. */
export function auditEventLine(e: AuditEvent, opts: { showSubject: boolean }): string {
  const parts = [slackDate(e.at), `${who(e.actor.id)} (${e.actor.kind})`, code(e.action)];
  if (e.from || e.to) parts.push(`${e.from ?? "—"} → ${e.to ?? "—"}`);
  if (opts.showSubject) parts.push(`about ${who(e.subjectUserId)}`);
  if (e.scope) parts.push(code(e.scope));
  if (e.requestId) parts.push(`request ${code(e.requestId)}`);
  const details = Object.entries(e.details ?? {})
    .slice(0, 4)
    .map(([k, v]) => `${escapeMrkdwn(k)}=${escapeMrkdwn(String(v))}`);
  if (details.length) parts.push(`(${details.join(", ")})`);
  let line = parts.join(" — ");
  if (e.reason) {
    const shown = e.reason.length > MAX_SHOWN_REASON ? `${e.reason.slice(0, MAX_SHOWN_REASON)}…` : e.reason;
    line += `\n>${escapeMrkdwn(shown).replace(/\n/g, " ")}`;
  }
  return line;
}

function titleOf(target: AuditTarget): string {
  return target.kind === "user"
    ? `audit trail of ${who(target.user.id)}`
    : `audit trail at or under ${code(target.subPrefix)}`;
}

/** One page of events; `older` marks a page reached with the button. */
export function auditPageMessage(target: AuditTarget, page: Page<AuditEvent>, older = false): SlackMessage {
  const title = `${older ? "Older events in the" : "The"} ${titleOf(target)}, newest first`;
  const blocks: types.KnownBlock[] = [section(`*${title}*`)];
  if (page.items.length === 0)
    blocks.push(
      section(page.cursor ? "No matching events in this stretch; older ones may follow." : "No events."),
    );
  for (const e of page.items)
    blocks.push(section(auditEventLine(e, { showSubject: target.kind === "prefix" })));
  if (target.kind === "prefix")
    blocks.push(
      context("Events recorded before the trail was indexed by prefix are found with `audit @user`."),
    );
  if (page.cursor) {
    const value = encodeAuditCursor({ target, cursor: page.cursor });
    blocks.push(
      value.length <= MAX_BUTTON_VALUE
        ? actions("cytoskel_audit_paging", [button(AUDIT_OLDER_ACTION_ID, "Older events", value)])
        : context("More events follow; read them with `cytoskel cpgstaging audit` (the admin CLI)."),
    );
  }
  const text = `${title}: ${page.items.length} event(s)${page.cursor ? ", more follow" : ""}.`;
  return { text, blocks };
}
