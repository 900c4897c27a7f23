// `audit [--user U…] [--prefix P]`: the trail the bot and the provisioner record, newest first, page by
// page. Read with the store's own AuditLog (no second reading of the table layout): by person through
// auditByUser, by prefix through auditByDataset; the operator policy grants Query on those two indexes
// and nothing else in the table. Without a filter there is nothing to Query (a Scan of the whole table
// is deliberately not granted), so one of the two is required.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { normalizePrefix } from "../../rules/prefix.ts";
import { AuditLog } from "../../store/audit.ts";
import { createDocumentClient } from "../../store/client.ts";
import type { AuditEvent } from "../../store/types.ts";
import { requireTableName } from "../books.ts";
import type { AdminContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import type { Listing } from "../listing.ts";

const PAGE = 100;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

export interface AuditArgs {
  users: string[];
  prefix?: string;
  table?: string;
  env: Record<string, string | undefined>;
}

export function auditCommand(ctx: AdminContext, args: AuditArgs): Listing<AuditEvent> {
  const tableName = requireTableName(args);
  for (const u of args.users)
    if (!SLACK_USER_ID.test(u))
      throw new UsageError(`--user ${JSON.stringify(u)} is not a Slack user ID (like U012AB3CD)`);
  if (args.users.length === 0 && args.prefix === undefined)
    throw new UsageError("give --user <slack-user-id> and/or --prefix <prefix>");
  const subPrefix =
    args.prefix === undefined ? undefined : normalizePrefix(args.prefix, { bucket: ctx.target.bucket });
  const dynamodb = ctx.clients.dynamodb as DynamoDBClient | undefined;
  if (!dynamodb) throw new Error("no DynamoDB client");
  const audit = new AuditLog({ client: createDocumentClient(dynamodb), tableName });

  const under = subPrefix && `${subPrefix.slice(0, -1)}`; // "cpg0042/*" → "cpg0042/"
  const pages =
    args.users.length > 0
      ? newestFirst(
          args.users.map((u) =>
            walk((cursor) => audit.listForUser(u, { newestFirst: true, limit: PAGE, ...cursor })),
          ),
          (e) => under === undefined || (e.scope?.startsWith(under) ?? false),
        )
      : walk((cursor) => audit.listForPrefix(subPrefix as string, { limit: PAGE, ...cursor }));
  return {
    kind: "listing",
    fields: {
      table: tableName,
      ...(args.users.length ? { users: args.users } : {}),
      ...(subPrefix ? { prefix: subPrefix } : {}),
    },
    name: "events",
    pages,
    line: auditLine,
    whenEmpty: "No audit events match.",
  };
}

/** Every page of one paged read, in order. */
async function* walk(
  read: (cursor: { cursor?: string }) => Promise<{ items: AuditEvent[]; cursor?: string }>,
): AsyncGenerator<AuditEvent[]> {
  let cursor: string | undefined;
  do {
    const page = await read(cursor ? { cursor } : {});
    yield page.items;
    cursor = page.cursor;
  } while (cursor);
}

async function* itemsOf(pages: AsyncIterable<AuditEvent[]>): AsyncGenerator<AuditEvent> {
  for await (const page of pages) yield* page;
}

/** Several newest-first streams (one per person) merged into one, newest first, in pages. */
async function* newestFirst(
  sources: AsyncIterable<AuditEvent[]>[],
  keep: (e: AuditEvent) => boolean,
): AsyncGenerator<AuditEvent[]> {
  const its = sources.map((s) => itemsOf(s));
  const heads = await Promise.all(its.map((it) => it.next()));
  const key = (e: AuditEvent) => `${e.at}#${e.id}`;
  let page: AuditEvent[] = [];
  for (;;) {
    let best = -1;
    for (const [i, h] of heads.entries()) {
      const top = best < 0 ? undefined : heads[best];
      if (!h.done && (top === undefined || top.done || key(h.value) > key(top.value))) best = i;
    }
    const head = heads[best];
    if (best < 0 || !head || head.done) break;
    if (keep(head.value)) page.push(head.value);
    heads[best] = await (its[best] as AsyncGenerator<AuditEvent>).next();
    if (page.length >= PAGE) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

/** One line per event. Stored free text is JSON-quoted, so a reason can't move the cursor or colour the
 *  terminal (control characters come out as \u escapes). */
export function auditLine(e: AuditEvent): string {
  const parts = [e.at, e.action];
  if (e.from || e.to) parts.push(`${e.from ?? ""}->${e.to ?? "?"}`);
  parts.push(`about ${JSON.stringify(e.subjectUserId)}`, `by ${e.actor.kind}:${JSON.stringify(e.actor.id)}`);
  if (e.scope) parts.push(`scope ${JSON.stringify(e.scope)}`);
  if (e.requestId) parts.push(`request ${JSON.stringify(e.requestId)}`);
  for (const [k, v] of Object.entries(e.details ?? {}))
    parts.push(`${JSON.stringify(k)}=${JSON.stringify(v)}`);
  if (e.reason) parts.push(`reason ${JSON.stringify(e.reason)}`);
  return parts.join("  ");
}
