// Access Grants adapter against the local stand-in (moto has no Access Grants at all), through real
// S3 Control clients built by our client factory.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  allGrants,
  type LocalAws,
  seedAccessGrantsLocation,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import {
  createGrant,
  createLocation,
  deleteGrant,
  ensureInstance,
  findInstance,
  getGrant,
  getInstance,
  getLocation,
  listGrants,
  listLocations,
  pickCoveringGrant,
} from "../../src/aws/access-grants.ts";
import { type AwsClients, createAwsClients, destroyAwsClients } from "../../src/aws/clients.ts";
import {
  AlreadyExistsError,
  InvalidRequestError,
  NoSuchGrantError,
  NoSuchInstanceError,
  NoSuchLocationError,
} from "../../src/aws/errors.ts";
import { createUser, deleteUserCompletely } from "../../src/aws/iam-users.ts";
import { GrantScope, ScopeOutsideLocationError } from "../../src/rules/grant-scope.ts";

const BUCKET = "staging-cellpainting-gallery";
const BUCKET_SCOPE = `s3://${BUCKET}/`;
const at = (prefix: string) => GrantScope.of(BUCKET, prefix);
const ROLE = "arn:aws:iam::123456789012:role/cytoskel-location";

let local: LocalAws;
let aws: AwsClients;
let accountId: string;
const alice = "arn:aws:iam::123456789012:user/cytoskel/alice";
const bob = "arn:aws:iam::123456789012:user/cytoskel/bob";

beforeAll(async () => {
  local = await startLocalAws();
  aws = createAwsClients({ env: local.env, maxAttempts: 1 });
  accountId = local.accountId;
});
afterAll(async () => {
  destroyAwsClients(aws);
  await local.stop();
});
beforeEach(() => {
  local.state.accessGrants.clear();
});

/** A location that is not the bucket root: s3://<bucket>/incoming/. */
function seedIncoming(): { id: string; scope: string } {
  const { locationId, scope } = seedAccessGrantsLocation(local, { scope: `${BUCKET_SCOPE}incoming/` });
  return { id: locationId, scope };
}

function opsSince(start: number, operation: string) {
  return local.state.requests.slice(start).filter((r) => r.operation === operation);
}

describe("Access Grants instance", () => {
  it("is NoSuchInstanceError before it exists, and ensureInstance creates it once", async () => {
    await expect(getInstance(aws.s3control, accountId)).rejects.toBeInstanceOf(NoSuchInstanceError);
    expect(await findInstance(aws.s3control, accountId)).toBeUndefined();

    const first = await ensureInstance(aws.s3control, accountId);
    expect(first.created).toBe(true);
    expect(first.instance.arn).toBe(`arn:aws:s3:us-east-1:${accountId}:access-grants/default`);
    const second = await ensureInstance(aws.s3control, accountId);
    expect(second).toMatchObject({ created: false, instance: { arn: first.instance.arn } });
    expect(local.state.accessGrants.size).toBe(1);
  });

  it("keeps instances per region, so another region has none", async () => {
    await ensureInstance(aws.s3control, accountId);
    const euClients = createAwsClients({ env: { ...local.env, AWS_REGION: "eu-west-1" }, maxAttempts: 1 });
    try {
      await expect(getInstance(euClients.s3control, accountId)).rejects.toBeInstanceOf(NoSuchInstanceError);
    } finally {
      destroyAwsClients(euClients);
    }
  });
});

describe("Access Grants locations", () => {
  beforeEach(async () => {
    await ensureInstance(aws.s3control, accountId);
  });

  it("registers a location and reads it back", async () => {
    const created = await createLocation(aws.s3control, { accountId, scope: BUCKET_SCOPE, iamRoleArn: ROLE });
    expect(created.scope).toBe(BUCKET_SCOPE);
    expect(await getLocation(aws.s3control, { accountId, locationId: created.id })).toMatchObject({
      id: created.id,
      scope: BUCKET_SCOPE,
      iamRoleArn: ROLE,
    });
  });

  it("lists every location across pages", async () => {
    for (const bucket of ["bucket-a", "bucket-b", "bucket-c"]) {
      await createLocation(aws.s3control, { accountId, scope: `s3://${bucket}/`, iamRoleArn: ROLE });
    }
    const start = local.state.requests.length;
    const locations = await listLocations(aws.s3control, { accountId, pageSize: 2 });
    expect(locations.map((l) => l.scope)).toEqual(["s3://bucket-a/", "s3://bucket-b/", "s3://bucket-c/"]);
    expect(opsSince(start, "ListAccessGrantsLocations")).toHaveLength(2);
  });

  it("refuses a second registration of the same scope as AlreadyExistsError", async () => {
    await createLocation(aws.s3control, { accountId, scope: BUCKET_SCOPE, iamRoleArn: ROLE });
    const err = await createLocation(aws.s3control, {
      accountId,
      scope: BUCKET_SCOPE,
      iamRoleArn: ROLE,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as AlreadyExistsError).code).toBe("AccessGrantsLocationAlreadyExistsError");
  });

  it("refuses a location whose role is not an IAM role ARN", async () => {
    const err = await createLocation(aws.s3control, {
      accountId,
      scope: BUCKET_SCOPE,
      iamRoleArn: "not-a-role",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).code).toBe("InvalidIamRole");
  });

  it("maps an unknown location ID to NoSuchLocationError naming it", async () => {
    const err = await getLocation(aws.s3control, { accountId, locationId: "no-such-location" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NoSuchLocationError);
    expect((err as NoSuchLocationError).locationId).toBe("no-such-location");
  });
});

describe("Access grants", () => {
  let locationId: string;
  let location: { id: string; scope: string };
  beforeEach(() => {
    locationId = seedAccessGrantsLocation(local, { scope: BUCKET_SCOPE }).locationId;
    location = { id: locationId, scope: BUCKET_SCOPE };
  });

  it("creates a grant at the location's root: the sub-prefix is the bucket-relative prefix", async () => {
    const grant = await createGrant(aws.s3control, {
      accountId,
      location,
      scope: at("cpg0042/*"),
      permission: "READWRITE",
      granteeArn: alice,
    });
    expect(grant).toMatchObject({
      granteeArn: alice,
      granteeType: "IAM",
      locationId,
      locationSubPrefix: "cpg0042/*",
      permission: "READWRITE",
    });
    expect(grant.scope.uri).toBe("s3://staging-cellpainting-gallery/cpg0042/*");
    expect(grant.scope.prefix).toBe("cpg0042/*");
    expect(grant.createdAt).toBeInstanceOf(Date);
    expect(allGrants(local.state).map((g) => g.id)).toEqual([grant.id]);
    expect(await getGrant(aws.s3control, { accountId, grantId: grant.id })).toEqual(grant);
  });

  it("under a location that is not the bucket root, sends the sub-prefix relative to that location", async () => {
    const incoming = seedIncoming();
    const start = local.state.requests.length;
    const grant = await createGrant(aws.s3control, {
      accountId,
      location: incoming,
      scope: at("incoming/cpg0042/*"),
      permission: "WRITE",
      granteeArn: alice,
    });
    expect(opsSince(start, "CreateAccessGrant").map((r) => r.status)).toEqual([200]);
    expect(allGrants(local.state)).toEqual([
      expect.objectContaining({
        locationId: incoming.id,
        subPrefix: "cpg0042/*",
        scope: "s3://staging-cellpainting-gallery/incoming/cpg0042/*",
      }),
    ]);
    expect(grant.scope.prefix).toBe("incoming/cpg0042/*");
    expect(grant.locationSubPrefix).toBe("cpg0042/*");
  });

  it("under the default location s3://, sends a sub-prefix that starts with the bucket", async () => {
    const all = seedAccessGrantsLocation(local, { scope: "s3://" });
    const grant = await createGrant(aws.s3control, {
      accountId,
      location: { id: all.locationId, scope: "s3://" },
      scope: at("cpg0042/*"),
      permission: "READ",
      granteeArn: alice,
    });
    expect(grant.locationSubPrefix).toBe("staging-cellpainting-gallery/cpg0042/*");
    expect(grant.scope.uri).toBe("s3://staging-cellpainting-gallery/cpg0042/*");
  });

  it("refuses a scope outside the location before any call", async () => {
    const start = local.state.requests.length;
    const err = await createGrant(aws.s3control, {
      accountId,
      location: seedIncoming(),
      scope: at("cpg0042/*"),
      permission: "READ",
      granteeArn: alice,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScopeOutsideLocationError);
    expect((err as Error).message).toBe(
      "s3://staging-cellpainting-gallery/cpg0042/* is outside the Access Grants location s3://staging-cellpainting-gallery/incoming/, so no grant there can cover it",
    );
    expect(local.state.requests.length).toBe(start);
    expect(allGrants(local.state)).toEqual([]);
  });

  it("refuses the same grant twice as AlreadyExistsError (AccessGrantAlreadyExists)", async () => {
    const input = {
      accountId,
      location,
      scope: at("cpg0042/*"),
      permission: "READ" as const,
      granteeArn: alice,
    };
    await createGrant(aws.s3control, input);
    const err = await createGrant(aws.s3control, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as AlreadyExistsError).code).toBe("AccessGrantAlreadyExists");
    expect((err as Error).message).toBe(
      `A READ grant on ${BUCKET_SCOPE}cpg0042/* (location ${locationId}) for ${alice} already exists`,
    );
    expect(allGrants(local.state)).toHaveLength(1);
  });

  it("refuses a grant at an unregistered location, changing nothing", async () => {
    const err = await createGrant(aws.s3control, {
      accountId,
      location: { id: "not-registered", scope: BUCKET_SCOPE },
      scope: at("cpg0042/*"),
      permission: "READ",
      granteeArn: alice,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSuchLocationError);
    expect((err as NoSuchLocationError).locationId).toBe("not-registered");
    expect(allGrants(local.state)).toEqual([]);
  });

  it.each([
    ["climbs out of the location", "../other-bucket/*"],
    ["starts with a slash", "/cpg0042/*"],
    ["has a * before the end", "cpg*/data/*"],
    ["has an empty segment", "cpg0042//x/*"],
  ])("refuses a sub-prefix that %s as InvalidRequestError (InvalidAccessGrant)", async (_what, prefix) => {
    const err = await createGrant(aws.s3control, {
      accountId,
      location,
      scope: at(prefix),
      permission: "READ",
      granteeArn: alice,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).code).toBe("InvalidAccessGrant");
    expect(allGrants(local.state)).toEqual([]);
  });

  it("lists every grant across pages and filters by grantee", async () => {
    for (const p of ["cpg0001", "cpg0002", "cpg0003"]) {
      await createGrant(aws.s3control, {
        accountId,
        location,
        scope: at(`${p}/*`),
        permission: "READ",
        granteeArn: alice,
      });
    }
    for (const p of ["cpg0004", "cpg0005"]) {
      await createGrant(aws.s3control, {
        accountId,
        location,
        scope: at(`${p}/*`),
        permission: "WRITE",
        granteeArn: bob,
      });
    }
    const start = local.state.requests.length;
    const all = await listGrants(aws.s3control, { accountId, pageSize: 2 });
    expect(all).toHaveLength(5);
    expect(opsSince(start, "ListAccessGrants")).toHaveLength(3);

    const bobs = await listGrants(aws.s3control, { accountId, granteeArn: bob, pageSize: 1 });
    expect(bobs.map((g) => g.scope.prefix)).toEqual(["cpg0004/*", "cpg0005/*"]);
    expect(bobs.every((g) => g.granteeArn === bob)).toBe(true);
  });

  it("deletes a grant; a second delete or get is NoSuchGrantError naming it", async () => {
    const grant = await createGrant(aws.s3control, {
      accountId,
      location,
      scope: at("cpg0042/*"),
      permission: "READ",
      granteeArn: alice,
    });
    await deleteGrant(aws.s3control, { accountId, grantId: grant.id });
    expect(allGrants(local.state)).toEqual([]);

    const again = await deleteGrant(aws.s3control, { accountId, grantId: grant.id }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(NoSuchGrantError);
    expect((again as NoSuchGrantError).grantId).toBe(grant.id);
    await expect(getGrant(aws.s3control, { accountId, grantId: grant.id })).rejects.toBeInstanceOf(
      NoSuchGrantError,
    );
  });

  it("finds the most specific grant covering a scope with enough permission", async () => {
    const broad = await createGrant(aws.s3control, {
      accountId,
      location,
      scope: at("cpg0042/*"),
      permission: "READWRITE",
      granteeArn: alice,
    });
    const narrow = await createGrant(aws.s3control, {
      accountId,
      location,
      scope: at("cpg0042/source_1/*"),
      permission: "READ",
      granteeArn: alice,
    });
    await createGrant(aws.s3control, {
      accountId,
      location,
      scope: at("cpg0099/*"),
      permission: "READ",
      granteeArn: bob,
    });
    const listed = await listGrants(aws.s3control, { accountId, granteeArn: alice });
    const find = (prefix: string, permission: "READ" | "WRITE" | "READWRITE") =>
      pickCoveringGrant(listed, { granteeArn: alice, scope: at(prefix), permission });

    expect(find("cpg0042/source_1/images/*", "READ")?.id).toBe(narrow.id);
    expect(find("cpg0042/source_1/*", "WRITE")?.id).toBe(broad.id);
    expect(find("cpg0042/*", "READWRITE")?.id).toBe(broad.id);
    expect(find("cpg0043/*", "READ")).toBeUndefined();
    expect(find("cpg0099/*", "READ")).toBeUndefined();
  });

  it("answers NoSuchInstanceError for grant calls before the instance exists", async () => {
    local.state.accessGrants.clear();
    await expect(listGrants(aws.s3control, { accountId })).rejects.toBeInstanceOf(NoSuchInstanceError);
  });
});

describe("deleteUserCompletely with Access Grants", () => {
  it("removes the user's grants (and only theirs) before deleting the user", async () => {
    const { locationId } = seedAccessGrantsLocation(local, { scope: BUCKET_SCOPE });
    const user = await createUser(aws.iam, { name: "grant-holder" });
    const mine = await createGrant(aws.s3control, {
      accountId,
      location: { id: locationId, scope: BUCKET_SCOPE },
      scope: at("cpg0042/*"),
      permission: "READWRITE",
      granteeArn: user.arn,
    });
    const other = await createGrant(aws.s3control, {
      accountId,
      location: { id: locationId, scope: BUCKET_SCOPE },
      scope: at("cpg0042/*"),
      permission: "READ",
      granteeArn: bob,
    });

    const report = await deleteUserCompletely(
      { iam: aws.iam, s3control: aws.s3control, accountId },
      user.userName,
    );
    expect(report.deletedGrantIds).toEqual([mine.id]);
    expect(allGrants(local.state).map((g) => g.id)).toEqual([other.id]);
    expect(local.state.iam.users.has("grant-holder")).toBe(false);
  });

  it("still deletes the user when the region has no Access Grants instance", async () => {
    const user = await createUser(aws.iam, { name: "no-instance-user" });
    const report = await deleteUserCompletely(
      { iam: aws.iam, s3control: aws.s3control, accountId },
      user.userName,
    );
    expect(report.deletedGrantIds).toEqual([]);
    expect(local.state.iam.users.has("no-instance-user")).toBe(false);
  });
});
