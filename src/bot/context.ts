/**
 * What every listener (src/bot/listeners/*) is handed: the settings, the store, the job queue, the
 * logger, the clock and the admin check. `createBotApp` builds one per app.
 */

import type { webApi } from "@slack/bolt";
import type { Logger } from "../log.ts";
import { authorize, type GuardedAction, type Verdict } from "../rules/authorization.ts";
import type { AuditLog } from "../store/audit.ts";
import type { Job, NewJobInput } from "../store/jobs.ts";
import type { RequestStore } from "../store/requests.ts";
import { AdminResolver } from "./admins.ts";
import type { ResolvedBotConfig } from "./config.ts";

/** The store operations the bot uses (the real RequestStore fits, its audit log included). */
export type BotStore = Pick<
  RequestStore,
  | "create"
  | "get"
  | "transition"
  | "recordAdminCard"
  | "claimDelivery"
  | "listByRequester"
  | "listByStatus"
  | "listActiveByUser"
  | "listActiveExpiringBefore"
> & {
  /** Reading the audit trail (`/cytoskel audit`); without it that command says it is not wired. */
  readonly audit?: AuditReader;
};

/** The audit reads the bot makes: Query on the two audit indexes (the bot role's ReadAuditTrail). */
export type AuditReader = Pick<AuditLog, "listForUser" | "listForPrefix">;

/** Where revoke / re-issue go: one conditional put of a job item; the provisioner runs it from the stream. */
export interface JobQueue {
  enqueue(input: NewJobInput): Promise<Job>;
}

export type BotLogger = Logger;

export interface BotContext {
  config: ResolvedBotConfig;
  /** The bucket every scope is in (`config.target.bucket`). */
  bucket: string;
  store: BotStore;
  /** Admin jobs (revoke / reissue); without it those commands say they are not wired. */
  jobs: JobQueue | undefined;
  log: BotLogger;
  clock: () => Date;
  /** A listed admin, or a member of the admin user group (its member list cached). */
  isAdmin(userId: string, client: webApi.WebClient): Promise<boolean>;
  /** May the actor do this (on `requesterUserId`'s request)? Looks up admin membership except for cancel. */
  authorize(
    action: GuardedAction,
    actorUserId: string,
    client: webApi.WebClient,
    requesterUserId?: string,
  ): Promise<Verdict>;
}

export function createBotContext(deps: {
  config: ResolvedBotConfig;
  store: BotStore;
  jobs: JobQueue | undefined;
  log: BotLogger;
  clock: () => Date;
}): BotContext {
  const { config, clock, log } = deps;
  const admins = new AdminResolver(config.admins, () => clock().getTime(), log);
  return {
    ...deps,
    bucket: config.target.bucket,
    isAdmin: (userId, client) => admins.isAdmin(userId, client),
    async authorize(action, actorUserId, client, requesterUserId) {
      const actorIsAdmin = action === "cancel" ? false : await admins.isAdmin(actorUserId, client);
      return authorize({
        action,
        actorUserId,
        actorIsAdmin,
        allowSelfApproval: config.admins.allowSelfApproval,
        ...(requesterUserId !== undefined ? { requesterUserId } : {}),
      });
    },
  };
}
