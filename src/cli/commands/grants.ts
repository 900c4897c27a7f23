import {
  createGrant,
  deleteGrant,
  type Grant,
  grantPages,
  listGrants,
  listLocations,
} from "../../aws/access-grants.ts";
import { NoSuchGrantError } from "../../aws/errors.ts";
import { getUser } from "../../aws/iam-users.ts";
import { GrantScope } from "../../rules/grant-scope.ts";
import { parsePermission } from "../../rules/permission.ts";
import { normalizePrefix } from "../../rules/prefix.ts";
import {
  activeRecordsOfGrant,
  afterAws,
  BOOKS_NOT_UPDATED,
  type BooksArgs,
  type BooksOutcome,
  botPersonOf,
  endRecords,
  grantDays,
  openBooks,
  recordGrant,
} from "../books.ts";
import { type AdminContext, scopeInBucket } from "../context.ts";
import { CliFailure } from "../errors.ts";
import { parseGrantId, parseLocationId, parseUserArn } from "../input.ts";
import { type Listing, mapPages } from "../listing.ts";
import { grantLine } from "../output.ts";

export interface GrantItem {
  id: string;
  arn: string;
  granteeArn: string;
  scope: string;
  permission: string;
  locationId: string;
  subPrefix: string;
  createdAt?: string;
}

export interface GrantCreatedResult {
  kind: "grant-created";
  grant: GrantItem;
  books: BooksOutcome;
}

export interface GrantDeletedResult {
  kind: "grant-deleted";
  grantId: string;
  books: BooksOutcome;
}

export function toGrantItem(g: Grant): GrantItem {
  return {
    id: g.id,
    arn: g.arn,
    granteeArn: g.granteeArn,
    scope: g.scope.uri,
    permission: g.permission,
    locationId: g.locationId,
    subPrefix: g.locationSubPrefix,
    ...(g.createdAt ? { createdAt: g.createdAt.toISOString() } : {}),
  };
}

/** `list grant`: every grant on the target's bucket, with grantee, scope and permission, page by page. */
export async function listGrantsCommand(ctx: AdminContext): Promise<Listing<GrantItem>> {
  const accountId = await ctx.accountId();
  const { bucket } = ctx.target;
  return {
    kind: "listing",
    fields: { bucket },
    name: "grants",
    pages: mapPages(grantPages(ctx.clients.s3control, { accountId }), (g) =>
      scopeInBucket(g.scope.uri, bucket) ? toGrantItem(g) : undefined,
    ),
    line: grantLine,
    whenEmpty: `No access grants on s3://${bucket}/.`,
  };
}

export interface CreateGrantArgs {
  userArn: string;
  locationId: string;
  prefix: string;
  /** READ | WRITE | READWRITE (any case); the original tool always granted READWRITE. */
  permission?: string;
  /** Allow granting the whole bucket ("*"). */
  allowRoot?: boolean;
  /** How long the books record it for (a bot-made grantee's request expires then). */
  days?: string;
  /** The table and actor; without a table nothing is recorded. */
  books?: BooksArgs;
}

/** `create grant USER_ARN LOCATION_ID PREFIX`: everything is checked before the grant is made. */
export async function createGrantCommand(
  ctx: AdminContext,
  args: CreateGrantArgs,
): Promise<GrantCreatedResult> {
  const { bucket } = ctx.target;
  const user = parseUserArn(args.userArn);
  const locationId = parseLocationId(args.locationId);
  const scope = GrantScope.of(
    bucket,
    normalizePrefix(args.prefix, { bucket, allowRoot: args.allowRoot ?? false }),
  );
  const permission = parsePermission(args.permission ?? "READWRITE");
  const days = grantDays(args.days, args.books?.env ?? {});
  const books = args.books && openBooks(ctx, args.books);

  const accountId = await ctx.accountId();
  const { s3control, iam } = ctx.clients;
  const locations = (await listLocations(s3control, { accountId })).filter((l) =>
    scopeInBucket(l.scope, bucket),
  );
  const location = locations.find((l) => l.id === locationId);
  if (!location) {
    const known =
      locations.map((l) => `${l.id} (${l.scope})`).join(", ") || `none registered for s3://${bucket}/`;
    throw new CliFailure(`unknown location ID "${locationId}"; known locations: ${known}`);
  }
  if (!scope.liesIn(location.scope)) {
    throw new CliFailure(
      `location "${locationId}" (${location.scope}) does not cover ${scope.uri}; ` +
        'pick another location (see "list location")',
    );
  }

  const existingUser = await getUser(iam, user.userName);
  if (existingUser.arn !== user.arn) {
    throw new CliFailure(
      `user ARN "${user.arn}" does not match IAM user ${user.userName} (${existingUser.arn}); ` +
        'copy the ARN from "list user"',
    );
  }

  const same = (await listGrants(s3control, { accountId, granteeArn: user.arn })).find(
    (g) => g.scope.uri === scope.uri && g.permission === permission,
  );
  // A run that made the grant but could not record it: recording it now is what a second run is for.
  if (same && books && botPersonOf(user.arn, ctx.target.iamPath)) {
    const outcome = await recordGrant(books, same, { iamPath: ctx.target.iamPath, days, source: "cli" });
    if (outcome.recordedRequestIds.length > 0)
      return { kind: "grant-created", grant: toGrantItem(same), books: outcome };
  }
  if (same) {
    throw new CliFailure(
      `${user.arn} already has grant ${same.id} with ${permission} on ${scope.uri}; nothing changed`,
    );
  }

  const grant = await createGrant(s3control, {
    accountId,
    location,
    scope,
    permission,
    granteeArn: user.arn,
  });
  return {
    kind: "grant-created",
    grant: toGrantItem(grant),
    books: books
      ? await afterAws(`created grant ${grant.id}`, () =>
          recordGrant(books, grant, { iamPath: ctx.target.iamPath, days, source: "cli" }),
        )
      : BOOKS_NOT_UPDATED,
  };
}

/**
 * `delete grant ID`; with the books, every ACTIVE request recorded on that grant then ends REVOKED.
 * Grant first (as revoke does): a failure in between leaves records of a grant that is gone, which a
 * second run (the grant already gone, its records still ended) or `sync --fix` finishes.
 */
export async function deleteGrantCommand(
  ctx: AdminContext,
  args: { grantId: string; books?: BooksArgs },
): Promise<GrantDeletedResult> {
  const grantId = parseGrantId(args.grantId);
  const books = args.books && openBooks(ctx, args.books);
  const accountId = await ctx.accountId();
  let gone: unknown;
  await deleteGrant(ctx.clients.s3control, { accountId, grantId }).catch((err: unknown) => {
    if (!(books && err instanceof NoSuchGrantError)) throw err;
    gone = err;
  });
  if (!books) return { kind: "grant-deleted", grantId, books: BOOKS_NOT_UPDATED };
  const endedRequestIds = await afterAws(`deleted grant ${grantId}`, async () =>
    endRecords(books, await activeRecordsOfGrant(books, grantId), "deleted from the CLI"),
  );
  if (gone && endedRequestIds.length === 0) throw gone;
  return {
    kind: "grant-deleted",
    grantId,
    books: {
      table: books.tableName,
      recordedRequestIds: [],
      endedRequestIds,
      note: `${gone ? "The grant was already gone. " : ""}Ended ${endedRequestIds.length} request(s) recorded on it${endedRequestIds.length ? `: ${endedRequestIds.join(" ")}` : ""}.`,
    },
  };
}
