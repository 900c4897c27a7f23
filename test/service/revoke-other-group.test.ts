// Revoke when the person's IAM user was also put in another group by hand: the functions' roles may
// take users out of the uploaders group only, so the user must not be half-deleted.
import { AddUserToGroupCommand, CreateGroupCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_ID,
  type Harness,
  newUserId,
  startHarness,
  TARGET,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { UserInOtherGroupError } from "../../src/aws/errors.ts";
import { describeFailure, isRetryable } from "../../src/service/errors.ts";
import { provisionRequest } from "../../src/service/provision.ts";
import { revokeAccess } from "../../src/service/revoke.ts";
import { iamUserNameFor } from "../../src/service/users.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe("revoking a person whose IAM user is also in another group", () => {
  it("fails naming the group that blocks deletion, keeping the user, its key and its memberships", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    expect((await provisionRequest(h.deps(), req.id)).outcome).toBe("activated");
    const userName = iamUserNameFor(TEAM_ID, userId);
    // An admin added the user to another group by hand (with the account's admin credentials).
    await h.iam.send(new CreateGroupCommand({ GroupName: "hand-made-team" }));
    await h.iam.send(new AddUserToGroupCommand({ GroupName: "hand-made-team", UserName: userName }));
    const keys = h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId);
    const start = h.aws.state.requests.length;

    const err = await revokeAccess(h.deps(), { userId, actor: { kind: "admin", id: ADMIN_ID } }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(UserInOtherGroupError);
    expect((err as UserInOtherGroupError).groups).toEqual(["hand-made-team"]);
    // What the admin reads on the failed job, once: retrying cannot help.
    expect(describeFailure(err)).toContain("also in group hand-made-team, which blocks its deletion");
    expect(describeFailure(err)).toContain(`may only remove it from ${TARGET.uploadersGroup}`);
    expect(isRetryable(err)).toBe(false);
    // The grant went (that is the revoke), but the user is whole: keys and both memberships.
    expect(h.awsStateOf(userId).grants).toEqual([]);
    expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(keys);
    expect([...(h.iamUser(userId)?.groups ?? [])].sort()).toEqual(
      ["hand-made-team", TARGET.uploadersGroup].sort(),
    );
    const operations = h.aws.state.requests.slice(start).map((r) => r.operation);
    expect(operations).not.toContain("RemoveUserFromGroup");
    expect(operations).not.toContain("DeleteAccessKey");
  });
});
