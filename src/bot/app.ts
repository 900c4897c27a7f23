/**
 * The Bolt app: listeners only check who may act, flip request state, and say so. Nothing here calls
 * IAM or S3 Control — provisioning runs from the table's stream after the state change.
 *
 * Ack budget (Slack allows 3 s including a cold start, and on Lambda the response leaves only after the
 * listener returns): each listener makes at most ONE store write operation and at most ONE Slack call.
 *  - The requester's receipt / status / help / errors are the slash command's ack body (no Slack call).
 *  - request: store.create (duplicate → the open one is answered, nothing filed) + chat.postMessage of
 *    the admin card. The card's ts is not written now (that would be a second write): Slack sends the
 *    card's channel+ts back with every click, and the deciding transition stores it (its patch).
 *  - approve / retry / deny-submit: store.transition (conditional: exactly one winner) + chat.update of
 *    the card. The self-approval check reads the requester from the button value, which only our own
 *    card can carry (Slack signs the click), so no read is needed first.
 *  - deny button: no write; views.open of the reason modal. A modal submission that loses a race is
 *    answered inside the modal (response_action "errors"), not with another call.
 *  - refusals and lost races: no write; one chat.postEphemeral to the clicker.
 *  - cancel: store.transition + one Slack call: chat.update of the card when its ts is known, else a
 *    short note in the admin channel.
 *  - revoke / reissue (admin): one conditional put of a job item (src/store/jobs.ts), no Slack call (the
 *    "I'll confirm" answer is the ack body); the provisioner runs the job from the stream and confirms
 *    through the command's response_url, the person's DM and the admin channel.
 * The one exception is admin membership through ADMIN_USERGROUP_ID: usergroups.users.list is called
 * when the clicker is not a listed admin and the cached membership is older than the cache TTL.
 */

import type {
  BlockAction,
  ButtonAction,
  SlackCommandMiddlewareArgs,
  ViewSubmitAction,
  webApi,
} from "@slack/bolt";
import { App, type Receiver } from "@slack/bolt";
import { jsonLogger, type Logger } from "../log.ts";
import {
  type AdminDirectory,
  authorize,
  type GuardedAction,
  isAdmin,
  refusalText,
} from "../rules/authorization.ts";
import type { Actor } from "../rules/lifecycle.ts";
import type { SlackMessage } from "../slack/blocks.ts";
import { TransitionConflictError } from "../store/errors.ts";
import type { Job, NewJobInput } from "../store/jobs.ts";
import type { RequestStore } from "../store/requests.ts";
import type { AccessRequest, SlackMessageRef } from "../store/types.ts";
import { type Command, helpText, parseCommand } from "./commands.ts";
import type { ResolvedBotConfig } from "./config.ts";
import { plainTextFor, userTextFor } from "./errors.ts";
import {
  APPROVE_ACTION_ID,
  adminRequestCard,
  alreadyDecidedText,
  cancelledNote,
  DENY_ACTION_ID,
  DENY_MODAL_CALLBACK_ID,
  DENY_REASON_ACTION,
  DENY_REASON_BLOCK,
  decidedCard,
  decodeButtonValue,
  denyModal,
  duplicateText,
  EXTEND_ACTION_ID,
  extensionAskedNote,
  parseDenyMetadata,
  pendingText,
  RETRY_ACTION_ID,
  receiptText,
  reissueQueuedText,
  revokeQueuedText,
  statusText,
} from "./views.ts";

/** The store operations the bot uses (the real RequestStore fits). */
export type BotStore = Pick<
  RequestStore,
  "create" | "get" | "transition" | "listByRequester" | "listByStatus"
>;

/** Where revoke / re-issue go: one conditional put of a job item; the provisioner runs it from the stream. */
export interface JobQueue {
  enqueue(input: NewJobInput): Promise<Job>;
}

export type BotLogger = Logger;

export interface BotAppDeps {
  config: ResolvedBotConfig;
  store: BotStore;
  receiver: Receiver;
  clock?: () => Date;
  /** Extra WebClient options (tests: fewer retries); slackApiUrl comes from config.slack.apiUrl. */
  clientOptions?: webApi.WebClientOptions;
  /** Admin jobs (revoke / reissue); without it those commands say they are not wired. */
  jobs?: JobQueue;
  logger?: BotLogger;
}

/** Admin membership: config IDs, plus the optional user group's members cached for a while. */
export class AdminResolver {
  private members: string[] | undefined;
  private fetchedAt = 0;

  constructor(
    private readonly config: ResolvedBotConfig["admins"],
    private readonly now: () => number,
    private readonly logger: BotLogger,
  ) {}

  async isAdmin(userId: string, client: webApi.WebClient): Promise<boolean> {
    const listed: AdminDirectory = { userIds: this.config.userIds };
    if (isAdmin(userId, listed) || !this.config.usergroupId) return isAdmin(userId, listed);
    const stale = this.now() - this.fetchedAt > this.config.usergroupCacheSeconds * 1000;
    if (this.members === undefined || stale) {
      try {
        const res = await client.usergroups.users.list({ usergroup: this.config.usergroupId });
        this.members = res.users ?? [];
        this.fetchedAt = this.now();
      } catch (err) {
        // Fail closed: without the group we only trust the listed IDs.
        this.logger.warn("usergroup_lookup_failed", { error: err });
        return false;
      }
    }
    return isAdmin(userId, { userIds: this.config.userIds, groupMemberIds: this.members ?? [] });
  }
}

function ephemeral(text: string): { response_type: "ephemeral"; text: string } {
  return { response_type: "ephemeral", text };
}

function cardPayload(message: SlackMessage): { text: string; blocks: NonNullable<SlackMessage["blocks"]> } {
  return { text: message.text, blocks: message.blocks ?? [] };
}

export function createBotApp(deps: BotAppDeps): App {
  const { config, store } = deps;
  const clock = deps.clock ?? (() => new Date());
  const log = deps.logger ?? jsonLogger;
  const bucket = config.target.bucket;
  const admins = new AdminResolver(config.admins, () => clock().getTime(), log);

  const app = new App({
    receiver: deps.receiver,
    token: config.slack.botToken,
    // Both IDs given: Bolt never calls auth.test (offline it would hang through its retries).
    botId: config.slack.botId,
    botUserId: config.slack.botUserId,
    convoStore: false,
    clientOptions: {
      ...deps.clientOptions,
      slackApiUrl: config.slack.apiUrl,
      retryConfig: deps.clientOptions?.retryConfig ?? {
        retries: 1,
        factor: 1,
        minTimeout: 100,
        maxTimeout: 300,
      },
    },
    logLevel: "warn" as never,
  });

  app.error(async (err) => {
    log.error("listener_failed", { error: err, code: (err as { code?: string }).code });
  });

  const guard = async (
    action: GuardedAction,
    actorUserId: string,
    client: webApi.WebClient,
    requesterUserId?: string,
  ) => {
    const actorIsAdmin = action === "cancel" ? false : await admins.isAdmin(actorUserId, client);
    return authorize({
      action,
      actorUserId,
      actorIsAdmin,
      allowSelfApproval: config.admins.allowSelfApproval,
      ...(requesterUserId !== undefined ? { requesterUserId } : {}),
    });
  };

  /** The loser's answer; when later transitions followed the decision, one read finds who decided. */
  const conflictText = async (err: TransitionConflictError): Promise<string> => {
    if (err.winner?.from === err.expected) return userTextFor(err);
    const request = await store.get(err.requestId).catch(() => undefined);
    if (request?.decidedBy && request.decidedAt) {
      const to = request.status === "DENIED" ? "DENIED" : "APPROVED";
      return alreadyDecidedText(err.requestId, request.status, err.winner, {
        by: request.decidedBy,
        at: request.decidedAt,
        to,
      });
    }
    return userTextFor(err);
  };

  // ---- slash command ------------------------------------------------------------------------------
  app.command(
    config.slack.commandName,
    async ({ command, ack, client }: SlackCommandMiddlewareArgs & { client: webApi.WebClient }) => {
      const parsed = parseCommand(command.text ?? "", {
        commandName: config.slack.commandName,
        defaultDurationDays: config.durations.defaultDays,
        maxDurationDays: config.durations.maxDays,
        bucket,
      });
      const userId = command.user_id;
      if (!parsed.ok) {
        await ack(ephemeral(`${parsed.error}\n${parsed.usage}`));
        return;
      }
      try {
        await ack(
          ephemeral(
            await runCommand(parsed.command, {
              userId,
              teamId: command.team_id,
              client,
              responseUrl: command.response_url,
              channelId: command.channel_id,
            }),
          ),
        );
      } catch (err) {
        log.error("command_failed", { command: parsed.command.kind, error: err });
        await ack(ephemeral(userTextFor(err)));
      }
    },
  );

  const runCommand = async (
    cmd: Command,
    ctx: {
      userId: string;
      teamId: string;
      client: webApi.WebClient;
      responseUrl?: string;
      channelId?: string;
    },
  ): Promise<string> => {
    const { userId, client } = ctx;
    const actor: Actor = { kind: "admin", id: userId };
    switch (cmd.kind) {
      case "help":
        return helpText({
          admin: await admins.isAdmin(userId, client),
          commandName: config.slack.commandName,
        });
      case "request": {
        const input = {
          requesterUserId: userId,
          requesterTeamId: ctx.teamId,
          subPrefix: cmd.subPrefix,
          permission: cmd.permission,
          durationDays: cmd.durationDays,
          ...(cmd.reason ? { reason: cmd.reason } : {}),
        };
        const { request, created } = await store.create(input);
        if (!created) return duplicateText(bucket, request);
        try {
          await client.chat.postMessage({
            channel: config.admins.channelId,
            ...cardPayload(adminRequestCard(bucket, request)),
            unfurl_links: false,
            unfurl_media: false,
          });
        } catch (err) {
          log.error("admin_card_failed", { requestId: request.id, error: err });
          return `${receiptText(bucket, request)}\n:warning: I couldn't post it to the admin channel; admins still see it with \`${config.slack.commandName} pending\`.`;
        }
        return receiptText(bucket, request);
      }
      case "status": {
        const page = await store.listByRequester(userId, { limit: 25 });
        return statusText(bucket, page.items);
      }
      case "cancel": {
        const request = await store.get(cmd.requestId);
        const verdict = authorize({
          action: "cancel",
          actorUserId: userId,
          actorIsAdmin: false,
          allowSelfApproval: false,
          ...(request ? { requesterUserId: request.requesterUserId } : {}),
        });
        // Someone else's request reads the same as a missing one: IDs are not an oracle.
        if (!request || !verdict.allowed)
          return `You have no request \`${cmd.requestId}\` to cancel. See \`${config.slack.commandName} status\`.`;
        const updated = await store.transition(request.id, {
          from: "PENDING",
          to: "CANCELLED",
          actor: { kind: "requester", id: userId },
          current: request, // already read for the ownership check: the store need not read again
        });
        try {
          if (updated.adminMessage) {
            await client.chat.update({
              ...updated.adminMessage,
              ...cardPayload(decidedCard(bucket, updated)),
            });
          } else {
            await client.chat.postMessage({
              channel: config.admins.channelId,
              ...cardPayload(cancelledNote(bucket, updated)),
            });
          }
        } catch (err) {
          log.warn("cancel_notice_failed", { requestId: request.id, error: err });
        }
        return `Request \`${request.id}\` is cancelled. Nothing was granted.`;
      }
      case "pending": {
        const verdict = await guard("pending", userId, client);
        if (!verdict.allowed) return refusalText(verdict.refusal, "pending");
        const page = await store.listByStatus("PENDING", { limit: 25 });
        return pendingText(bucket, page.items, page.cursor !== undefined);
      }
      case "revoke":
      case "reissue": {
        const verdict = await guard(cmd.kind, userId, client);
        if (!verdict.allowed) return refusalText(verdict.refusal, cmd.kind);
        if (!deps.jobs)
          return cmd.kind === "revoke"
            ? "Revoking isn't wired into this deployment; use the admin CLI."
            : "Re-issuing isn't wired into this deployment.";
        // One conditional put; the provisioner does the IAM / Access Grants work from the stream and
        // confirms through response_url, the person's DM and the admin channel.
        const job = await deps.jobs.enqueue({
          kind: cmd.kind,
          targetUserId: cmd.user.id,
          teamId: ctx.teamId,
          ...(cmd.kind === "revoke" && cmd.subPrefix ? { subPrefix: cmd.subPrefix } : {}),
          actor,
          replyTo: {
            ...(ctx.responseUrl ? { responseUrl: ctx.responseUrl } : {}),
            ...(ctx.channelId ? { channelId: ctx.channelId } : {}),
          },
        });
        log.info("job_queued", { jobId: job.id, kind: job.kind, by: userId });
        return cmd.kind === "revoke"
          ? revokeQueuedText(bucket, cmd.user.id, cmd.subPrefix, job.id)
          : reissueQueuedText(cmd.user.id, job.id);
      }
    }
  };

  // ---- buttons ------------------------------------------------------------------------------------
  type ClickArgs = {
    ack: () => Promise<void>;
    body: BlockAction;
    action: ButtonAction;
    client: webApi.WebClient;
  };

  const tell = async (client: webApi.WebClient, body: BlockAction, text: string) => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    try {
      await client.chat.postEphemeral({ channel, user: body.user.id, text });
    } catch (err) {
      log.warn("ephemeral_failed", { error: err });
    }
  };

  const cardRef = (body: BlockAction): SlackMessageRef | undefined => {
    const channel = body.channel?.id ?? body.container?.channel_id;
    const ts = body.message?.ts ?? body.container?.message_ts;
    return channel && ts ? { channel, ts } : undefined;
  };

  const decide = async (
    args: ClickArgs,
    kind: "approve" | "retry",
    move: { from: "PENDING" | "FAILED"; to: "APPROVED" },
  ) => {
    const { ack, body, action, client } = args;
    await ack();
    const value = decodeButtonValue(action.value);
    if (!value) return tell(client, body, "That button is malformed; nothing was changed.");
    const actorId = body.user.id;
    let requester = value.requester;
    if (requester === undefined && kind === "approve")
      requester = (await store.get(value.id))?.requesterUserId;
    const verdict = await guard(kind, actorId, client, requester);
    if (!verdict.allowed) return tell(client, body, refusalText(verdict.refusal, kind));
    const ref = cardRef(body);
    let updated: AccessRequest;
    try {
      updated = await store.transition(value.id, {
        ...move,
        actor: { kind: "admin", id: actorId },
        ...(ref ? { patch: { adminMessage: ref } } : {}),
        // The card's copy of the request: the store then needs no read (one DynamoDB call).
        ...(value.request ? { current: value.request } : {}),
      });
    } catch (err) {
      if (!(err instanceof TransitionConflictError)) {
        log.error("decision_failed", { kind, error: err });
        return tell(client, body, userTextFor(err));
      }
      return tell(client, body, await conflictText(err));
    }
    log.info("decided", { requestId: updated.id, to: updated.status, by: actorId });
    if (ref) {
      try {
        await client.chat.update({ ...ref, ...cardPayload(decidedCard(bucket, updated)) });
      } catch (err) {
        log.warn("card_update_failed", { requestId: updated.id, error: err });
      }
    }
  };

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION_ID, async (args) =>
    decide(args as unknown as ClickArgs, "approve", { from: "PENDING", to: "APPROVED" }),
  );
  app.action<BlockAction<ButtonAction>>(RETRY_ACTION_ID, async (args) =>
    decide(args as unknown as ClickArgs, "retry", { from: "FAILED", to: "APPROVED" }),
  );

  app.action<BlockAction<ButtonAction>>(DENY_ACTION_ID, async (raw) => {
    const { ack, body, action, client } = raw as unknown as ClickArgs;
    await ack();
    const value = decodeButtonValue(action.value);
    if (!value) return tell(client, body, "That button is malformed; nothing was changed.");
    const verdict = await guard("deny", body.user.id, client);
    if (!verdict.allowed) return tell(client, body, refusalText(verdict.refusal, "deny"));
    const ref = cardRef(body);
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: denyModal(value, { id: value.id, ...(ref ?? {}) }),
      });
    } catch (err) {
      log.warn("deny_modal_failed", { requestId: value.id, error: err });
    }
  });

  app.view<ViewSubmitAction>(DENY_MODAL_CALLBACK_ID, async ({ ack, body, view, client }) => {
    const meta = parseDenyMetadata(view.private_metadata);
    const fieldError = (text: string) =>
      ack({ response_action: "errors", errors: { [DENY_REASON_BLOCK]: text } });
    if (!meta) return fieldError("This form is malformed; nothing was changed.");
    const actorId = body.user.id;
    const verdict = await guard("deny", actorId, client);
    if (!verdict.allowed) return fieldError(refusalText(verdict.refusal, "deny"));
    const reason = view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value?.trim() ?? "";
    let updated: AccessRequest;
    try {
      updated = await store.transition(meta.id, {
        from: "PENDING",
        to: "DENIED",
        actor: { kind: "admin", id: actorId },
        ...(meta.channel && meta.ts
          ? { patch: { adminMessage: { channel: meta.channel, ts: meta.ts } } }
          : {}),
        ...(reason ? { reason: reason.slice(0, 500) } : {}),
      });
    } catch (err) {
      if (!(err instanceof TransitionConflictError)) log.error("deny_failed", { error: err });
      return fieldError(plainTextFor(err));
    }
    log.info("decided", { requestId: updated.id, to: updated.status, by: actorId });
    await ack();
    const ref = meta.channel && meta.ts ? { channel: meta.channel, ts: meta.ts } : undefined;
    if (ref) {
      try {
        await client.chat.update({ ...ref, ...cardPayload(decidedCard(bucket, updated)) });
      } catch (err) {
        log.warn("card_update_failed", { requestId: updated.id, error: err });
      }
    }
  });

  // Expiry reminder's "Request extension" (posted by the expiry job, value = request ID). Only the
  // requester may ask; the one Slack call tells the admin channel. Granting an extension needs a store
  // operation that moves expiresAt on an ACTIVE request, which does not exist yet (see README).
  app.action<BlockAction<ButtonAction>>(EXTEND_ACTION_ID, async (raw) => {
    const { ack, body, action, client } = raw as unknown as ClickArgs;
    await ack();
    const value = decodeButtonValue(action.value);
    const request = value ? await store.get(value.id) : undefined;
    if (!request || request.requesterUserId !== body.user.id || request.status !== "ACTIVE") {
      return tell(client, body, "There is no active access of yours to extend here; see `/cytoskel status`.");
    }
    try {
      await client.chat.postMessage({
        channel: config.admins.channelId,
        ...cardPayload(extensionAskedNote(bucket, request)),
      });
    } catch (err) {
      log.warn("extension_notice_failed", { requestId: request.id, error: err });
    }
  });

  // ---- events -------------------------------------------------------------------------------------
  // App Home shows the help text (an Events API JSON event: the non-ASCII base64 case lands here).
  app.event("app_home_opened", async ({ event, client }) => {
    const admin = await admins.isAdmin(event.user, client);
    await client.views.publish({
      user_id: event.user,
      view: {
        type: "home",
        blocks: [
          {
            type: "section",
            text: { type: "mrkdwn", text: helpText({ admin, commandName: config.slack.commandName }) },
          },
        ],
      },
    });
  });

  return app;
}
