// GetDataAccess through a contributor's own access key: the stand-in identifies the caller from the
// SigV4 access key id, checks the IAM permission s3:GetDataAccess, then matches the caller's grants.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUploadersGroup } from "../../dev/deployed-roles.ts";
import {
  LOCAL_ADMIN_CREDENTIALS,
  type LocalAws,
  seedAccessGrantsLocation,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import { createGrant, listGrants } from "../../src/aws/access-grants.ts";
import { createAccessKey, deleteAccessKey } from "../../src/aws/access-keys.ts";
import { getAccountId, getCallerIdentity } from "../../src/aws/account.ts";
import { type AwsClients, createAwsClients, destroyAwsClients } from "../../src/aws/clients.ts";
import { getDataAccess, validateDurationSeconds } from "../../src/aws/data-access.ts";
import {
  AccessDeniedError,
  CredentialsError,
  InvalidDurationError,
  NoMatchingGrantError,
  NoSuchInstanceError,
} from "../../src/aws/errors.ts";
import { addUserToGroup, createUser, listUsers } from "../../src/aws/iam-users.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";

const TARGET = "s3://staging-cellpainting-gallery/cpg0042/*";

let local: LocalAws;
let admin: AwsClients;
let contributor: AwsClients;
let outsider: AwsClients;
let accountId: string;
let contributorKeyId: string;

function clientsFor(key: { accessKeyId: string; secretAccessKey: string }, region = "us-east-1"): AwsClients {
  return createAwsClients({
    env: {
      ...local.env,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    },
    maxAttempts: 1,
  });
}

beforeAll(async () => {
  local = await startLocalAws();
  accountId = local.accountId;
  admin = createAwsClients({ env: local.env, maxAttempts: 1 });
  const { locationId, instanceArn, scope: locationScope } = seedAccessGrantsLocation(local);
  // The group as the grants stack makes it (its synthesized GetDataAccess-only policy).
  await seedUploadersGroup(admin.iam, local, { tableName: "unused", instanceArn, locationId });

  const user = await createUser(admin.iam, { name: "contributor", slackUserId: "U1", slackTeamId: "T1" });
  await addUserToGroup(admin.iam, { userName: user.userName, groupName: "staging_cpg_uploaders" });
  const key = await createAccessKey(admin.iam, user.userName);
  contributorKeyId = key.accessKeyId;
  contributor = clientsFor(key);
  await createGrant(admin.s3control, {
    accountId,
    location: { id: locationId, scope: locationScope },
    scope: GrantScope.of("staging-cellpainting-gallery", "cpg0042/*"),
    permission: "READWRITE",
    granteeArn: user.arn,
  });
  await createGrant(admin.s3control, {
    accountId,
    location: { id: locationId, scope: locationScope },
    scope: GrantScope.of("staging-cellpainting-gallery", "cpg0050/*"),
    permission: "READ",
    granteeArn: user.arn,
  });

  // Has a grant but is not in the uploaders group, so IAM itself refuses GetDataAccess.
  const loner = await createUser(admin.iam, { name: "outsider" });
  outsider = clientsFor(await createAccessKey(admin.iam, loner.userName));
  await createGrant(admin.s3control, {
    accountId,
    location: { id: locationId, scope: locationScope },
    scope: GrantScope.of("staging-cellpainting-gallery", "cpg0042/*"),
    permission: "READ",
    granteeArn: loner.arn,
  });
});

afterAll(async () => {
  destroyAwsClients(admin);
  destroyAwsClients(contributor);
  destroyAwsClients(outsider);
  await local.stop();
});

describe("getDataAccess", () => {
  it.each([899, 43_201, 0, 3600.5, Number.NaN])(
    "rejects a duration of %s seconds before calling AWS",
    async (seconds) => {
      const before = local.state.requests.length;
      const err = await getDataAccess(contributor.s3control, {
        accountId,
        target: TARGET,
        permission: "READ",
        durationSeconds: seconds,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidDurationError);
      expect((err as Error).message).toBe(`Duration must be between 900 and 43200 seconds (got ${seconds})`);
      expect(local.state.requests.length).toBe(before);
    },
  );

  it("accepts the bounds 900 and 43200", () => {
    expect(validateDurationSeconds(900)).toBe(900);
    expect(validateDurationSeconds(43_200)).toBe(43_200);
  });

  it("returns temporary credentials for the matching grant of the key's owner", async () => {
    const t0 = Date.now();
    const access = await getDataAccess(contributor.s3control, {
      accountId,
      target: "s3://staging-cellpainting-gallery/cpg0042/source_1/*",
      permission: "WRITE",
      durationSeconds: 900,
    });
    expect(access.matchedGrantTarget).toBe(TARGET);
    expect(access.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(access.credentials.sessionToken).toContain("FAKE");
    const lifetime = access.credentials.expiration.getTime() - t0;
    expect(lifetime).toBeGreaterThan(895_000);
    expect(lifetime).toBeLessThan(905_000);

    const call = local.state.dataAccessCalls.at(-1);
    expect(call).toMatchObject({
      callerArn: "arn:aws:iam::123456789012:user/cytoskel/contributor",
      accessKeyId: contributorKeyId,
      permission: "WRITE",
      durationSeconds: 900,
    });
  });

  it("defaults to 12 hours", async () => {
    await getDataAccess(contributor.s3control, { accountId, target: TARGET, permission: "READ" });
    expect(local.state.dataAccessCalls.at(-1)?.durationSeconds).toBe(43_200);
  });

  it("with Minimal privilege matches exactly the target asked for", async () => {
    const target = "s3://staging-cellpainting-gallery/cpg0042/source_1/*";
    const access = await getDataAccess(contributor.s3control, {
      accountId,
      target,
      permission: "READ",
      privilege: "Minimal",
    });
    expect(access.matchedGrantTarget).toBe(target);
  });

  it("is NoMatchingGrantError naming target and permission when no grant covers the prefix", async () => {
    const target = "s3://staging-cellpainting-gallery/cpg0043/*";
    const err = await getDataAccess(contributor.s3control, { accountId, target, permission: "READ" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NoMatchingGrantError);
    expect(err).toMatchObject({ target, permission: "READ", code: "AccessDenied" });
    expect((err as Error).message).toBe(`No access grant gives you READ on ${target}`);
  });

  it("is NoMatchingGrantError when the grant is READ and WRITE is asked for", async () => {
    const err = await getDataAccess(contributor.s3control, {
      accountId,
      target: "s3://staging-cellpainting-gallery/cpg0050/*",
      permission: "WRITE",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoMatchingGrantError);
  });

  it("is AccessDeniedError (not a grant problem) when the caller lacks s3:GetDataAccess", async () => {
    const err = await getDataAccess(outsider.s3control, {
      accountId,
      target: TARGET,
      permission: "READ",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as Error).message).toContain("is not authorized to perform: s3:GetDataAccess");
  });

  it("in the wrong region a contributor is denied on that region's instance ARN (IAM judges before the instance is looked up)", async () => {
    const key = local.state.iam.users.get("contributor")?.accessKeys[0];
    const euClients = clientsFor(
      { accessKeyId: key?.accessKeyId ?? "", secretAccessKey: key?.secretAccessKey ?? "" },
      "eu-west-1",
    );
    try {
      const err = await getDataAccess(euClients.s3control, {
        accountId,
        target: TARGET,
        permission: "READ",
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AccessDeniedError);
      expect((err as Error).message).toContain(
        `s3:GetDataAccess on resource: arn:aws:s3:eu-west-1:${accountId}:access-grants/default`,
      );
    } finally {
      destroyAwsClients(euClients);
    }
  });

  it("is NoSuchInstanceError in a region without an Access Grants instance for a caller allowed everywhere", async () => {
    const euAdmin = clientsFor(LOCAL_ADMIN_CREDENTIALS, "eu-west-1");
    try {
      const err = await getDataAccess(euAdmin.s3control, {
        accountId,
        target: TARGET,
        permission: "READ",
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoSuchInstanceError);
    } finally {
      destroyAwsClients(euAdmin);
    }
  });

  it("is CredentialsError once the access key has been deleted", async () => {
    const user = await createUser(admin.iam, { name: "short-lived" });
    await addUserToGroup(admin.iam, { userName: user.userName, groupName: "staging_cpg_uploaders" });
    const key = await createAccessKey(admin.iam, user.userName);
    const clients = clientsFor(key);
    try {
      await deleteAccessKey(admin.iam, { userName: user.userName, accessKeyId: key.accessKeyId });
      const err = await getDataAccess(clients.s3control, {
        accountId,
        target: TARGET,
        permission: "READ",
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialsError);
      expect((err as Error).message).not.toContain(key.secretAccessKey);
    } finally {
      destroyAwsClients(clients);
    }
  });
});

describe("signatures", () => {
  it("refuses a request signed with the wrong secret for a real key (SignatureDoesNotMatch)", async () => {
    const wrong = clientsFor({ accessKeyId: contributorKeyId, secretAccessKey: "not-the-secret" });
    try {
      const viaS3Control = await getDataAccess(wrong.s3control, {
        accountId,
        target: TARGET,
        permission: "READ",
      }).catch((e: unknown) => e);
      expect(viaS3Control).toBeInstanceOf(CredentialsError);
      expect(viaS3Control).toMatchObject({ code: "SignatureDoesNotMatch" });
      const viaSts = await getAccountId(wrong.sts).catch((e: unknown) => e);
      expect(viaSts).toMatchObject({ name: "CredentialsError", code: "SignatureDoesNotMatch" });
    } finally {
      destroyAwsClients(wrong);
    }
  });

  it("identifies the key's owner in GetCallerIdentity when the signature is right", async () => {
    expect(await getCallerIdentity(contributor.sts)).toMatchObject({
      accountId,
      arn: "arn:aws:iam::123456789012:user/cytoskel/contributor",
    });
  });
});

describe("the uploaders' keys are worth little", () => {
  it("cannot list IAM users or grants", async () => {
    await expect(listUsers(contributor.iam)).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(listGrants(contributor.s3control, { accountId })).rejects.toBeInstanceOf(AccessDeniedError);
  });
});
