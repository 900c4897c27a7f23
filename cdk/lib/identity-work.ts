// What the provisioner and the expiry job may do to identities and grants: IAM users under the
// cytoskel path, the uploaders group, and grants in this Access Grants instance. Every identity role
// may take access apart and re-grant what stays (revoke and expiry re-create a narrower grant for
// requests that remain); only the provisioner creates users, puts them in the group and creates access
// keys (also for an admin's queued re-issue). The bot holds none of this.
import { Stack, Token, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type { GrantsOutputs } from "./grants-stack.ts";

/** Finding a cytoskel user and deleting it completely (src/aws/iam-users.ts listUsers, deleteUserCompletely). */
const USER_TEARDOWN_ACTIONS = [
  // Only on users known to exist (after CreateUser's EntityAlreadyExists, before a deletion): on a
  // missing user AWS judges GetUser on user/NAME, outside this path, and answers AccessDenied.
  "iam:GetUser",
  "iam:ListGroupsForUser",
  "iam:ListAccessKeys",
  "iam:DeleteAccessKey",
  "iam:ListUserPolicies",
  "iam:DeleteUserPolicy",
  "iam:ListAttachedUserPolicies",
  "iam:DetachUserPolicy",
  "iam:ListMFADevices",
  "iam:DeactivateMFADevice",
  "iam:ListSigningCertificates",
  "iam:DeleteSigningCertificate",
  "iam:ListSSHPublicKeys",
  "iam:DeleteSSHPublicKey",
  "iam:DeleteLoginProfile",
  "iam:DeleteUser",
];

/** The s3:AccessGrantScope pattern every grant the functions create must match. */
export function grantScopeInBucket(bucketName: string): string {
  return `s3://${bucketName}/*`;
}

/** One role's share of the identity work, with why cdk-nag's wildcard findings on it are accepted. */
export interface IdentityWorkProfile {
  readonly creates: readonly ("user" | "accessKey")[];
  /** Why users under the IAM path, named at run time, are acceptable. */
  readonly usersReason: (iamUserPath: string) => string;
  /** Why Resource::* is acceptable on this role. */
  readonly accountWideReason: string;
}

export const PROVISIONER_IDENTITY_WORK: IdentityWorkProfile = {
  creates: ["user", "accessKey"],
  usersReason: (path) =>
    `One IAM user per Slack user, named at run time, so names are unknown at deploy time (admins' revoke and re-issue run here too); the path ${path} confines creating and deleting users and keys to users cytoskel owns, and no action that attaches or writes policies is granted.`,
  accountWideReason:
    "iam:ListUsers and dynamodb:ListStreams (added by the stream event source mapping) support no resource-level permissions; ListUsers only reads user names (cytoskel asks for its own path), and the stream read actions themselves are limited to this table's stream.",
};

export const EXPIRY_IDENTITY_WORK: IdentityWorkProfile = {
  creates: [],
  usersReason: (path) =>
    `Expired access is taken apart for users named at run time; the path ${path} confines deleting keys and users to users cytoskel owns (this role cannot create users or keys).`,
  accountWideReason:
    "iam:ListUsers supports no resource-level permissions; it only reads user names (cytoskel asks for its own path) to tell whether a person's IAM user still exists.",
};

export interface IdentityWorkTarget {
  readonly iamUserPath: string;
  readonly bucketName: string;
  readonly grants: GrantsOutputs;
}

/** Adds the profile's statements to the role's default policy and acknowledges its wildcard findings. */
export function grantIdentityWork(
  role: iam.Role,
  profile: IdentityWorkProfile,
  target: IdentityWorkTarget,
): void {
  const stack = Stack.of(role);
  const { creates } = profile;
  const { grants } = target;
  const usersPath = target.iamUserPath.replace(/^\/|\/$/g, "");
  const usersArn = stack.formatArn({
    service: "iam",
    region: "",
    resource: "user",
    resourceName: `${usersPath}/*`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: "CytoskelUsersOnly",
      actions: [
        ...(creates.includes("user") ? ["iam:CreateUser", "iam:TagUser"] : []),
        ...(creates.includes("accessKey") ? ["iam:CreateAccessKey"] : []),
        ...USER_TEARDOWN_ACTIONS,
      ],
      resources: [usersArn],
    }),
  );
  // ListUsers(PathPrefix=/cytoskel/) decides whether a person's user exists (src/aws/iam-users.ts
  // findUser). The Service Authorization Reference lists no resource type for it (it cannot be scoped to
  // a path: field reports agree), so it is granted on "*" alone; it reads names, nothing else.
  role.addToPolicy(
    new iam.PolicyStatement({ sid: "ListUsersAccountWide", actions: ["iam:ListUsers"], resources: ["*"] }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: "UploadersGroupMembership",
      actions: [...(creates.includes("user") ? ["iam:AddUserToGroup"] : []), "iam:RemoveUserFromGroup"],
      resources: [grants.uploadersGroup.groupArn],
    }),
  );
  const grantsArn = `${grants.instanceArn}/grant/*`;
  // The location is named by ACCESS_GRANTS_LOCATION_ID, so no location is ever listed or read.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: "GrantsInThisInstance",
      actions: ["s3:ListAccessGrants"],
      resources: [grants.instanceArn],
    }),
  );
  // CreateAccessGrant's only resource type is the grant (…/grant/<id>, Service Authorization
  // Reference); the instance and location ARNs are never matched for it. The scope condition keeps
  // new grants inside the bucket this stack serves. How AWS fills s3:AccessGrantScope for
  // CreateAccessGrant (location scope + sub-prefix, e.g. s3://<bucket>/cpg0042/*) is not
  // confirmed offline: check the first grant after a deploy.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: "NewGrantsInTheBucket",
      actions: ["s3:CreateAccessGrant"],
      resources: [grantsArn],
      conditions: { StringLike: { "s3:AccessGrantScope": grantScopeInBucket(target.bucketName) } },
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: "ExistingGrantsInThisInstance",
      // GetAccessGrant: only the provisioner re-reads a grant it recorded before a crash.
      actions: [...(creates.includes("user") ? ["s3:GetAccessGrant"] : []), "s3:DeleteAccessGrant"],
      resources: [grantsArn],
    }),
  );

  const policy = role.node.tryFindChild("DefaultPolicy");
  if (!policy) return;
  // cdk-nag spells an account-agnostic stack's account as <AWS::AccountId>, but a pinned one
  // (-c account=…) literally, as it appears in the ARN; likewise the region and the partition.
  const pinned = (value: string, token: string) => (Token.isUnresolved(value) ? token : value);
  const partition = pinned(stack.partition, "<AWS::Partition>");
  const account = pinned(stack.account, "<AWS::AccountId>");
  const region = pinned(stack.region, "<AWS::Region>");
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${account}:user/${usersPath}/*]`,
    reason: profile.usersReason(target.iamUserPath),
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:${partition}:s3:${region}:${account}:access-grants/default/grant/*]`,
    reason:
      "Grant IDs are generated by S3 Access Grants when a grant is created, so revoking one cannot name it at deploy time; the resource is limited to grants of this account's single Access Grants instance.",
  });
  Validations.of(policy).acknowledge({
    id: "AwsSolutions-IAM5[Resource::*]",
    reason: profile.accountWideReason,
  });
}
