import {
  createGrant,
  deleteGrant,
  type Grant,
  grantPages,
  listGrants,
  listLocations,
} from "../../aws/access-grants.ts";
import { getUser } from "../../aws/iam-users.ts";
import { GrantScope } from "../../rules/grant-scope.ts";
import { parsePermission } from "../../rules/permission.ts";
import { normalizePrefix } from "../../rules/prefix.ts";
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
}

export interface GrantDeletedResult {
  kind: "grant-deleted";
  grantId: string;
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
  return { kind: "grant-created", grant: toGrantItem(grant) };
}

/** `delete grant ID`. */
export async function deleteGrantCommand(
  ctx: AdminContext,
  args: { grantId: string },
): Promise<GrantDeletedResult> {
  const grantId = parseGrantId(args.grantId);
  const accountId = await ctx.accountId();
  await deleteGrant(ctx.clients.s3control, { accountId, grantId });
  return { kind: "grant-deleted", grantId };
}
