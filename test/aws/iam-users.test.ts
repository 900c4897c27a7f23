// IAM adapter suite, run against the local stand-in and (when installed) moto. Assertions that touch
// moto's known gaps (it deletes users that still have keys; it ignores MaxItems/Marker on ListUsers)
// run only against the stand-in, which models AWS there. moto runs through dev/moto-server.py,
// so its policy validator accepts the uploaders group's Access Grants ARN as IAM does.
import {
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  GetLoginProfileCommand,
  PutGroupPolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessKey, deleteAccessKey, listAccessKeys } from "../../src/aws/access-keys.ts";
import { getAccountId } from "../../src/aws/account.ts";
import {
  AlreadyExistsError,
  DeleteConflictError,
  InvalidRequestError,
  NoSuchEntityError,
  NoSuchUserError,
  UserInOtherGroupError,
} from "../../src/aws/errors.ts";
import {
  addUserToGroup,
  CYTOSKEL_IAM_PATH,
  createUser,
  deleteUser,
  deleteUserCompletely,
  findUser,
  getUser,
  inspectUploadersGroup,
  listGroupsForUser,
  listUsers,
  TAG_SLACK_TEAM_ID,
  TAG_SLACK_USER_ID,
} from "../../src/aws/iam-users.ts";
import { type Backend, moto, standIn, uniqueName } from "./backends.ts";

const INSTANCE_ARN = "arn:aws:s3:us-east-1:123456789012:access-grants/default";

for (const spec of [standIn, moto]) {
  if (spec.skipReason)
    console.warn(`[test/aws/iam-users] skipping the ${spec.name} variant: ${spec.skipReason}`);
  else if (spec.accessGrantsArnsSkipReason)
    console.warn(
      `[test/aws/iam-users] skipping the uploaders-group policy tests on ${spec.name}: ${spec.accessGrantsArnsSkipReason}`,
    );

  describe.skipIf(spec.skipReason !== undefined)(`IAM users against ${spec.name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await spec.start();
    });
    afterAll(async () => {
      await b?.stop();
    });
    const isStandIn = spec.name === "stand-in";

    it("reports the account of the credentials", async () => {
      expect(await getAccountId(b.clients.sts)).toBe(b.accountId);
    });

    it("creates a user under /cytoskel/ tagged with the Slack user and team IDs", async () => {
      const name = uniqueName("alice");
      const created = await createUser(b.clients.iam, {
        name,
        slackUserId: "U0ALICE",
        slackTeamId: "T0TEAM",
      });
      expect(created.path).toBe(CYTOSKEL_IAM_PATH);
      expect(created.arn).toBe(`arn:aws:iam::${b.accountId}:user/cytoskel/${name}`);

      const fetched = await getUser(b.clients.iam, name);
      expect(fetched.arn).toBe(created.arn);
      expect(fetched.tags[TAG_SLACK_USER_ID]).toBe("U0ALICE");
      expect(fetched.tags[TAG_SLACK_TEAM_ID]).toBe("T0TEAM");
    });

    it("refuses a second user with the same name as AlreadyExistsError", async () => {
      const name = uniqueName("dup");
      await createUser(b.clients.iam, { name });
      const err = await createUser(b.clients.iam, { name }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AlreadyExistsError);
      expect((err as AlreadyExistsError).code).toBe("EntityAlreadyExists");
      expect((err as AlreadyExistsError).cause).toMatchObject({ Code: "EntityAlreadyExists" });
    });

    it("maps a missing user to NoSuchUserError naming the user, with the SDK error as cause", async () => {
      const err = await getUser(b.clients.iam, "nobody-here").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoSuchUserError);
      expect((err as NoSuchUserError).userName).toBe("nobody-here");
      expect((err as NoSuchUserError).message).toBe("IAM user nobody-here does not exist");
      expect((err as Error).cause).toMatchObject({ Code: "NoSuchEntity" });
      expect(await findUser(b.clients.iam, "nobody-here")).toBeUndefined();
    });

    it("findUser answers from ListUsers under the path (never GetUser, which AWS denies on a missing user)", async () => {
      const name = uniqueName("findme");
      const elsewhere = uniqueName("elsewhere");
      const created = await createUser(b.clients.iam, { name });
      await createUser(b.clients.iam, { name: elsewhere, path: "/" });
      const before = b.local?.state.requests.length ?? 0;

      expect((await findUser(b.clients.iam, name))?.arn).toBe(created.arn);
      expect(await findUser(b.clients.iam, name.toUpperCase())).toBeDefined();
      expect(await findUser(b.clients.iam, "nobody-at-all")).toBeUndefined();
      expect(await findUser(b.clients.iam, elsewhere)).toBeUndefined();
      expect(await findUser(b.clients.iam, elsewhere, { pathPrefix: "/" })).toBeDefined();

      if (isStandIn) {
        const operations = b.local?.state.requests.slice(before).map((r) => r.operation) ?? [];
        expect(new Set(operations)).toEqual(new Set(["ListUsers"]));
      }
    });

    it("lists only /cytoskel/ users by default and every user with all", async () => {
      const managed = uniqueName("managed");
      const other = uniqueName("other");
      await createUser(b.clients.iam, { name: managed });
      await createUser(b.clients.iam, { name: other, path: "/" });

      const defaultNames = (await listUsers(b.clients.iam)).map((u) => u.userName);
      expect(defaultNames).toContain(managed);
      expect(defaultNames).not.toContain(other);

      const allNames = (await listUsers(b.clients.iam, { all: true })).map((u) => u.userName);
      expect(allNames).toEqual(expect.arrayContaining([managed, other]));
    });

    it("returns every user across pages when IAM pages the answer", async () => {
      const path = `/cytoskel/${uniqueName("paging")}/`;
      const names = [1, 2, 3, 4, 5].map((i) => uniqueName(`page${i}`));
      for (const name of names) await createUser(b.clients.iam, { name, path });
      const before = b.local?.state.requests.length ?? 0;

      const users = await listUsers(b.clients.iam, { pathPrefix: path, pageSize: 2 });
      expect(users.map((u) => u.userName).sort()).toEqual([...names].sort());

      // moto ignores MaxItems/Marker and answers in one page; only the stand-in pages like AWS.
      if (isStandIn) {
        const listCalls =
          b.local?.state.requests.slice(before).filter((r) => r.operation === "ListUsers") ?? [];
        expect(listCalls).toHaveLength(3);
      }
    });

    it("creates, lists and deletes access keys; a missing key is NoSuchEntityError", async () => {
      const name = uniqueName("keys");
      await createUser(b.clients.iam, { name });
      const key = await createAccessKey(b.clients.iam, name);
      expect(key.accessKeyId).toMatch(/^AKIA/);
      expect(key.secretAccessKey.length).toBeGreaterThanOrEqual(20);

      expect((await listAccessKeys(b.clients.iam, name)).map((k) => k.accessKeyId)).toEqual([
        key.accessKeyId,
      ]);
      await deleteAccessKey(b.clients.iam, { userName: name, accessKeyId: key.accessKeyId });
      expect(await listAccessKeys(b.clients.iam, name)).toEqual([]);

      const err = await deleteAccessKey(b.clients.iam, {
        userName: name,
        accessKeyId: key.accessKeyId,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoSuchEntityError);
    });

    // The Access Grants instance ARN carries a region; AWS accepts it in identity policies, and so does
    // moto through dev/moto-server.py (its validator alone refuses it).
    const canPutAccessGrantsArns = spec.accessGrantsArnsSkipReason === undefined;
    /** An uploaders group as the grants stack makes it: a managed GetDataAccess-only policy attached. */
    async function stackGroup(groupName: string): Promise<void> {
      await b.clients.iam.send(new CreateGroupCommand({ GroupName: groupName }));
      const policy = await b.clients.iam.send(
        new CreatePolicyCommand({
          PolicyName: `${groupName}-get-data-access`,
          Path: "/cytoskel/",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "GetDataAccessOnly",
                Effect: "Allow",
                Action: "s3:GetDataAccess",
                Resource: INSTANCE_ARN,
              },
            ],
          }),
        }),
      );
      await b.clients.iam.send(
        new AttachGroupPolicyCommand({ GroupName: groupName, PolicyArn: policy.Policy?.Arn }),
      );
    }

    it.skipIf(!canPutAccessGrantsArns)(
      "reads the stack's uploaders group: it grants s3:GetDataAccess on the instance and nothing more",
      async () => {
        const groupName = uniqueName("staging_cpg_uploaders");
        await stackGroup(groupName);
        const result = await inspectUploadersGroup(b.clients.iam, { groupName, instanceArn: INSTANCE_ARN });
        expect(result).toMatchObject({ groupName, grantsDataAccess: true, otherPolicies: [] });
        // Another instance's ARN is not this instance's data access.
        const elsewhere = "arn:aws:s3:eu-west-1:123456789012:access-grants/default";
        const other = await inspectUploadersGroup(b.clients.iam, { groupName, instanceArn: elsewhere });
        expect(other.grantsDataAccess).toBe(false);
      },
    );

    it.skipIf(!canPutAccessGrantsArns)(
      "names each policy on the uploaders group that grants more than GetDataAccess",
      async () => {
        const groupName = uniqueName("uploaders-extra");
        await stackGroup(groupName);
        await b.clients.iam.send(
          new PutGroupPolicyCommand({
            GroupName: groupName,
            PolicyName: "too-much",
            PolicyDocument: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
            }),
          }),
        );
        const result = await inspectUploadersGroup(b.clients.iam, { groupName, instanceArn: INSTANCE_ARN });
        expect(result.otherPolicies).toEqual(["too-much"]);
        expect(result.grantsDataAccess).toBe(true);
      },
    );

    it("inspecting a missing uploaders group is NoSuchEntityError", async () => {
      const err = await inspectUploadersGroup(b.clients.iam, {
        groupName: uniqueName("absent"),
        instanceArn: INSTANCE_ARN,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoSuchEntityError);
    });

    it("adds a user to the group; an unknown group is NoSuchEntityError", async () => {
      const name = uniqueName("member");
      const groupName = uniqueName("grp");
      await createUser(b.clients.iam, { name });
      await b.clients.iam.send(new CreateGroupCommand({ GroupName: groupName }));
      await addUserToGroup(b.clients.iam, { userName: name, groupName });
      expect(await listGroupsForUser(b.clients.iam, name)).toEqual([groupName]);

      const err = await addUserToGroup(b.clients.iam, { userName: name, groupName: "no-such-group" }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NoSuchEntityError);
      expect((err as Error).message).toBe("IAM group no-such-group does not exist");

      const noUser = await addUserToGroup(b.clients.iam, { userName: "no-such-user", groupName }).catch(
        (e: unknown) => e,
      );
      expect(noUser).toBeInstanceOf(NoSuchUserError);
    });

    it("deletes a user with keys, group, inline and attached policies and a login profile", async () => {
      const name = uniqueName("full");
      const groupName = uniqueName("grp");
      await createUser(b.clients.iam, { name });
      await b.clients.iam.send(new CreateGroupCommand({ GroupName: groupName }));
      await addUserToGroup(b.clients.iam, { userName: name, groupName });
      const k1 = await createAccessKey(b.clients.iam, name);
      const k2 = await createAccessKey(b.clients.iam, name);
      await b.clients.iam.send(
        new PutUserPolicyCommand({
          UserName: name,
          PolicyName: "inline",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }],
          }),
        }),
      );
      const managed = await b.clients.iam.send(
        new CreatePolicyCommand({
          PolicyName: uniqueName("managed"),
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
          }),
        }),
      );
      const policyArn = managed.Policy?.Arn ?? "";
      await b.clients.iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: policyArn }));
      await b.clients.iam.send(
        new CreateLoginProfileCommand({ UserName: name, Password: "Not-a-real-password-123!" }),
      );

      const report = await deleteUserCompletely({ iam: b.clients.iam }, name);
      expect(report.deletedAccessKeyIds.sort()).toEqual([k1.accessKeyId, k2.accessKeyId].sort());
      expect(report.removedFromGroups).toEqual([groupName]);
      expect(report.deletedInlinePolicies).toEqual(["inline"]);
      expect(report.detachedPolicyArns).toEqual([policyArn]);
      expect(report.deletedLoginProfile).toBe(true);
      expect(await findUser(b.clients.iam, name)).toBeUndefined();
      const loginErr = await b.clients.iam
        .send(new GetLoginProfileCommand({ UserName: name }))
        .catch((e) => e);
      expect(loginErr).toMatchObject({ Code: "NoSuchEntity" });
    });

    it("with the uploaders group named, deletion takes the user out of that group only", async () => {
      const name = uniqueName("leaver");
      const uploaders = uniqueName("uploaders");
      await createUser(b.clients.iam, { name });
      await b.clients.iam.send(new CreateGroupCommand({ GroupName: uploaders }));
      await addUserToGroup(b.clients.iam, { userName: name, groupName: uploaders });
      const before = b.local?.state.requests.length ?? 0;

      const report = await deleteUserCompletely({ iam: b.clients.iam, uploadersGroup: uploaders }, name);

      expect(report.removedFromGroups).toEqual([uploaders]);
      expect(await findUser(b.clients.iam, name)).toBeUndefined();
      if (isStandIn) {
        const removals = b.local?.state.requests
          .slice(before)
          .filter((r) => r.operation === "RemoveUserFromGroup");
        expect(removals).toHaveLength(1);
      }
    });

    it("refuses to delete a user that is also in another group, naming the group, with nothing deleted", async () => {
      const name = uniqueName("member-elsewhere");
      const uploaders = uniqueName("uploaders");
      const other = uniqueName("other-team");
      await createUser(b.clients.iam, { name });
      for (const groupName of [uploaders, other]) {
        await b.clients.iam.send(new CreateGroupCommand({ GroupName: groupName }));
        await addUserToGroup(b.clients.iam, { userName: name, groupName });
      }
      const key = await createAccessKey(b.clients.iam, name);

      const err = await deleteUserCompletely({ iam: b.clients.iam, uploadersGroup: uploaders }, name).catch(
        (e: unknown) => e,
      );

      expect(err).toBeInstanceOf(UserInOtherGroupError);
      expect(err).toBeInstanceOf(DeleteConflictError);
      expect((err as UserInOtherGroupError).groups).toEqual([other]);
      expect((err as Error).message).toContain(`is also in group ${other}, which blocks its deletion`);
      expect((err as Error).message).toContain(`may only remove it from ${uploaders}`);
      // Nothing half-deleted: the key, both memberships and the user are all still there.
      expect((await listAccessKeys(b.clients.iam, name)).map((k) => k.accessKeyId)).toEqual([
        key.accessKeyId,
      ]);
      expect((await listGroupsForUser(b.clients.iam, name)).sort()).toEqual([uploaders, other].sort());
      expect(await findUser(b.clients.iam, name)).toBeDefined();
    });

    it("deleting a missing user completely is NoSuchUserError", async () => {
      const err = await deleteUserCompletely({ iam: b.clients.iam }, "ghost-user").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoSuchUserError);
    });

    // moto deletes a user that still has access keys; AWS (and the stand-in) answer DeleteConflict.
    it.skipIf(!isStandIn)(
      "plain DeleteUser while keys remain is DeleteConflictError (stand-in only: moto allows it)",
      async () => {
        const name = uniqueName("conflict");
        await createUser(b.clients.iam, { name });
        await createAccessKey(b.clients.iam, name);
        const err = await deleteUser(b.clients.iam, name).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DeleteConflictError);
        expect((err as DeleteConflictError).message).toBe(
          "Cannot delete entity, must delete access keys first.",
        );
        expect(await findUser(b.clients.iam, name)).toBeDefined();
      },
    );

    // moto accepts any user name; AWS answers ValidationError.
    it.skipIf(!isStandIn)(
      "refuses an invalid user name as InvalidRequestError (stand-in only: moto accepts it)",
      async () => {
        const err = await createUser(b.clients.iam, { name: "bad name!" }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidRequestError);
      },
    );
  });
}
