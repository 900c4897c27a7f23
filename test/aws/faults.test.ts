// Injected AWS faults (local.failNext): how the adapters and the SDK's own retries meet them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allGrants,
  type LocalAws,
  seedAccessGrantsLocation,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import { createGrant, listGrants } from "../../src/aws/access-grants.ts";
import { type AwsClients, createAwsClients, destroyAwsClients } from "../../src/aws/clients.ts";
import { ServiceUnavailableError, ThrottledError } from "../../src/aws/errors.ts";
import { createUser, findUser } from "../../src/aws/iam-users.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";

let local: LocalAws;
let once: AwsClients;

beforeAll(async () => {
  local = await startLocalAws();
  once = createAwsClients({ env: local.env, maxAttempts: 1 });
});
afterAll(async () => {
  destroyAwsClients(once);
  await local.stop();
});

describe("injected faults", () => {
  it("a throttled IAM call becomes ThrottledError and changes nothing", async () => {
    local.failNext("CreateUser", { code: "Throttling", status: 400, message: "Rate exceeded" });
    const err = await createUser(once.iam, { name: "throttled" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(await findUser(once.iam, "throttled")).toBeUndefined();
  });

  it("a failing S3 Control call becomes ServiceUnavailableError and creates no grant", async () => {
    const { locationId, scope: locationScope } = seedAccessGrantsLocation(local);
    local.failNext("CreateAccessGrant", { code: "InternalError", status: 500 });
    const err = await createGrant(once.s3control, {
      accountId: local.accountId,
      location: { id: locationId, scope: locationScope },
      scope: GrantScope.of("staging-cellpainting-gallery", "cpg0042/*"),
      permission: "READ",
      granteeArn: "arn:aws:iam::123456789012:user/cytoskel/x",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(allGrants(local.state)).toEqual([]);
  });

  it("the SDK's standard retries get past one throttle", async () => {
    seedAccessGrantsLocation(local);
    const retrying = createAwsClients({ env: local.env, maxAttempts: 3 });
    try {
      local.failNext("ListAccessGrants", { code: "SlowDown", status: 503 });
      const before = local.state.requests.length;
      expect(await listGrants(retrying.s3control, { accountId: local.accountId })).toEqual([]);
      const calls = local.state.requests.slice(before).map((r) => `${r.operation}:${r.status}`);
      expect(calls).toEqual(["ListAccessGrants:503", "ListAccessGrants:200"]);
    } finally {
      destroyAwsClients(retrying);
    }
  });
});
