/**
 * Block Kit for what the bot itself says: the admin request card (and its decided forms), receipts,
 * status and pending lists, the deny modal. Pure builders; each message carries `text` as the
 * notification fallback. User-supplied text is escaped before it reaches mrkdwn.
 */
import type { types } from "@slack/bolt";
import { describeChange, recordedChange } from "../rules/change.ts";
import { isRequestId, isSlackId } from "../rules/slack-ids.ts";
import { APPROVE_ACTION_ID, DENY_ACTION_ID } from "../slack/action-ids.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { actions, button, context, escapeMrkdwn, quote, section, slackDate } from "../slack/blocks.ts";
import type { AccessRequest } from "../store/types.ts";

export const DENY_MODAL_CALLBACK_ID = "cytoskel_deny_modal";
export const DENY_REASON_BLOCK = "reason";
export const DENY_REASON_ACTION = "reason_input";

/** What a decision button carries: the request, and whose it is. Never trusted for who may decide: the
 *  store judges self-approval on the record it writes (TransitionInput.guard). */
export interface ButtonValue {
  id: string;
  requester: string;
  /** The request as filed: the click hands it to the store as its copy (`TransitionInput.current`), so an
   *  approval is one DynamoDB call. A stale copy only costs the store a retry (its write is conditioned
   *  on the copy's `updatedAt`, status and requester). Left out when it would not fit Slack's 2,000. */
  request?: AccessRequest;
}

const MAX_BUTTON_VALUE = 2000;

export function encodeButtonValue(v: ButtonValue): string {
  const small = JSON.stringify({ id: v.id, r: v.requester });
  if (!v.request) return small;
  const full = JSON.stringify({ id: v.id, r: v.requester, q: v.request });
  return full.length <= MAX_BUTTON_VALUE ? full : small;
}

/** The answer to a click whose value `decodeButtonValue` cannot read. */
export const MALFORMED_BUTTON_TEXT = "That button is malformed; nothing was changed.";

/** Accepts our JSON form, or a bare request ID (the provisioner's Retry button). */
export function decodeButtonValue(
  value: string | undefined,
): { id: string; requester?: string; request?: AccessRequest } | undefined {
  if (!value) return undefined;
  if (!value.startsWith("{")) return isRequestId(value) ? { id: value } : undefined;
  try {
    const v = JSON.parse(value) as { id?: unknown; r?: unknown; q?: Partial<AccessRequest> };
    if (!isRequestId(v.id)) return undefined;
    if (v.r === undefined) return { id: v.id };
    if (typeof v.r !== "string" || !isSlackId("user", v.r)) return undefined;
    const q = v.q;
    const copy =
      q &&
      q.id === v.id &&
      q.requesterUserId === v.r &&
      typeof q.status === "string" &&
      typeof q.updatedAt === "string"
        ? { request: q as AccessRequest }
        : {};
    return { id: v.id, requester: v.r, ...copy };
  } catch {
    return undefined;
  }
}

function scope(bucket: string, req: Pick<AccessRequest, "subPrefix">): string {
  return `s3://${bucket}/${req.subPrefix}`;
}

function durationText(req: Pick<AccessRequest, "durationDays">): string {
  return req.durationDays ? `${req.durationDays} days` : "no end date";
}

function requestFields(bucket: string, req: AccessRequest): types.SectionBlock {
  return {
    type: "section",
    fields: [
      { type: "mrkdwn", text: `*Requester*\n<@${req.requesterUserId}>` },
      { type: "mrkdwn", text: `*Scope*\n\`${scope(bucket, req)}\`` },
      { type: "mrkdwn", text: `*Permission*\n${req.permission}` },
      { type: "mrkdwn", text: `*Duration*\n${durationText(req)}` },
    ],
  };
}

/** The admin-channel card with Approve / Deny. */
export function adminRequestCard(bucket: string, req: AccessRequest): SlackMessage {
  const value = encodeButtonValue({ id: req.id, requester: req.requesterUserId, request: req });
  const blocks: types.KnownBlock[] = [
    section(`:inbox_tray: *Access request* \`${req.id}\``),
    requestFields(bucket, req),
  ];
  if (req.reason) blocks.push(section(`*Reason*\n${quote(req.reason)}`));
  blocks.push(
    actions("decision", [
      button(APPROVE_ACTION_ID, "Approve", value, "primary"),
      button(DENY_ACTION_ID, "Deny", value, "danger"),
    ]),
  );
  blocks.push(context(`Filed ${slackDate(req.createdAt)}`));
  return {
    text: `Access request ${req.id}: <@${req.requesterUserId}> asks for ${req.permission} on ${scope(bucket, req)}`,
    blocks,
  };
}

const OUTCOME: Record<string, { emoji: string; word: string }> = {
  APPROVED: { emoji: ":white_check_mark:", word: "Approved" },
  DENIED: { emoji: ":no_entry_sign:", word: "Denied" },
  CANCELLED: { emoji: ":leftwards_arrow_with_hook:", word: "Cancelled by the requester" },
  ACTIVE: { emoji: ":white_check_mark:", word: "Active" },
  FAILED: { emoji: ":warning:", word: "Failed" },
  REVOKED: { emoji: ":lock:", word: "Revoked" },
  EXPIRED: { emoji: ":hourglass:", word: "Expired" },
  APPLIED: { emoji: ":white_check_mark:", word: "Applied" },
};

/** The card after a decision: who, when, outcome; no buttons. */
export function decidedCard(bucket: string, req: AccessRequest): SlackMessage {
  const o = OUTCOME[req.status] ?? { emoji: "", word: req.status };
  const t = req.lastTransition;
  const by = t ? ` by <@${t.actor.id}>` : "";
  const when = t ? ` ${slackDate(t.at)}` : "";
  const extra = req.status === "APPROVED" ? " — provisioning…" : "";
  const blocks: types.KnownBlock[] = [
    section(
      `${o.emoji} *${o.word}*${req.status === "CANCELLED" ? "" : by}${when}${extra} — request \`${req.id}\``,
    ),
    requestFields(bucket, req),
  ];
  const change = recordedChange(req);
  if (change)
    blocks.push(section(`*Extension/change*: ${describeChange(change)} (changes \`${req.changeOf}\`)`));
  if (req.reason) blocks.push(context(`Reason given: ${escapeMrkdwn(req.reason)}`));
  if (t?.reason && req.status === "DENIED") blocks.push(section(`*Why denied*\n${quote(t.reason)}`));
  return {
    text: `${o.word}${req.status === "CANCELLED" ? "" : by}: request ${req.id} (${req.permission} on ${scope(bucket, req)})`,
    blocks,
  };
}

const PAST: Record<string, string> = {
  APPROVED: "approved",
  DENIED: "denied",
  CANCELLED: "cancelled",
  ACTIVE: "activated",
  FAILED: "marked failed",
  REVOKED: "revoked",
  EXPIRED: "expired",
  PENDING: "reopened",
};

/** Who made a change, for people (a mention) and for system components (named). */
function whoText(actor: { id: string; kind: string }): string {
  return actor.kind === "system" ? `the ${actor.id}` : `<@${actor.id}>`;
}

/**
 * What the loser of a race (or a late click) is told: who already decided, when, and where the request
 * is now. `decision` is the request's decision (decidedBy/decidedAt) when the last transition is a later
 * one (e.g. the provisioner's APPROVED → ACTIVE), so the answer names the admin, not the provisioner.
 */
export function alreadyDecidedText(
  requestId: string,
  current: string,
  winner: { actor: { id: string; kind: string }; at: string; to: string } | undefined,
  decision?: { by: string; at: string; to: string },
): string {
  const now = current === winner?.to && !decision ? "" : ` (now ${current.toLowerCase()})`;
  // The ID may come from a click or a command, not only from the store.
  const id = escapeMrkdwn(requestId);
  if (decision) {
    return `Request \`${id}\` was already ${PAST[decision.to] ?? decision.to.toLowerCase()} by <@${decision.by}> ${slackDate(decision.at)}${now}; nothing was changed.`;
  }
  if (!winner) return `Request \`${id}\` is already ${current.toLowerCase()}; nothing was changed.`;
  return `Request \`${id}\` was already ${PAST[winner.to] ?? winner.to.toLowerCase()} by ${whoText(winner.actor)} ${slackDate(winner.at)}${now}; nothing was changed.`;
}

export function receiptText(bucket: string, req: AccessRequest): string {
  return [
    `:inbox_tray: Request \`${req.id}\` filed: ${req.permission} on \`${scope(bucket, req)}\` for ${durationText(req)}.`,
    "The admins have been asked; you'll get a direct message when access is ready.",
    `Check with \`/cytoskel status\`; withdraw with \`/cytoskel cancel ${req.id}\`.`,
  ].join("\n");
}

export function duplicateText(bucket: string, req: AccessRequest): string {
  return `You already have request \`${req.id}\` for \`${scope(bucket, req)}\` (${req.permission}, ${req.status.toLowerCase()}), so nothing new was filed. See \`/cytoskel status\`.`;
}

export function statusText(bucket: string, requests: AccessRequest[]): string {
  if (requests.length === 0)
    return "You have no access requests. Ask with `/cytoskel request prefix <prefix>`.";
  const active = requests.filter((r) => r.status === "ACTIVE");
  const others = requests.filter((r) => r.status !== "ACTIVE");
  const lines: string[] = [];
  lines.push(active.length ? "*Active grants*" : "*Active grants*: none");
  for (const r of active) {
    const until = r.expiresAt ? ` until ${slackDate(r.expiresAt)}` : "";
    lines.push(`• \`${scope(bucket, r)}\` ${r.permission}${until} — \`${r.id}\``);
  }
  if (others.length) {
    lines.push("*Requests*");
    for (const r of others) {
      const why = r.status === "FAILED" ? ` (${escapeMrkdwn(failedInPlainWords(r))})` : "";
      lines.push(
        `• \`${r.id}\` ${r.status}${why} — ${r.permission} on \`${scope(bucket, r)}\`, ${slackDate(r.createdAt)}`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * Why a FAILED request failed, for its requester: the plain words the provisioner kept
 * (failureSummary), never failureReason, which is for admins and may quote AWS (ARNs, policy text).
 */
function failedInPlainWords(r: AccessRequest): string {
  const why = r.failureSummary ? `setting up access failed: ${r.failureSummary}` : "setting up access failed";
  return `${why}; the admins were told and can retry it`;
}

export function pendingText(bucket: string, requests: AccessRequest[], more: boolean): string {
  if (requests.length === 0) return "No requests are waiting for a decision.";
  const lines = ["*Waiting for a decision*"];
  for (const r of requests) {
    const reason = r.reason ? ` — “${escapeMrkdwn(r.reason.slice(0, 80))}”` : "";
    const change = recordedChange(r);
    const what = change
      ? `extension/change on \`${scope(bucket, r)}\`: ${describeChange(change)}`
      : `${r.permission} on \`${scope(bucket, r)}\` for ${durationText(r)}`;
    lines.push(`• \`${r.id}\` <@${r.requesterUserId}> ${what}, ${slackDate(r.createdAt)}${reason}`);
  }
  if (more) lines.push("…and more (oldest shown first).");
  return lines.join("\n");
}

export function cancelledNote(bucket: string, req: AccessRequest): SlackMessage {
  const text = `:leftwards_arrow_with_hook: <@${req.requesterUserId}> cancelled request \`${req.id}\` (${req.permission} on \`${scope(bucket, req)}\`); its Approve/Deny buttons no longer do anything.`;
  return { text, blocks: [section(text)] };
}

export interface DenyModalMetadata {
  id: string;
  channel?: string;
  ts?: string;
}

export function denyModal(req: { id: string; requester?: string }, meta: DenyModalMetadata): types.ModalView {
  return {
    type: "modal",
    callback_id: DENY_MODAL_CALLBACK_ID,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: "Deny request" },
    submit: { type: "plain_text", text: "Deny" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      // Both come from the clicked button's value, a copy the clicker could have forged: inert.
      section(
        `Deny request \`${escapeMrkdwn(req.id)}\`${req.requester ? ` from <@${escapeMrkdwn(req.requester)}>` : ""}?`,
      ),
      {
        type: "input",
        block_id: DENY_REASON_BLOCK,
        optional: true,
        label: { type: "plain_text", text: "Reason (shown to the requester)" },
        element: {
          type: "plain_text_input",
          action_id: DENY_REASON_ACTION,
          multiline: true,
          max_length: 500,
        },
      },
    ],
  };
}

export function parseDenyMetadata(raw: string | undefined): DenyModalMetadata | undefined {
  try {
    const v = JSON.parse(raw ?? "") as Partial<DenyModalMetadata>;
    if (typeof v.id !== "string" || !v.id) return undefined;
    const meta: DenyModalMetadata = { id: v.id };
    if (typeof v.channel === "string") meta.channel = v.channel;
    if (typeof v.ts === "string") meta.ts = v.ts;
    return meta;
  } catch {
    return undefined;
  }
}

/** Ack of `revoke`: the work runs from the stream (src/provisioner/jobs.ts). */
export function revokeQueuedText(
  bucket: string,
  userId: string,
  subPrefix: string | undefined,
  jobId: string,
): string {
  const what = subPrefix ? ` to \`s3://${bucket}/${subPrefix}\`` : "";
  return `Revoking access for <@${userId}>${what}… I'll confirm here and in the admin channel (job \`${jobId}\`).`;
}

/** Ack of `close prefix`. */
export function closeQueuedText(bucket: string, subPrefix: string, jobId: string): string {
  return `Closing \`s3://${bucket}/${subPrefix}\`: every grant at or under it is revoked and each person told; I'll post who had access in the admin channel and confirm here (job \`${jobId}\`).`;
}

/** Ack of `reissue`. */
export function reissueQueuedText(userId: string, jobId: string): string {
  return `Re-issuing keys for <@${userId}>… they get a new one-time link by DM; I'll confirm here and in the admin channel (job \`${jobId}\`).`;
}

/** Admin-channel note when a requester asks to extend active access (from the expiry reminder). */
export function extensionAskedNote(bucket: string, req: AccessRequest): SlackMessage {
  const ends = req.expiresAt ? `, ends ${slackDate(req.expiresAt)}` : "";
  const text = `:hourglass: <@${req.requesterUserId}> asks to extend request \`${req.id}\` (${req.permission} on \`${scope(bucket, req)}\`${ends}). Extending isn't automated yet: reply to them; after it ends they can file a new request.`;
  return { text, blocks: [section(text)] };
}
