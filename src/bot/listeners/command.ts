/**
 * The slash command (`/cytoskel …`, its name from config): parse, run the sub-command, answer with the
 * ack body (ephemeral; the requester's receipt, status, help and errors need no Slack call). Bolt
 * registers one listener per command, so every sub-command is here, one function each.
 */

import type { App, SlashCommand, webApi } from "@slack/bolt";
import { refusalText } from "../../rules/authorization.ts";
import { slackIdProblem } from "../../rules/slack-ids.ts";
import { slackOrgId } from "../../service/users.ts";
import { escapeMrkdwn, type SlackMessage } from "../../slack/blocks.ts";
import type { AccessRequest } from "../../store/types.ts";
import { readAudit } from "../audit.ts";
import { cancelRequest } from "../cancel.ts";
import { recordCard } from "../card-ref.ts";
import { askForChange } from "../change-request.ts";
import { notYetActiveText } from "../change-views.ts";
import { type Command, helpText, parseCommand } from "../commands.ts";
import type { BotContext } from "../context.ts";
import { userTextFor } from "../errors.ts";
import { helpOptionsOf } from "../help.ts";
import { cardPayload, ephemeral } from "../payloads.ts";
import { firstDelivery, REPLAYED_COMMAND_TEXT } from "../replay.ts";
import {
  adminRequestCard,
  closeQueuedText,
  pendingText,
  receiptText,
  reissueQueuedText,
  revokeQueuedText,
  statusText,
} from "../views.ts";

export function register(app: App, ctx: BotContext): void {
  const { commandName } = ctx.config.slack;
  app.command(commandName, async ({ command, ack, client, context }) => {
    const parsed = parseCommand(command.text ?? "", { ...helpOptionsOf(ctx), bucket: ctx.bucket });
    if (!parsed.ok) {
      // The whole help follows a refusal that names no command; an admin's includes the admin commands.
      const usage =
        parsed.kind === undefined && (await ctx.isAdmin(command.user_id, client))
          ? helpText({ ...helpOptionsOf(ctx), admin: true })
          : parsed.usage;
      // A refusal quotes what was typed (an unknown word, a look-alike mention): inert, like all user text.
      await ack(ephemeral(`${escapeMrkdwn(parsed.error)}\n${usage}`));
      return;
    }
    try {
      if (
        STATE_CHANGING.has(parsed.command.kind) &&
        !(await firstDelivery(ctx, command, context, parsed.command.kind))
      )
        return await ack(ephemeral(REPLAYED_COMMAND_TEXT));
      await ack(answer(await run(ctx, parsed.command, command, client)));
    } catch (err) {
      ctx.log.error("command_failed", { command: parsed.command.kind, error: err });
      await ack(ephemeral(userTextFor(err)));
    }
  });
}

/** Sub-commands that change something: each delivery is acted on once (src/bot/replay.ts). */
const STATE_CHANGING: ReadonlySet<Command["kind"]> = new Set([
  "request",
  "cancel",
  "revoke",
  "reissue",
  "close",
]);

/** A plain line, or a message with blocks (an audit page and its button), as the ephemeral ack body. */
function answer(reply: string | SlackMessage) {
  return typeof reply === "string"
    ? ephemeral(reply)
    : { response_type: "ephemeral" as const, ...cardPayload(reply) };
}

/** The answer to one parsed sub-command. */
async function run(
  ctx: BotContext,
  cmd: Command,
  command: SlashCommand,
  client: webApi.WebClient,
): Promise<string | SlackMessage> {
  const userId = command.user_id;
  switch (cmd.kind) {
    case "help":
      return helpText({ ...helpOptionsOf(ctx), admin: await ctx.isAdmin(userId, client) });
    case "request":
      return fileRequest(ctx, cmd, command, client);
    case "status": {
      const page = await ctx.store.listByRequester(userId, { limit: 25 });
      return statusText(ctx.bucket, page.items);
    }
    case "cancel":
      return cancelRequest(ctx, cmd.requestId, userId, client);
    case "pending": {
      const verdict = await ctx.authorize("pending", userId, client);
      if (!verdict.allowed) return refusalText(verdict.refusal, "pending");
      const page = await ctx.store.listByStatus("PENDING", { limit: 25 });
      return pendingText(ctx.bucket, page.items, page.cursor !== undefined);
    }
    case "revoke":
    case "reissue":
      return queueJob(ctx, cmd, command, client);
    case "close":
      return queueClose(ctx, cmd, command, client);
    case "audit":
      return readAudit(ctx, userId, client, cmd.target);
  }
}

/** The identity's org part from the signed payload: the enterprise under Enterprise Grid, else the team. */
function orgOf(command: SlashCommand): string {
  return slackOrgId({ teamId: command.team_id, enterpriseId: command.enterprise_id });
}

/** store.create (a duplicate is answered with the open request) + the admin card. */
async function fileRequest(
  ctx: BotContext,
  cmd: Extract<Command, { kind: "request" }>,
  command: SlashCommand,
  client: webApi.WebClient,
): Promise<string> {
  const { bucket, config } = ctx;
  // The signed payload's IDs name the person's IAM user and grants: a look-alike is refused here, not
  // after an admin approved it.
  const badId =
    slackIdProblem("user", command.user_id) ??
    slackIdProblem("team", command.team_id) ??
    (command.enterprise_id ? slackIdProblem("enterprise", command.enterprise_id) : undefined);
  if (badId) return `I can't file this: ${badId}. Nothing was filed.`;
  const { request, created } = await ctx.store.create({
    requesterUserId: command.user_id,
    requesterTeamId: orgOf(command),
    subPrefix: cmd.subPrefix,
    permission: cmd.permission,
    durationDays: cmd.durationDays,
    ...(cmd.reason ? { reason: cmd.reason } : {}),
  });
  if (!created) return answerHeld(ctx, cmd, request, client);
  try {
    const posted = await client.chat.postMessage({
      channel: config.admins.channelId,
      ...cardPayload(adminRequestCard(bucket, request)),
      unfurl_links: false,
      unfurl_media: false,
    });
    await recordCard(ctx, request.id, posted);
  } catch (err) {
    ctx.log.error("admin_card_failed", { requestId: request.id, error: err });
    return `${receiptText(bucket, request)}\n:warning: I couldn't post it to the admin channel; admins still see it with \`${config.slack.commandName} pending\`.`;
  }
  return receiptText(bucket, request);
}

/**
 * A request for a scope the person already has open: ACTIVE becomes an extension / change request
 * (src/bot/change-request.ts, which answers a second ask with the open change); PENDING or APPROVED is
 * answered with that request (cancel and re-file to ask differently).
 */
async function answerHeld(
  ctx: BotContext,
  cmd: Extract<Command, { kind: "request" }>,
  held: AccessRequest,
  client: webApi.WebClient,
): Promise<string> {
  if (held.status !== "ACTIVE") return notYetActiveText(ctx.bucket, held);
  const asked = await askForChange(ctx, client, {
    held,
    permission: cmd.permission,
    durationDays: cmd.durationDays,
    ...(cmd.reason ? { reason: cmd.reason } : {}),
  });
  return asked.text;
}

/**
 * Admin revoke / reissue: one conditional put of a job item; the provisioner does the IAM / Access
 * Grants work from the stream and confirms through response_url, the person's DM and the admin channel.
 */
async function queueJob(
  ctx: BotContext,
  cmd: Extract<Command, { kind: "revoke" | "reissue" }>,
  command: SlashCommand,
  client: webApi.WebClient,
): Promise<string> {
  const userId = command.user_id;
  const verdict = await ctx.authorize(cmd.kind, userId, client);
  if (!verdict.allowed) return refusalText(verdict.refusal, cmd.kind);
  if (!ctx.jobs)
    return cmd.kind === "revoke"
      ? "Revoking isn't wired into this deployment; use the admin CLI."
      : "Re-issuing isn't wired into this deployment.";
  const job = await ctx.jobs.enqueue({
    kind: cmd.kind,
    targetUserId: cmd.user.id,
    teamId: orgOf(command),
    ...(cmd.kind === "revoke" && cmd.subPrefix ? { subPrefix: cmd.subPrefix } : {}),
    ...(cmd.kind === "revoke" && cmd.reason ? { reason: cmd.reason } : {}),
    actor: { kind: "admin", id: userId },
    replyTo: {
      ...(command.response_url ? { responseUrl: command.response_url } : {}),
      ...(command.channel_id ? { channelId: command.channel_id } : {}),
    },
  });
  ctx.log.info("job_queued", { jobId: job.id, kind: job.kind, by: userId });
  return cmd.kind === "revoke"
    ? revokeQueuedText(ctx.bucket, cmd.user.id, cmd.subPrefix, job.id)
    : reissueQueuedText(cmd.user.id, job.id);
}

/**
 * Admin `close prefix`: one conditional put of a close job (no person is targeted, so the job names the
 * admin who asked); the provisioner revokes everything at or under the prefix from the stream.
 */
async function queueClose(
  ctx: BotContext,
  cmd: Extract<Command, { kind: "close" }>,
  command: SlashCommand,
  client: webApi.WebClient,
): Promise<string> {
  const userId = command.user_id;
  const verdict = await ctx.authorize("close", userId, client);
  if (!verdict.allowed) return refusalText(verdict.refusal, "close");
  if (!ctx.jobs)
    return "Closing a prefix isn't wired into this deployment; use `cytoskel cpgstaging close prefix`.";
  const job = await ctx.jobs.enqueue({
    kind: "close",
    targetUserId: userId,
    teamId: orgOf(command),
    subPrefix: cmd.subPrefix,
    ...(cmd.reason ? { reason: cmd.reason } : {}),
    actor: { kind: "admin", id: userId },
    replyTo: {
      ...(command.response_url ? { responseUrl: command.response_url } : {}),
      ...(command.channel_id ? { channelId: command.channel_id } : {}),
    },
  });
  ctx.log.info("job_queued", { jobId: job.id, kind: job.kind, by: userId });
  return closeQueuedText(ctx.bucket, cmd.subPrefix, job.id);
}
