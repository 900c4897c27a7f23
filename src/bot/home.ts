/**
 * The App Home tab (pure): for everyone their active grants (with "Ask for more time") and open
 * requests (with Cancel); for admins also the pending queue (Approve / Deny), grants ending within the
 * reminder window, and the last failures (Retry). Buttons carry only the request ID: every listener
 * reads the stored request before acting, so a Home button is never a copy to trust.
 *
 * Slack allows 100 blocks in a Home view (docs.slack.dev, "Home tab views"); each list is capped and
 * says when there is more, so the view stays well inside it.
 */

import type { types } from "@slack/bolt";
import {
  APPROVE_ACTION_ID,
  CANCEL_ACTION_ID,
  DENY_ACTION_ID,
  EXTEND_ACTION_ID,
  RETRY_ACTION_ID,
} from "../slack/action-ids.ts";
import { actions, button, context, escapeMrkdwn, section, slackDate } from "../slack/blocks.ts";
import type { AccessRequest } from "../store/types.ts";

/** Items shown per list: with headers, "more" lines and two blocks per pending request, under 100. */
export const HOME_LIST_LIMIT = 10;
/** Slack's limit on a Home view's blocks. */
export const HOME_MAX_BLOCKS = 100;

export interface HomeList {
  items: AccessRequest[];
  /** More exist than `items` shows. */
  more: boolean;
}

export interface HomeInput {
  bucket: string;
  commandName: string;
  reminderDays: number;
  /** The help as the viewer gets it from `help` (`helpSections`: an admin's includes the admin commands). */
  help: string[];
  mine: { active: HomeList; open: HomeList };
  /** Only for admins. */
  admin?: { pending: HomeList; ending: HomeList; failed: HomeList };
}

const scope = (bucket: string, r: AccessRequest) => `s3://${bucket}/${r.subPrefix}`;

/** A line for one request, with its one button beside it. */
function row(text: string, accessory?: types.Button): types.SectionBlock {
  return { ...section(text), ...(accessory ? { accessory } : {}) };
}

function header(text: string): types.HeaderBlock {
  return { type: "header", text: { type: "plain_text", text } };
}

function list(
  title: string,
  empty: string,
  { items, more }: HomeList,
  line: (r: AccessRequest) => types.KnownBlock | types.KnownBlock[],
): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [header(title)];
  if (items.length === 0) blocks.push(context(empty));
  for (const r of items.slice(0, HOME_LIST_LIMIT)) blocks.push(...[line(r)].flat());
  if (more || items.length > HOME_LIST_LIMIT)
    blocks.push(context("…and more; see the slash command for all."));
  return blocks;
}

const reasonText = (r: AccessRequest) => (r.reason ? ` — “${escapeMrkdwn(r.reason.slice(0, 80))}”` : "");

export function homeView(input: HomeInput): types.HomeView {
  const { bucket, commandName } = input;
  const blocks: types.KnownBlock[] = [
    section(
      `Upload access to \`s3://${bucket}/\`. Ask with \`${commandName} request prefix <prefix>\`; ` +
        `\`${commandName} help\` lists everything.`,
    ),
    ...list("Your access", "No active grants.", input.mine.active, (r) =>
      row(
        `\`${scope(bucket, r)}\` ${r.permission}${r.expiresAt ? `, until ${slackDate(r.expiresAt)}` : ""}`,
        button(EXTEND_ACTION_ID, "Ask for more time", r.id),
      ),
    ),
    ...list("Your open requests", "No open requests.", input.mine.open, (r) =>
      row(
        `\`${r.id}\` ${r.status.toLowerCase()} — ${r.permission} on \`${scope(bucket, r)}\`, ${slackDate(r.createdAt)}`,
        r.status === "PENDING" ? button(CANCEL_ACTION_ID, "Cancel", r.id) : undefined,
      ),
    ),
  ];
  if (input.admin) {
    const { pending, ending, failed } = input.admin;
    blocks.push(
      { type: "divider" },
      // Approve and Deny side by side need an actions block (a section holds one button).
      ...list("Waiting for a decision", "Nothing is waiting.", pending, (r) => [
        row(
          `<@${r.requesterUserId}> ${r.permission} on \`${scope(bucket, r)}\` for ${r.durationDays ?? "?"} days, ${slackDate(r.createdAt)}${reasonText(r)}`,
        ),
        actions(`home_decide_${r.id}`, [
          button(APPROVE_ACTION_ID, "Approve", r.id, "primary"),
          button(DENY_ACTION_ID, "Deny", r.id, "danger"),
        ]),
      ]),
    );
    blocks.push(
      ...list(`Ending within ${input.reminderDays} days`, "No grant ends soon.", ending, (r) =>
        row(
          `<@${r.requesterUserId}> \`${scope(bucket, r)}\` ${r.permission}${r.expiresAt ? `, ends ${slackDate(r.expiresAt)}` : ""}`,
        ),
      ),
      ...list("Last failures", "No failed provisioning.", failed, (r) =>
        row(
          `<@${r.requesterUserId}> \`${scope(bucket, r)}\` ${r.permission}: ${escapeMrkdwn(r.failureReason ?? "failed")}`,
          button(RETRY_ACTION_ID, "Retry", r.id, "primary"),
        ),
      ),
    );
  }
  // Help last, so the lists stay on top and their caps keep the help within the block limit.
  blocks.push({ type: "divider" }, header("Help"), ...input.help.map((text) => section(text)));
  return { type: "home", blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}
