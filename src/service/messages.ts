/**
 * Block Kit for what the service layer says: the provisioning DM, admin-card outcomes, revoke,
 * expiry and reminders. Pure builders; every message carries `text` as the notification fallback.
 * Secrets never pass through here except the one-time link URL, which goes only into the DM.
 */
import type { types } from "@slack/bolt";
import { GrantScope } from "../rules/grant-scope.ts";
import { EXTEND_ACTION_ID, RETRY_ACTION_ID } from "../slack/action-ids.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { actions, button, code, context, escapeMrkdwn, quote, section, slackDate } from "../slack/blocks.ts";

export { EXTEND_ACTION_ID, RETRY_ACTION_ID } from "../slack/action-ids.ts";
export type { SlackMessage } from "../slack/blocks.ts";

/** The fields of a request these messages show. */
export interface RequestSummary {
  id: string;
  requesterUserId: string;
  subPrefix: string;
  permission: string;
  durationDays?: number;
  expiresAt?: string;
  reason?: string;
}

export interface TargetSummary {
  bucket: string;
  region: string;
  accountId: string;
}

/** AWS CLI profile name the instructions use (the original tool's docs used `cpg_staging`). */
export const AWS_PROFILE_NAME = "cpg_staging";
const TEMP_CREDENTIAL_SECONDS = 43_200;

/** Inert: a revoke's scopes come from AWS's grant list, and a grant made by hand may hold any key. */
function s3Scope(target: Pick<TargetSummary, "bucket">, subPrefix: string): string {
  return escapeMrkdwn(GrantScope.of(target.bucket, subPrefix).uri);
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

/** "cpg0042/*" → "cpg0042/": what the helper scripts take, and no glob for the shell to expand. */
function shellPrefix(subPrefix: string): string {
  return subPrefix.endsWith("*") ? subPrefix.slice(0, -1) : subPrefix;
}

/** Exact steps from keys to temporary credentials, for one granted scope. */
export function temporaryCredentialsInstructions(target: TargetSummary, req: RequestSummary): string {
  const scope = s3Scope(target, req.subPrefix);
  return [
    "*Getting temporary credentials* (the keys alone cannot touch the bucket; they can only ask S3 Access Grants for credentials, valid up to 12 h):",
    "```",
    `aws s3control get-data-access --profile ${AWS_PROFILE_NAME} --region ${target.region} \\`,
    `  --account-id ${target.accountId} --target "${scope}" \\`,
    `  --permission ${req.permission} --privilege Default --duration-seconds ${TEMP_CREDENTIAL_SECONDS}`,
    "```",
    `Or let a tool export them into your shell: \`source s3_credentials.sh ${shellPrefix(req.subPrefix)} ${req.permission}\` (bash, AWS CLI, jq), or \`eval "$(cytoskel credentials --profile ${AWS_PROFILE_NAME} --prefix ${shellPrefix(req.subPrefix)} --permission ${req.permission})"\`.`,
    `For the AWS CLI, a profile in \`~/.aws/config\` with \`credential_process = cytoskel credentials --profile ${AWS_PROFILE_NAME} --prefix ${shellPrefix(req.subPrefix)} --permission ${req.permission} --format credential-process\`: it caches them and renews them when they near expiry (1 h each by default).`,
    `Use region \`${target.region}\`. "No matching grant" means the target is outside \`${scope}\` or asks for more than ${req.permission}.`,
  ].join("\n");
}

function expiryLine(req: RequestSummary): string {
  return req.expiresAt ? `Access ends on ${day(req.expiresAt)} unless extended.` : "Access has no end date.";
}

export interface NewKeyDelivery {
  url: string;
  linkExpiresAt: string;
}

/**
 * The one DM a provision sends. `newKey` present: a one-time link to fresh keys. Absent: the person's
 * existing keys now also cover the new prefix. `replacesEarlier`: a previous attempt may have sent a DM
 * whose link no longer works (see provision.ts on the residual window).
 */
export function provisionedDm(
  target: TargetSummary,
  req: RequestSummary,
  newKey: NewKeyDelivery | undefined,
  opts: { replacesEarlier?: boolean } = {},
): SlackMessage {
  const scope = s3Scope(target, req.subPrefix);
  const head = `Your access to \`${scope}\` (${req.permission}) is ready — request \`${req.id}\`.`;
  const blocks: types.KnownBlock[] = [section(head)];
  let text: string;
  if (newKey) {
    text = `${head} Open the one-time link to get your AWS keys.`;
    blocks.push(
      section(
        [
          `*1. Your AWS keys:* <${newKey.url}|open this one-time link> — it works once and expires on ${day(newKey.linkExpiresAt)}. Opening it in a browser shows a Reveal button; previews by Slack do not use it up.`,
          "New IAM keys take a few seconds to become usable: if the first call says the key is invalid, wait ten seconds and try again.",
          `*2. Save them* as a profile in \`~/.aws/credentials\`:`,
          "```",
          `[${AWS_PROFILE_NAME}]`,
          "aws_access_key_id = <from the link>",
          "aws_secret_access_key = <from the link>",
          "```",
        ].join("\n"),
      ),
      section(`*3.* ${temporaryCredentialsInstructions(target, req)}`),
    );
  } else {
    text = `${head} Your existing cytoskel keys now also cover this prefix.`;
    blocks.push(
      section(
        `No new keys: the AWS keys you already have (profile \`${AWS_PROFILE_NAME}\`) now also cover \`${scope}\`.`,
      ),
      section(temporaryCredentialsInstructions(target, req)),
    );
  }
  const notes = [expiryLine(req)];
  if (opts.replacesEarlier)
    notes.push("If you got an earlier message about this request, its link no longer works; use this one.");
  blocks.push(context(notes.join(" ")));
  return { text, blocks };
}

function requestLine(target: TargetSummary, req: RequestSummary): string {
  const duration = req.durationDays ? ` for ${req.durationDays}d` : "";
  // Typed by the requester: inert in mrkdwn (no mentions, channel pings or disguised links).
  const reason = req.reason ? `\n>${escapeMrkdwn(req.reason.replace(/\n/g, " "))}` : "";
  return `<@${req.requesterUserId}> · \`${s3Scope(target, req.subPrefix)}\` · ${req.permission}${duration} · request \`${req.id}\`${reason}`;
}

/** Admin card once provisioning finished. */
export function adminActiveMessage(
  target: TargetSummary,
  req: RequestSummary & { decidedBy?: string },
  detail: { newKey: boolean; grantReused: boolean },
): SlackMessage {
  const by = req.decidedBy ? `Approved by <@${req.decidedBy}>` : "Approved";
  const what = [
    detail.newKey ? "new keys sent by one-time link" : "existing keys now cover it",
    detail.grantReused ? "an existing grant already covered the scope" : "grant created",
  ].join("; ");
  const text = `${by} — access is active for <@${req.requesterUserId}> on ${s3Scope(target, req.subPrefix)}.`;
  return {
    text,
    blocks: [
      section(`:white_check_mark: *Active* — ${requestLine(target, req)}`),
      context(`${by}. ${what}. ${expiryLine(req)}`),
    ],
  };
}

/**
 * The held request's own card once a change to it was applied: its terms as they now are, so the card
 * never shows the old end or permission (the change has its own card).
 */
export function adminActiveChangedMessage(
  target: TargetSummary,
  held: RequestSummary,
  change: { what: string; at: string },
): SlackMessage {
  const text = `Changed on ${day(change.at)} — access is active for <@${held.requesterUserId}> on ${s3Scope(target, held.subPrefix)}.`;
  return {
    text,
    blocks: [
      section(`:white_check_mark: *Active* — ${requestLine(target, held)}`),
      // No change ID: the change's own card names it, and cards are found by the IDs they name.
      context(`Changed on ${day(change.at)} by an approved change: ${change.what}. ${expiryLine(held)}`),
    ],
  };
}

/** Admin card when provisioning gave up: the reason and a Retry button. */
export function adminFailedMessage(target: TargetSummary, req: RequestSummary, reason: string): SlackMessage {
  // The reason may quote AWS or Slack text, which can echo what a person typed: inert like their own.
  const why = escapeMrkdwn(reason);
  return {
    text: `Provisioning failed for request ${req.id}: ${why}`,
    blocks: [
      section(`:x: *Provisioning failed* — ${requestLine(target, req)}`),
      section(`*Reason:* ${why}`),
      actions("cytoskel_failed_actions", [button(RETRY_ACTION_ID, "Retry", req.id, "primary")]),
    ],
  };
}

const TEMP_CREDENTIALS_NOTE =
  "Temporary credentials already issued from these grants stay valid until they expire (up to 12 hours); they cannot be recalled.";

export interface RevokeSummary {
  userId: string;
  actor: string;
  /** Scopes whose grants were deleted, e.g. `cpg0042/*`. */
  revokedPrefixes: string[];
  /** Scopes the person still holds. */
  remainingPrefixes: string[];
  userDeleted: boolean;
  /** The admin's reason as typed (escaped here, where it meets mrkdwn). */
  reason?: string;
}

/** " Reason: ….", for a revoke with one; the admin's text made inert, and ended so the next sentence
 *  does not run on from it. */
function reasonLine(reason: string | undefined): string {
  if (!reason?.trim()) return "";
  const typed = escapeMrkdwn(reason.trim());
  return ` Reason: ${typed}${/[.!?]$/.test(typed) ? "" : "."}`;
}

export function revokedDm(target: TargetSummary, s: RevokeSummary, why: "revoked" | "expired"): SlackMessage {
  const scopes = s.revokedPrefixes.map((p) => `\`${s3Scope(target, p)}\``).join(", ");
  const head =
    why === "expired"
      ? `Your access to ${scopes} has expired.`
      : `Your access to ${scopes} was revoked by <@${s.actor}>.${reasonLine(s.reason)}`;
  const rest = s.userDeleted
    ? "Your cytoskel AWS keys were deleted too; a new request will send new ones."
    : s.remainingPrefixes.length === 0
      ? "You have no other cytoskel access."
      : `You still have access to ${s.remainingPrefixes.map((p) => `\`${s3Scope(target, p)}\``).join(", ")} with your existing keys.`;
  const extend = why === "expired" ? " To continue, request it again with `/cytoskel request prefix …`." : "";
  return { text: head, blocks: [section(`${head} ${rest}${extend}`), context(TEMP_CREDENTIALS_NOTE)] };
}

export function revokedAdminPost(
  target: TargetSummary,
  s: RevokeSummary,
  why: "revoked" | "expired",
): SlackMessage {
  const scopes = s.revokedPrefixes.map((p) => `\`${s3Scope(target, p)}\``).join(", ");
  const head =
    why === "expired"
      ? `Access of <@${s.userId}> to ${scopes} expired and was removed.`
      : `<@${s.actor}> revoked access of <@${s.userId}> to ${scopes}.${reasonLine(s.reason)}`;
  const rest = s.userDeleted
    ? "No grant left: keys and IAM user deleted."
    : s.remainingPrefixes.length === 0
      ? "No grant left."
      : `Still granted: ${s.remainingPrefixes.map(code).join(", ")}.`;
  return { text: head, blocks: [section(`${head} ${rest}`), context(TEMP_CREDENTIALS_NOTE)] };
}

/** Reminder before expiry, with a button (and the command) to ask for an extension. */
export function expiryReminderDm(
  target: TargetSummary,
  req: RequestSummary & { expiresAt: string },
): SlackMessage {
  const scope = s3Scope(target, req.subPrefix);
  const text = `Your access to ${scope} (${req.permission}) ends on ${day(req.expiresAt)}.`;
  const days = req.durationDays ? ` for ${req.durationDays}d` : "";
  return {
    text,
    blocks: [
      section(
        `:hourglass: Your access to \`${scope}\` (${req.permission}) ends on *${day(req.expiresAt)}* (request \`${req.id}\`). Need longer? Ask for an extension and an admin will follow up.`,
      ),
      actions("cytoskel_reminder_actions", [button(EXTEND_ACTION_ID, "Request extension", req.id)]),
      context(
        `The button asks the admins to extend it (same permission, the default duration); to ask for another duration or permission: \`/cytoskel request prefix ${req.subPrefix} ${req.permission.toLowerCase()}${days}\``,
      ),
    ],
  };
}

/** To the requester when a request waited too long for a decision. */
export function pendingExpiredDm(target: TargetSummary, req: RequestSummary, days: number): SlackMessage {
  const text = `Your request \`${req.id}\` for \`${s3Scope(target, req.subPrefix)}\` expired after ${days} days without a decision, so nothing was granted. If you still need it, file it again: \`/cytoskel request prefix ${req.subPrefix} ${req.permission.toLowerCase()}${req.durationDays ? ` for ${req.durationDays}d` : ""}\``;
  return { text, blocks: [section(text)] };
}

/** To the requester when their FAILED request was not retried in time and was closed (src/service/reconcile.ts). */
export function failedExpiredDm(target: TargetSummary, req: RequestSummary, days: number): SlackMessage {
  const text = `Your request \`${req.id}\` for \`${s3Scope(target, req.subPrefix)}\` could not be completed and no admin retried it within ${days} days, so it is closed; nothing was granted and nothing of it was left behind. If you still need it, file it again: \`/cytoskel request prefix ${req.subPrefix} ${req.permission.toLowerCase()}${req.durationDays ? ` for ${req.durationDays}d` : ""}\``;
  return { text, blocks: [section(text)] };
}

/** Admin card of a request that expired while pending: buttons gone. */
export function adminPendingExpiredMessage(target: TargetSummary, req: RequestSummary): SlackMessage {
  return {
    text: `Request ${req.id} expired without a decision.`,
    blocks: [section(`:zzz: *Expired without a decision* — ${requestLine(target, req)}`)],
  };
}

/** Admin card once its request was revoked or expired. */
export function adminEndedMessage(
  target: TargetSummary,
  req: RequestSummary,
  ended: { status: "REVOKED" | "EXPIRED"; actor: string; at: string },
): SlackMessage {
  const how = ended.status === "REVOKED" ? `Revoked by <@${ended.actor}>` : "Expired";
  return {
    text: `${how}: request ${req.id}.`,
    blocks: [section(`:no_entry: *${how}* on ${day(ended.at)} — ${requestLine(target, req)}`)],
  };
}

/** To the requester when an admin denied their request (sent from the stream, after the modal closed). */
export function deniedDm(
  target: Pick<TargetSummary, "bucket">,
  req: RequestSummary & { decidedBy?: string; lastTransition?: { reason?: string; actor: { id: string } } },
): SlackMessage {
  const by = req.decidedBy ?? req.lastTransition?.actor.id;
  const reason = req.lastTransition?.reason;
  const text = `Your request \`${req.id}\` for ${req.permission} on \`${s3Scope(target, req.subPrefix)}\` was denied${by ? ` by <@${by}>` : ""}.`;
  const blocks: types.KnownBlock[] = [section(reason ? `${text}\n${quote(reason)}` : text)];
  blocks.push(
    context("Questions? Ask in the channel where you work with the admins, or file a narrower request."),
  );
  // The notification text too: it renders mentions like the blocks do.
  return { text: reason ? `${text} Reason: ${escapeMrkdwn(reason)}` : text, blocks };
}

/** DM with a re-issued one-time link (the URL is a secret: only ever sent here, unfurling off). */
export function reissuedDm(
  target: Pick<TargetSummary, "bucket">,
  link: { url: string; expiresAt: string },
  scopes: string[],
): SlackMessage {
  const where = scopes.map((s) => `\`${s3Scope(target, s)}\``).join(", ");
  const text = `An admin replaced your cytoskel AWS keys${where ? ` (for ${where})` : ""}. <${link.url}|Open this one-time link> to get the new ones — it works once and expires ${slackDate(link.expiresAt)}. Your previous keys no longer work; new keys can take a few seconds to become usable.`;
  return { text, blocks: [section(text)] };
}

/** Admin channel after a re-issue (no secret: the key ID only). */
export function reissuedAdminPost(s: {
  userId: string;
  actor: string;
  accessKeyId: string;
  retiredLinkCount: number;
}): SlackMessage {
  const retired = s.retiredLinkCount
    ? ` and ${s.retiredLinkCount} unopened earlier link(s) were retired`
    : "";
  const text = `<@${s.actor}> re-issued the keys of <@${s.userId}>: a new one-time link was sent (key \`${s.accessKeyId}\`); their previous keys no longer work${retired}.`;
  return { text, blocks: [section(text)] };
}

/** Admin channel when a queued revoke / re-issue gave up after its retries. */
export function adminJobFailedMessage(
  job: {
    id: string;
    kind: "revoke" | "reissue" | "close";
    targetUserId: string;
    subPrefix?: string;
    actor: { id: string };
  },
  reason: string,
): SlackMessage {
  const what =
    job.kind === "close"
      ? `close of \`${job.subPrefix ?? "?"}\``
      : job.kind === "revoke"
        ? `revoke of <@${job.targetUserId}>${job.subPrefix ? ` for \`${job.subPrefix}\`` : ""}`
        : `re-issue of the keys of <@${job.targetUserId}>`;
  const text = `:x: The ${what} asked by <@${job.actor.id}> failed: ${escapeMrkdwn(reason)}`;
  return {
    text,
    blocks: [
      section(text),
      context(
        `Job \`${job.id}\`. Part of it may have happened; running the command again is safe once the cause is fixed.`,
      ),
    ],
  };
}

/**
 * To the requester, once, when provisioning gave up: what failed in general terms (`summary`, plain words
 * from src/service/errors.ts, never AWS text), that the admins know and can retry, and what happens next.
 */
export function provisioningFailedDm(
  target: Pick<TargetSummary, "bucket">,
  req: RequestSummary,
  summary: string,
): SlackMessage {
  const scope = s3Scope(target, req.subPrefix);
  const head = `Your request \`${req.id}\` for ${req.permission} on \`${scope}\` was approved, but setting up your access failed: ${escapeMrkdwn(summary)}.`;
  const next =
    "The cytoskel admins have been told and can retry it; you don't need to file it again. When it works you'll get a direct message with your access. `/cytoskel status` shows where it stands.";
  return {
    text: `${head} The admins have been told and can retry it.`,
    blocks: [section(head), context(next)],
  };
}
