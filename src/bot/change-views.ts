/**
 * Block Kit for an extension / change request (src/rules/change.ts): the admin card (Approve / Deny as
 * for requests, plus "Approve shorter…" when the change extends), the requester's receipt and the
 * answers when nothing new is filed. Pure builders; the typed reason is escaped.
 */
import type { types } from "@slack/bolt";
import { describeChange, recordedChange, shorterChoices } from "../rules/change.ts";
import { isRequestId, isSlackId } from "../rules/slack-ids.ts";
import { APPROVE_ACTION_ID, APPROVE_SHORTER_ACTION_ID, DENY_ACTION_ID } from "../slack/action-ids.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { button, context, quote, section, slackDate } from "../slack/blocks.ts";
import type { AccessRequest } from "../store/types.ts";
import { encodeButtonValue } from "./views.ts";

function scope(bucket: string, req: Pick<AccessRequest, "subPrefix">): string {
  return `s3://${bucket}/${req.subPrefix}`;
}

/** "Extension/change for <@U> on `s3://…/cpg0042/*`: end 2026-12-20 → 2027-01-19; WRITE → READWRITE" */
export function changeHeadline(bucket: string, req: AccessRequest): string {
  const change = recordedChange(req);
  return `Extension/change for <@${req.requesterUserId}> on \`${scope(bucket, req)}\`: ${change ? describeChange(change) : req.permission}`;
}

/** What an "Approve shorter…" option carries back. */
export interface ShorterValue {
  id: string;
  requester: string;
  days: number;
}

export function encodeShorterValue(v: ShorterValue): string {
  return JSON.stringify({ id: v.id, r: v.requester, d: v.days });
}

export function decodeShorterValue(raw: string | undefined): ShorterValue | undefined {
  try {
    const v = JSON.parse(raw ?? "") as { id?: unknown; r?: unknown; d?: unknown };
    // Only our own shape: a request ID, a Slack user ID and a whole number of days.
    if (!isRequestId(v.id) || typeof v.r !== "string" || !isSlackId("user", v.r)) return undefined;
    if (typeof v.d !== "number" || !Number.isInteger(v.d) || v.d < 1) return undefined;
    return { id: v.id, requester: v.r, days: v.d };
  } catch {
    return undefined;
  }
}

/** The admin-channel card of a change request. */
export function changeRequestCard(bucket: string, req: AccessRequest): SlackMessage {
  const value = encodeButtonValue({ id: req.id, requester: req.requesterUserId, request: req });
  const headline = changeHeadline(bucket, req);
  const blocks: types.KnownBlock[] = [
    section(`:arrows_counterclockwise: *${headline}*`),
    context(
      `Request \`${req.id}\` changes \`${req.changeOf}\`${req.durationDays ? ` · asked for ${req.durationDays} days from ${slackDate(req.createdAt)}` : ""} · no new key; approving moves the end and/or replaces the grant.`,
    ),
  ];
  if (req.reason) blocks.push(section(`*Reason*\n${quote(req.reason)}`));
  const elements: types.ActionsBlock["elements"] = [
    button(APPROVE_ACTION_ID, "Approve", value, "primary"),
    button(DENY_ACTION_ID, "Deny", value, "danger"),
  ];
  const change = recordedChange(req);
  const choices =
    change && req.durationDays
      ? shorterChoices(change, { askedAt: new Date(req.createdAt), durationDays: req.durationDays })
      : [];
  if (choices.length > 0) {
    elements.push({
      type: "static_select",
      action_id: APPROVE_SHORTER_ACTION_ID,
      placeholder: { type: "plain_text", text: "Approve shorter…" },
      options: choices.map((days) => ({
        text: { type: "plain_text", text: `Approve for ${days} day${days === 1 ? "" : "s"}` },
        value: encodeShorterValue({ id: req.id, requester: req.requesterUserId, days }),
      })),
    });
  }
  blocks.push({ type: "actions", block_id: "decision", elements });
  return { text: `${headline} (request ${req.id})`, blocks };
}

export function changeReceiptText(bucket: string, req: AccessRequest): string {
  const change = recordedChange(req);
  return [
    `:inbox_tray: Change request \`${req.id}\` filed for \`${scope(bucket, req)}\`: ${change ? describeChange(change) : req.permission}.`,
    "The admins have been asked; until they decide, your current access stays as it is. You'll get a direct message when it changes.",
    `Withdraw with \`/cytoskel cancel ${req.id}\`.`,
  ].join("\n");
}

/** A second ask while a change for the scope is open: the open one, nothing filed. */
export function changeAlreadyAskedText(bucket: string, req: AccessRequest): string {
  const change = recordedChange(req);
  return `You already asked: change request \`${req.id}\` for \`${scope(bucket, req)}\` (${change ? describeChange(change) : req.permission}) is ${req.status.toLowerCase()}, so nothing new was filed. Withdraw it with \`/cytoskel cancel ${req.id}\` to ask differently.`;
}

/** An ask for a scope whose request is not active yet (PENDING or APPROVED): answered, not re-filed. */
export function notYetActiveText(bucket: string, req: AccessRequest): string {
  const terms = `${req.permission}${req.durationDays ? `, ${req.durationDays} days` : ""}`;
  return req.status === "PENDING"
    ? `You already have request \`${req.id}\` for \`${scope(bucket, req)}\` (${terms}), still pending, so nothing new was filed. To ask for something else, cancel it (\`/cytoskel cancel ${req.id}\`) and file again.`
    : `Your request \`${req.id}\` for \`${scope(bucket, req)}\` (${terms}) is approved and being set up, so nothing new was filed. Once it is active you can ask to extend or change it.`;
}
