// S3 Access Grants: the instance, registered locations and grants (S3 Control API).
import {
  CreateAccessGrantCommand,
  CreateAccessGrantsInstanceCommand,
  CreateAccessGrantsLocationCommand,
  DeleteAccessGrantCommand,
  GetAccessGrantCommand,
  GetAccessGrantsInstanceCommand,
  GetAccessGrantsLocationCommand,
  type ListAccessGrantEntry,
  paginateListAccessGrants,
  paginateListAccessGrantsLocations,
  type S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { GrantScope } from "../rules/grant-scope.ts";
import { type Permission, permissionCovers } from "../rules/permission.ts";
import { AlreadyExistsError, mapAwsError, NoSuchInstanceError } from "./errors.ts";

export interface AccessGrantsInstance {
  id: string;
  arn: string;
  createdAt?: Date;
}

export interface GrantLocation {
  id: string;
  arn: string;
  /** e.g. "s3://staging-cellpainting-gallery/" */
  scope: string;
  iamRoleArn: string;
  createdAt?: Date;
}

export interface Grant {
  id: string;
  arn: string;
  granteeType: string;
  /** For IAM grantees, the user or role ARN. */
  granteeArn: string;
  locationId: string;
  /** What it covers, e.g. s3://staging-cellpainting-gallery/cpg0042/* (prefix "cpg0042/*"). */
  scope: GrantScope;
  /** S3SubPrefix as AWS keeps it: relative to the grant's location, so shown but never compared. */
  locationSubPrefix: string;
  permission: Permission;
  createdAt?: Date;
}

export interface AccountRef {
  accountId: string;
}

const PAGE_SIZE = 1000;

export async function findInstance(
  s3control: S3ControlClient,
  accountId: string,
): Promise<AccessGrantsInstance | undefined> {
  try {
    const out = await s3control.send(new GetAccessGrantsInstanceCommand({ AccountId: accountId }));
    return {
      id: out.AccessGrantsInstanceId ?? "",
      arn: out.AccessGrantsInstanceArn ?? "",
      ...(out.CreatedAt ? { createdAt: out.CreatedAt } : {}),
    };
  } catch (err) {
    const mapped = mapAwsError(err, { operation: "GetAccessGrantsInstance", accountId });
    if (mapped instanceof NoSuchInstanceError) return undefined;
    throw mapped;
  }
}

/** The account's instance in the client's region; NoSuchInstanceError when there is none. */
export async function getInstance(
  s3control: S3ControlClient,
  accountId: string,
): Promise<AccessGrantsInstance> {
  const instance = await findInstance(s3control, accountId);
  if (!instance) throw new NoSuchInstanceError(accountId, { operation: "GetAccessGrantsInstance" });
  return instance;
}

/** Get the instance, creating it when missing (one per account and region). */
export async function ensureInstance(
  s3control: S3ControlClient,
  accountId: string,
): Promise<{ instance: AccessGrantsInstance; created: boolean }> {
  const existing = await findInstance(s3control, accountId);
  if (existing) return { instance: existing, created: false };
  try {
    const out = await s3control.send(new CreateAccessGrantsInstanceCommand({ AccountId: accountId }));
    return {
      instance: {
        id: out.AccessGrantsInstanceId ?? "",
        arn: out.AccessGrantsInstanceArn ?? "",
        ...(out.CreatedAt ? { createdAt: out.CreatedAt } : {}),
      },
      created: true,
    };
  } catch (err) {
    const mapped = mapAwsError(err, {
      operation: "CreateAccessGrantsInstance",
      accountId,
      resource: "The Access Grants instance",
    });
    // Someone else created it between our get and create.
    if (mapped instanceof AlreadyExistsError)
      return { instance: await getInstance(s3control, accountId), created: false };
    throw mapped;
  }
}

export async function listLocations(
  s3control: S3ControlClient,
  opts: AccountRef & { scope?: string; pageSize?: number },
): Promise<GrantLocation[]> {
  const locations: GrantLocation[] = [];
  try {
    const pages = paginateListAccessGrantsLocations(
      { client: s3control, pageSize: opts.pageSize ?? PAGE_SIZE },
      { AccountId: opts.accountId, ...(opts.scope ? { LocationScope: opts.scope } : {}) },
    );
    for await (const page of pages) {
      for (const l of page.AccessGrantsLocationsList ?? []) {
        locations.push({
          id: l.AccessGrantsLocationId ?? "",
          arn: l.AccessGrantsLocationArn ?? "",
          scope: l.LocationScope ?? "",
          iamRoleArn: l.IAMRoleArn ?? "",
          ...(l.CreatedAt ? { createdAt: l.CreatedAt } : {}),
        });
      }
    }
  } catch (err) {
    throw mapAwsError(err, { operation: "ListAccessGrantsLocations", accountId: opts.accountId });
  }
  return locations;
}

export async function getLocation(
  s3control: S3ControlClient,
  opts: AccountRef & { locationId: string },
): Promise<GrantLocation> {
  try {
    const out = await s3control.send(
      new GetAccessGrantsLocationCommand({
        AccountId: opts.accountId,
        AccessGrantsLocationId: opts.locationId,
      }),
    );
    return {
      id: out.AccessGrantsLocationId ?? opts.locationId,
      arn: out.AccessGrantsLocationArn ?? "",
      scope: out.LocationScope ?? "",
      iamRoleArn: out.IAMRoleArn ?? "",
      ...(out.CreatedAt ? { createdAt: out.CreatedAt } : {}),
    };
  } catch (err) {
    throw mapAwsError(err, {
      operation: "GetAccessGrantsLocation",
      accountId: opts.accountId,
      locationId: opts.locationId,
    });
  }
}

export async function createLocation(
  s3control: S3ControlClient,
  opts: AccountRef & { scope: string; iamRoleArn: string },
): Promise<GrantLocation> {
  try {
    const out = await s3control.send(
      new CreateAccessGrantsLocationCommand({
        AccountId: opts.accountId,
        LocationScope: opts.scope,
        IAMRoleArn: opts.iamRoleArn,
      }),
    );
    return {
      id: out.AccessGrantsLocationId ?? "",
      arn: out.AccessGrantsLocationArn ?? "",
      scope: out.LocationScope ?? opts.scope,
      iamRoleArn: out.IAMRoleArn ?? opts.iamRoleArn,
      ...(out.CreatedAt ? { createdAt: out.CreatedAt } : {}),
    };
  } catch (err) {
    throw mapAwsError(err, {
      operation: "CreateAccessGrantsLocation",
      accountId: opts.accountId,
      resource: `An Access Grants location for ${opts.scope}`,
    });
  }
}

function toGrant(g: ListAccessGrantEntry): Grant {
  return {
    id: g.AccessGrantId ?? "",
    arn: g.AccessGrantArn ?? "",
    granteeType: g.Grantee?.GranteeType ?? "",
    granteeArn: g.Grantee?.GranteeIdentifier ?? "",
    locationId: g.AccessGrantsLocationId ?? "",
    scope: GrantScope.fromUri(g.GrantScope ?? ""),
    locationSubPrefix: g.AccessGrantsLocationConfiguration?.S3SubPrefix ?? "",
    permission: (g.Permission ?? "READ") as Permission,
    ...(g.CreatedAt ? { createdAt: g.CreatedAt } : {}),
  };
}

export interface ListGrantsOptions extends AccountRef {
  /** Only grants whose grantee is this IAM user/role ARN. */
  granteeArn?: string;
  permission?: Permission;
  /** Only grants with exactly this scope (AWS's GrantScope filter). */
  grantScope?: GrantScope;
  pageSize?: number;
}

/** Every grant (all pages), optionally filtered by grantee. */
export async function listGrants(s3control: S3ControlClient, opts: ListGrantsOptions): Promise<Grant[]> {
  const grants: Grant[] = [];
  for await (const page of grantPages(s3control, opts)) grants.push(...page);
  return grants;
}

/** The grants listGrants returns, a page at a time: a listing of any length in the memory of one page. */
export async function* grantPages(
  s3control: S3ControlClient,
  opts: ListGrantsOptions,
): AsyncGenerator<Grant[]> {
  try {
    const pages = paginateListAccessGrants(
      { client: s3control, pageSize: opts.pageSize ?? PAGE_SIZE },
      {
        AccountId: opts.accountId,
        ...(opts.granteeArn ? { GranteeType: "IAM", GranteeIdentifier: opts.granteeArn } : {}),
        ...(opts.permission ? { Permission: opts.permission } : {}),
        ...(opts.grantScope ? { GrantScope: opts.grantScope.uri } : {}),
      },
    );
    for await (const page of pages) yield (page.AccessGrantsList ?? []).map(toGrant);
  } catch (err) {
    throw mapAwsError(err, { operation: "ListAccessGrants", accountId: opts.accountId });
  }
}

export async function getGrant(
  s3control: S3ControlClient,
  opts: AccountRef & { grantId: string },
): Promise<Grant> {
  try {
    const out = await s3control.send(
      new GetAccessGrantCommand({ AccountId: opts.accountId, AccessGrantId: opts.grantId }),
    );
    return toGrant(out);
  } catch (err) {
    throw mapAwsError(err, { operation: "GetAccessGrant", accountId: opts.accountId, grantId: opts.grantId });
  }
}

export interface CreateGrantInput extends AccountRef {
  /** The registered location the grant goes under; `scope` is expressed relative to its scope. */
  location: Pick<GrantLocation, "id" | "scope">;
  scope: GrantScope;
  permission: Permission;
  /** IAM user or role ARN. */
  granteeArn: string;
}

/**
 * A grant on `scope` under `location`: the S3SubPrefix sent is `scope` relative to the location's scope.
 * A scope the location cannot reach is ScopeOutsideLocationError, before any call.
 */
export async function createGrant(s3control: S3ControlClient, input: CreateGrantInput): Promise<Grant> {
  const subPrefix = input.scope.subPrefixIn(input.location.scope);
  try {
    const out = await s3control.send(
      new CreateAccessGrantCommand({
        AccountId: input.accountId,
        AccessGrantsLocationId: input.location.id,
        AccessGrantsLocationConfiguration: { S3SubPrefix: subPrefix },
        Grantee: { GranteeType: "IAM", GranteeIdentifier: input.granteeArn },
        Permission: input.permission,
      }),
    );
    return toGrant(out);
  } catch (err) {
    throw mapAwsError(err, {
      operation: "CreateAccessGrant",
      accountId: input.accountId,
      locationId: input.location.id,
      resource: `A ${input.permission} grant on ${input.scope.uri} (location ${input.location.id}) for ${input.granteeArn}`,
    });
  }
}

export async function deleteGrant(
  s3control: S3ControlClient,
  opts: AccountRef & { grantId: string },
): Promise<void> {
  try {
    await s3control.send(
      new DeleteAccessGrantCommand({ AccountId: opts.accountId, AccessGrantId: opts.grantId }),
    );
  } catch (err) {
    throw mapAwsError(err, {
      operation: "DeleteAccessGrant",
      accountId: opts.accountId,
      grantId: opts.grantId,
    });
  }
}

/** Pure: the most specific grant in `grants` for this grantee that covers `scope` with `permission`. */
export function pickCoveringGrant(
  grants: readonly Grant[],
  want: { granteeArn: string; scope: GrantScope; permission: Permission },
): Grant | undefined {
  let best: Grant | undefined;
  for (const g of grants) {
    if (g.granteeArn !== want.granteeArn) continue;
    if (!permissionCovers(g.permission, want.permission)) continue;
    if (!g.scope.covers(want.scope)) continue;
    if (!best || g.scope.specificity > best.scope.specificity) best = g;
  }
  return best;
}
