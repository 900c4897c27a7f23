// Test helpers for the "user that does not exist" trap (see denyGetUserLikeAwsOnMissingUser).
import { expect } from "vitest";
import type { Harness } from "../../dev/service-harness.ts";
import { AccessDeniedError } from "../../src/aws/errors.ts";
import { getUser } from "../../src/aws/iam-users.ts";

/**
 * What AWS answers a role limited to user/cytoskel/* for GetUser on a user that does not exist: the call
 * can only be judged on user/NAME (a missing user has no path), so it is AccessDenied, not NoSuchEntity.
 * The stand-in judges that itself now (path-less ARN); the injected fault also lets a test show that
 * nothing asked GetUser at all (expectGetUserFaultUnused).
 */
export function denyGetUserLikeAwsOnMissingUser(h: Harness, userName: string): void {
  h.aws.failNext("GetUser", {
    code: "AccessDenied",
    status: 403,
    message: `User: arn:aws:sts::${h.aws.accountId}:assumed-role/CytoskelBot-ProvisionerRole/fn is not authorized to perform: iam:GetUser on resource: user ${userName} because no identity-based policy allows the iam:GetUser action`,
  });
}

/** The fault denyGetUserLikeAwsOnMissingUser injected is still pending (nothing asked GetUser); uses it up. */
export async function expectGetUserFaultUnused(h: Harness): Promise<void> {
  const err = await getUser(h.iam, "fault-probe").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AccessDeniedError);
}
