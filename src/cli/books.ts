// "One set of books" (issue 12 item 9): what the admin CLI changes in IAM and Access Grants is written to
// the bot's requests table the way the bot writes it, so `status`, the App Home, expiry and the audit
// agree with AWS. The table comes from --table / CYTOSKEL_TABLE_NAME (as for `audit` and `close`);
// without one the commands behave as the original tool did and say in one line that the books were not
// updated.
//
// Only people the bot knows are in the books: a grant's grantee or an IAM user named
// `slack-<TEAM>-<USER>` under the target's IAM path (src/service/users.ts). Anyone else (a user made with
// `create user`, a role) has no Slack identity, and the trail is keyed by Slack user: nothing is recorded
// for them (CloudTrail has the operator's calls), and `sync` lists their grants as hand-made.
//
// Every write goes through the store's own operations (create, transition: one audited transaction each)
// under the person's lock, as the provisioner's and revoke's do, so the CLI never interleaves with them.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Grant } from "../aws/access-grants.ts";
import type { Actor } from "../rules/lifecycle.ts";
import { personLockName } from "../service/deps.ts";
import { endRequests, HOLDS_ACCESS, personRequests } from "../service/revoke.ts";
import { createDynamoUserLocks, type UserLocks } from "../service/user-lock.ts";
import { slackIdsFromIamUserName } from "../service/users.ts";
import { createDocumentClient } from "../store/client.ts";
import { createStores, type Stores } from "../store/index.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest } from "../store/types.ts";
import type { AdminContext } from "./context.ts";
import { CliFailure, describeError, UsageError } from "./errors.ts";

/** Where the table name comes from when --table is not given. */
export const TABLE_ENV = "CYTOSKEL_TABLE_NAME";
/** Recorded as the actor when --admin is not given. */
export const CLI_ACTOR_ID = "cytoskel-cli";
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
/** The bot's defaults for a grant's length (src/bot/config.ts), read from the same variables. */
const DEFAULT_DAYS = 30;
const MAX_DAYS = 90;

export interface BooksArgs {
  table?: string;
  /** The operator's Slack user ID, recorded as the actor. */
  admin?: string;
  reason?: string;
  env: Record<string, string | undefined>;
}

export interface Books {
  tableName: string;
  stores: Stores;
  locks: UserLocks;
  doc: ReturnType<typeof createDocumentClient>;
  actor: Actor;
  reason?: string;
}

/** What a command did to the books, for its output. */
export interface BooksOutcome {
  /** The table written, absent when none was given (nothing was recorded). */
  table?: string;
  /** Requests recorded ACTIVE (a grant made or found). */
  recordedRequestIds: string[];
  /** Requests ended REVOKED (their grant or user gone). */
  endedRequestIds: string[];
  /** One line for people, e.g. why nothing was recorded. */
  note?: string;
}

export const BOOKS_NOT_UPDATED: BooksOutcome = {
  recordedRequestIds: [],
  endedRequestIds: [],
  note: `Books not updated (no --table or ${TABLE_ENV}): status, the App Home and the audit do not show this; "sync" finds it later.`,
};

export function tableNameOf(args: Pick<BooksArgs, "table" | "env">): string | undefined {
  return args.table ?? (args.env[TABLE_ENV] || undefined);
}

/** For commands that cannot run without the table (audit, close). */
export function requireTableName(args: Pick<BooksArgs, "table" | "env">): string {
  const name = tableNameOf(args);
  if (!name)
    throw new UsageError(
      `which table? Pass --table or set ${TABLE_ENV} to the CytoskelBot stack's TableName output`,
    );
  return name;
}

/** The actor of the CLI's changes: --admin (checked) or "cytoskel-cli". */
export function cliActor(admin: string | undefined): Actor {
  if (admin !== undefined && !SLACK_USER_ID.test(admin))
    throw new UsageError(`--admin ${JSON.stringify(admin)} is not a Slack user ID (like U012AB3CD)`);
  return { kind: "admin", id: admin ?? CLI_ACTOR_ID };
}

/** --days: 1 … MAX_DURATION_DAYS (default DEFAULT_DURATION_DAYS), as the bot allows. */
export function grantDays(text: string | undefined, env: BooksArgs["env"]): number {
  const max = Number(env.MAX_DURATION_DAYS) || MAX_DAYS;
  const fallback = Math.min(Number(env.DEFAULT_DURATION_DAYS) || DEFAULT_DAYS, max);
  if (text === undefined) return fallback;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw new UsageError(`invalid --days "${text}"; allowed: 1-${max} (whole days; default ${fallback})`);
  return Number(text);
}

/** Opens the books when a table is named; call after the command's own input checks (they throw first). */
export function openBooks(ctx: AdminContext, args: BooksArgs): Books | undefined {
  const tableName = tableNameOf(args);
  if (!tableName) return undefined;
  const actor = cliActor(args.admin);
  const dynamodb = ctx.clients.dynamodb as DynamoDBClient | undefined;
  if (!dynamodb) throw new Error("no DynamoDB client");
  const doc = createDocumentClient(dynamodb);
  return {
    tableName,
    stores: createStores({ client: doc, tableName }),
    locks: createDynamoUserLocks({ doc, tableName }),
    doc,
    actor,
    ...(args.reason ? { reason: args.reason } : {}),
  };
}

/** The books of a command that cannot run without them (close, sync): a usage error when no table is named. */
export function requireBooks(ctx: AdminContext, args: BooksArgs): Books {
  requireTableName(args);
  return openBooks(ctx, args) as Books;
}

/** The Slack person behind a bot-made IAM user's ARN (name `slack-<TEAM>-<USER>` under `iamPath`). */
export function botPersonOf(
  granteeArn: string,
  iamPath: string,
): { teamId: string; userId: string } | undefined {
  const m = /^arn:aws[\w-]*:iam::\d{12}:user(\/.*\/|\/)([^/]+)$/.exec(granteeArn);
  if (!m?.[1]?.startsWith(iamPath) || !m[2]) return undefined;
  return slackIdsFromIamUserName(m[2]);
}

/**
 * Records `grant` as an ACTIVE request of its grantee (the bot's person), unless an ACTIVE request
 * already records it (a second run records nothing). Under the person's lock.
 */
export async function recordGrant(
  books: Books,
  grant: Grant,
  opts: { iamPath: string; days: number; source: "cli" | "sync" },
): Promise<BooksOutcome> {
  const outcome: BooksOutcome = { table: books.tableName, recordedRequestIds: [], endedRequestIds: [] };
  const person = botPersonOf(grant.granteeArn, opts.iamPath);
  if (!person)
    return {
      ...outcome,
      note: `Not recorded: ${grant.granteeArn} is not a user the bot made (slack-<TEAM>-<USER>); "sync" lists its grants as hand-made.`,
    };
  return books.locks.withLock(personLockName(person.userId), async () => {
    const requests = await personRequests({ store: books.stores.requests }, person.userId);
    const holder = requests.find((r) => r.status === "ACTIVE" && r.progress.grant?.grantId === grant.id);
    if (holder) return { ...outcome, note: `Already recorded as request ${holder.id}.` };
    const { request, created } = await books.stores.requests.create({
      requesterUserId: person.userId,
      requesterTeamId: person.teamId,
      subPrefix: grant.scope.prefix,
      permission: grant.permission,
      durationDays: opts.days,
      reason:
        books.reason ??
        (opts.source === "sync" ? "sync: grant found in Access Grants" : "created from the CLI"),
      adopted: {
        actor: books.actor,
        grant: { grantId: grant.id, grantArn: grant.arn },
        days: opts.days,
        source: opts.source,
      },
    });
    if (!created)
      return {
        ...outcome,
        note:
          `Not recorded: request ${request.id} (${request.status}) already holds ${grant.scope.prefix} for ${person.userId}` +
          (request.status === "ACTIVE"
            ? ` on grant ${request.progress.grant?.grantId ?? "(none recorded)"}; delete grant ${grant.id} if it is not needed.`
            : "; decide or revoke it first."),
      };
    return {
      ...outcome,
      recordedRequestIds: [request.id],
      note: `Recorded as request ${request.id} for ${person.userId}, ACTIVE until ${request.expiresAt}.`,
    };
  });
}

/**
 * `write` (the books' part of a command whose AWS part is done) with its failure said as such: what AWS
 * now holds, and that running the command again (or `sync --fix`) finishes the books.
 */
export async function afterAws<T>(done: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw new CliFailure(
      `${done}, but could not update the books (${describeError(err).message}); nothing else changed: ` +
        'run the same command again, or "sync --fix", to finish',
      { cause: err },
    );
  }
}

/** Every ACTIVE request (the byStatus index, every page). */
export function activeRecords(books: Books): Promise<AccessRequest[]> {
  return collectAll((cursor) => books.stores.requests.listByStatus("ACTIVE", cursor ? { cursor } : {}));
}

/** ACTIVE requests whose recorded grant is `grantId` (each is read again under its lock before it ends). */
export async function activeRecordsOfGrant(books: Books, grantId: string): Promise<AccessRequest[]> {
  return (await activeRecords(books)).filter((r) => r.progress.grant?.grantId === grantId);
}

/**
 * Ends REVOKED (audited, with the books' actor and reason) each request of `records` that, read again
 * under its person's lock, is still ACTIVE on the same grant: one changed meanwhile (a change applied, a
 * revoke) is left as it now is.
 */
export async function endRecords(
  books: Books,
  records: readonly AccessRequest[],
  reason: string,
): Promise<string[]> {
  const ended: string[] = [];
  for (const userId of new Set(records.map((r) => r.requesterUserId))) {
    await books.locks.withLock(personLockName(userId), async () => {
      const mine = records.filter((r) => r.requesterUserId === userId);
      const fresh = await Promise.all(mine.map((r) => books.stores.requests.get(r.id)));
      const still = fresh.filter(
        (f, i): f is AccessRequest =>
          f?.status === "ACTIVE" && f.progress.grant?.grantId === mine[i]?.progress.grant?.grantId,
      );
      const moved = await endRequests(books.stores.requests, still, {
        status: "REVOKED",
        actor: books.actor,
        reason: books.reason ?? reason,
      });
      ended.push(...moved.map((r) => r.id));
    });
  }
  return ended;
}

/**
 * A bot-made user's IAM teardown (`run`) and the end of every request of theirs that holds access, under
 * their lock (the provisioner must not make a key meanwhile). Other users: `run` alone, with a note.
 */
export async function withPersonRecordsEnded<T>(
  books: Books,
  userName: string,
  run: () => Promise<T>,
): Promise<{ value: T; books: BooksOutcome }> {
  const outcome: BooksOutcome = { table: books.tableName, recordedRequestIds: [], endedRequestIds: [] };
  const person = slackIdsFromIamUserName(userName);
  if (!person)
    return {
      value: await run(),
      books: {
        ...outcome,
        note: `No records: ${userName} is not a user the bot made (slack-<TEAM>-<USER>).`,
      },
    };
  return books.locks.withLock(personLockName(person.userId), async () => {
    const value = await run();
    const moved = await afterAws(`deleted IAM user ${userName}`, async () => {
      // Only those this IAM user served: the person's requests under another org part have their own.
      const holding = (await personRequests({ store: books.stores.requests }, person.userId)).filter(
        (r) => HOLDS_ACCESS.includes(r.status) && r.requesterTeamId === person.teamId,
      );
      return endRequests(books.stores.requests, holding, {
        status: "REVOKED",
        actor: books.actor,
        reason: books.reason ?? "deleted from the CLI",
      });
    });
    const endedRequestIds = moved.map((r) => r.id);
    return {
      value,
      books: {
        ...outcome,
        endedRequestIds,
        note: `Ended ${endedRequestIds.length} request(s) of ${person.userId} in the books${endedRequestIds.length ? `: ${endedRequestIds.join(" ")}` : ""}.`,
      },
    };
  });
}
