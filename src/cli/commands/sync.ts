// `sync [--fix]`: drift between the books (the bot's requests table) and Access Grants (src/cli/books.ts).
// Reads every ACTIVE request (the byStatus index) and every grant on the bucket (one unfiltered
// ListAccessGrants, as close does), and reports:
// - records with no grant: an ACTIVE request whose recorded grant is not in Access Grants (deleted by
//   hand, or a CLI run died between AWS and the table). --fix ends it REVOKED, audited.
// - grants with no record: a grant to a user the bot made (slack-<TEAM>-<USER>) that no ACTIVE request
//   records. --fix records it ACTIVE for DEFAULT_DURATION_DAYS, audited, so expiry ends it in time.
// - hand-made grants: to anyone else (a role, a `create user` user). Listed, never touched.
// Each fix is made under the person's lock on a fresh read, so a second --fix finds no drift. Exit
// code: 0 no drift (or all of it fixed), EXIT_DRIFT (3) drift found without --fix, 1 a fix failed.
import { type Grant, listGrants } from "../../aws/access-grants.ts";
import { describeFailure } from "../../service/errors.ts";
import type { AccessRequest } from "../../store/types.ts";
import {
  activeRecords,
  type BooksArgs,
  botPersonOf,
  endRecords,
  grantDays,
  recordGrant,
  requireBooks,
} from "../books.ts";
import { type AdminContext, scopeInBucket } from "../context.ts";
import { EXIT_FAILURE } from "../errors.ts";

/** Drift found and not fixed (neither success nor a failed call). */
export const EXIT_DRIFT = 3;

export interface RecordWithoutGrant {
  requestId: string;
  userId: string;
  scope: string;
  /** The grant recorded (absent: none was). */
  grantId?: string;
}

export interface GrantSummary {
  grantId: string;
  granteeArn: string;
  scope: string;
  permission: string;
}

export interface Drift {
  recordsWithoutGrant: RecordWithoutGrant[];
  grantsWithoutRecord: (GrantSummary & { userId: string })[];
  handMadeGrants: GrantSummary[];
}

export interface SyncResult extends Drift {
  kind: "sync";
  bucket: string;
  table: string;
  fixed: boolean;
  /** What --fix did, one line each. */
  done: string[];
  failures: string[];
  exitCode: number;
}

/** The drift between ACTIVE requests and the bucket's grants (pure). */
export function findDrift(
  active: readonly AccessRequest[],
  grants: readonly Grant[],
  iamPath: string,
): Drift {
  const grantIds = new Set(grants.map((g) => g.id));
  const recorded = new Set(active.map((r) => r.progress.grant?.grantId));
  const summary = (g: Grant): GrantSummary => ({
    grantId: g.id,
    granteeArn: g.granteeArn,
    scope: g.scope.prefix,
    permission: g.permission,
  });
  const drift: Drift = { recordsWithoutGrant: [], grantsWithoutRecord: [], handMadeGrants: [] };
  for (const r of active) {
    const grantId = r.progress.grant?.grantId;
    if (grantId && grantIds.has(grantId)) continue;
    drift.recordsWithoutGrant.push({
      requestId: r.id,
      userId: r.requesterUserId,
      scope: r.subPrefix,
      ...(grantId ? { grantId } : {}),
    });
  }
  for (const g of grants) {
    const person = g.granteeType === "IAM" ? botPersonOf(g.granteeArn, iamPath) : undefined;
    if (!person) drift.handMadeGrants.push(summary(g));
    else if (!recorded.has(g.id)) drift.grantsWithoutRecord.push({ ...summary(g), userId: person.userId });
  }
  return drift;
}

export async function syncCommand(
  ctx: AdminContext,
  args: { fix?: boolean; books: BooksArgs },
): Promise<SyncResult> {
  const books = requireBooks(ctx, args.books);
  const table = books.tableName;
  const days = grantDays(undefined, args.books.env);
  const { bucket, iamPath } = ctx.target;
  const accountId = await ctx.accountId();
  // Records first: a grant made after this read (a provisioning in flight) shows as a grant without a
  // record, which recordGrant re-checks under the lock, never as a record whose grant is gone.
  const active = await activeRecords(books);
  const grants = (await listGrants(ctx.clients.s3control, { accountId })).filter((g) =>
    scopeInBucket(g.scope.uri, bucket),
  );
  const drift = findDrift(active, grants, iamPath);
  const found = drift.recordsWithoutGrant.length + drift.grantsWithoutRecord.length > 0;
  const result: SyncResult = {
    kind: "sync",
    bucket,
    table,
    ...drift,
    fixed: false,
    done: [],
    failures: [],
    exitCode: found && !args.fix ? EXIT_DRIFT : 0,
  };
  if (!args.fix || !found) return result;

  const missing = new Set(drift.recordsWithoutGrant.map((r) => r.requestId));
  const stale = active.filter((r) => missing.has(r.id));
  try {
    const ended = await endRecords(books, stale, "sync: grant no longer in Access Grants");
    for (const id of ended) result.done.push(`Ended request ${id} (REVOKED): its grant is gone`);
  } catch (err) {
    result.failures.push(`ending records: ${describeFailure(err)}`);
  }
  const byId = new Map(grants.map((g) => [g.id, g]));
  for (const g of drift.grantsWithoutRecord) {
    const grant = byId.get(g.grantId) as Grant;
    try {
      const outcome = await recordGrant(books, grant, { iamPath, days, source: "sync" });
      if (outcome.recordedRequestIds.length > 0) result.done.push(`Grant ${g.grantId}: ${outcome.note}`);
      else result.failures.push(`Grant ${g.grantId}: ${outcome.note}`);
    } catch (err) {
      result.failures.push(`Grant ${g.grantId}: ${describeFailure(err)}`);
    }
  }
  result.fixed = result.failures.length === 0;
  result.exitCode = result.fixed ? 0 : EXIT_FAILURE;
  return result;
}
