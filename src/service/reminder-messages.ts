/**
 * What the expiry job says when requests still wait for a decision: one message in the admin channel,
 * naming one request or listing several (a digest), each with a link to its card when the card is
 * known. Kept apart from messages.ts so the reminder's wording lives with its one caller.
 */
import { GrantScope } from "../rules/grant-scope.ts";
import { context, escapeMrkdwn, type SlackMessage, section, slackDate } from "../slack/blocks.ts";

export interface WaitingRequest {
  id: string;
  requesterUserId: string;
  subPrefix: string;
  permission: string;
  createdAt: string;
  reason?: string;
  /** The card's permalink, when its place is recorded and Slack gave one. */
  cardUrl?: string;
}

/** One section per request (a section holds 3,000 characters, a message 50 blocks); the rest are
 *  counted, so a digest stays one message. */
const MAX_LISTED = 40;

function line(bucket: string, r: WaitingRequest): string {
  const card = r.cardUrl ? ` — <${r.cardUrl}|open the card>` : "";
  // The reason is the requester's own text: made inert, and cut so one request cannot flood the digest.
  const reason = r.reason ? ` — “${escapeMrkdwn(r.reason.replace(/\s+/g, " ").slice(0, 80))}”` : "";
  return `• <@${r.requesterUserId}> · ${r.permission} on \`${GrantScope.of(bucket, r.subPrefix).uri}\` · request \`${r.id}\`, filed ${slackDate(r.createdAt)}${card}${reason}`;
}

export function pendingReminderMessage(
  bucket: string,
  waiting: WaitingRequest[],
  opts: { commandName?: string; expiresAfterDays: number },
): SlackMessage {
  const command = opts.commandName ?? "/cytoskel";
  const head =
    waiting.length === 1
      ? ":bell: A request is still waiting for a decision:"
      : `:bell: ${waiting.length} requests are still waiting for a decision:`;
  const listed = waiting.slice(0, MAX_LISTED).map((r) => section(line(bucket, r)));
  if (waiting.length > MAX_LISTED) listed.push(section(`…and ${waiting.length - MAX_LISTED} more.`));
  const text =
    waiting.length === 1
      ? `A request is still waiting for a decision: ${waiting[0]?.id}`
      : `${waiting.length} requests are still waiting for a decision.`;
  return {
    text,
    blocks: [
      section(head),
      ...listed,
      context(
        `Approve or deny on each card, or see them all with \`${command} pending\`. Undecided requests expire ${opts.expiresAfterDays} days after they were filed.`,
      ),
    ],
  };
}
