/**
 * Block Kit for an extension / change of held access (src/service/change.ts): the person's DM when it
 * is applied or denied, and the admin card once applied. Pure builders; typed reasons are escaped.
 */
import type { types } from "@slack/bolt";
import { type AccessChange, describeChange, recordedChange } from "../rules/change.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { context, quote, section, slackDate } from "../slack/blocks.ts";
import type { AccessRequest } from "../store/types.ts";
import { type TargetSummary, temporaryCredentialsInstructions } from "./messages.ts";

type ChangeRequest = Pick<AccessRequest, "id" | "requesterUserId" | "subPrefix" | "permission"> &
  Partial<Pick<AccessRequest, "changeOf" | "changeFrom" | "changeTo" | "decidedBy" | "lastTransition">>;

function scopeOf(target: Pick<TargetSummary, "bucket">, subPrefix: string): string {
  return GrantScope.of(target.bucket, subPrefix).uri;
}

function endLine(expiresAt: string | undefined): string {
  return expiresAt ? `Access ends on ${expiresAt.slice(0, 10)}.` : "Access has no end date.";
}

/** To the person once an approved change was applied: what changed; the keys they hold keep working. */
export function changedDm(
  target: TargetSummary,
  held: Pick<AccessRequest, "id" | "subPrefix">,
  change: AccessChange,
  changeRequestId: string,
): SlackMessage {
  const scope = scopeOf(target, held.subPrefix);
  const head = `Your access to \`${scope}\` changed (request \`${changeRequestId}\`): ${describeChange(change)}.`;
  const blocks: types.KnownBlock[] = [
    section(head),
    section("No new keys: the AWS keys you already have keep working, now with these terms."),
  ];
  if (change.permissionChange)
    blocks.push(
      section(
        temporaryCredentialsInstructions(target, {
          id: held.id,
          requesterUserId: "",
          subPrefix: held.subPrefix,
          permission: change.to.permission,
        }),
      ),
    );
  blocks.push(context(endLine(change.to.expiresAt)));
  return { text: head, blocks };
}

/** To the person when an admin denied their change: the access they hold is unchanged. */
export function deniedChangeDm(target: Pick<TargetSummary, "bucket">, req: ChangeRequest): SlackMessage {
  const change = recordedChange(req);
  const by = req.decidedBy ?? req.lastTransition?.actor.id;
  const reason = req.lastTransition?.reason;
  const what = change ? ` (${describeChange(change)})` : "";
  const text = `Your request \`${req.id}\` to change your access to \`${scopeOf(target, req.subPrefix)}\`${what} was denied${by ? ` by <@${by}>` : ""}.`;
  const kept = change
    ? `Your current access is unchanged: ${change.from.permission}${change.from.expiresAt ? ` until ${change.from.expiresAt.slice(0, 10)}` : ""}.`
    : "Your current access is unchanged.";
  const blocks: types.KnownBlock[] = [section(reason ? `${text}\n${quote(reason)}` : text), section(kept)];
  return { text: `${text} ${kept}`, blocks };
}

/** The change's admin card once applied (buttons gone). */
export function adminChangeAppliedMessage(
  target: Pick<TargetSummary, "bucket">,
  req: ChangeRequest,
  opts: { grantReplaced: boolean; at: string },
): SlackMessage {
  const change = recordedChange(req);
  const what = change ? describeChange(change) : `${req.permission}`;
  const grant = opts.grantReplaced
    ? "a grant with the new permission replaced the old one"
    : "the grant is unchanged";
  const text = `Applied ${slackDate(opts.at)}: extension/change for <@${req.requesterUserId}> on \`${scopeOf(target, req.subPrefix)}\`: ${what}.`;
  return {
    text,
    blocks: [
      section(`:white_check_mark: ${text}`),
      context(`Request \`${req.id}\` changes \`${req.changeOf ?? "?"}\`. No new key; ${grant}.`),
    ],
  };
}
