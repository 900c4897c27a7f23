import { listLocations } from "../../aws/access-grants.ts";
import { type AdminContext, scopeInBucket } from "../context.ts";

export interface LocationItem {
  id: string;
  scope: string;
  arn: string;
  iamRoleArn: string;
}

export interface LocationsResult {
  kind: "locations";
  bucket: string;
  locations: LocationItem[];
}

/** `list location`: the registered Access Grants locations that cover the target's bucket. */
export async function listLocationsCommand(ctx: AdminContext): Promise<LocationsResult> {
  const accountId = await ctx.accountId();
  const all = await listLocations(ctx.clients.s3control, { accountId });
  const locations = all
    .filter((l) => scopeInBucket(l.scope, ctx.target.bucket))
    .map(({ id, scope, arn, iamRoleArn }) => ({ id, scope, arn, iamRoleArn }));
  return { kind: "locations", bucket: ctx.target.bucket, locations };
}
