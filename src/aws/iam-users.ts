// IAM users managed by cytoskel (path /cytoskel/), the uploaders group, and complete user deletion.
import {
  AddUserToGroupCommand,
  CreateUserCommand,
  DeactivateMFADeviceCommand,
  DeleteLoginProfileCommand,
  DeleteSigningCertificateCommand,
  DeleteSSHPublicKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetGroupCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserCommand,
  type IAMClient,
  ListMFADevicesCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  paginateListAttachedGroupPolicies,
  paginateListAttachedUserPolicies,
  paginateListGroupPolicies,
  paginateListGroupsForUser,
  paginateListUserPolicies,
  paginateListUsers,
  RemoveUserFromGroupCommand,
  type User,
} from "@aws-sdk/client-iam";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import { deleteGrant, listGrants } from "./access-grants.ts";
import { deleteAccessKey, listAccessKeys } from "./access-keys.ts";
import {
  mapAwsError,
  NoSuchEntityError,
  NoSuchGrantError,
  NoSuchInstanceError,
  NoSuchUserError,
  UserInOtherGroupError,
} from "./errors.ts";

export const CYTOSKEL_IAM_PATH = "/cytoskel/";
export const TAG_MANAGED_BY = "cytoskel:managed-by";
export const TAG_SLACK_USER_ID = "cytoskel:slack-user-id";
export const TAG_SLACK_TEAM_ID = "cytoskel:slack-team-id";

export interface IamUser {
  userName: string;
  userId: string;
  arn: string;
  path: string;
  createdAt?: Date;
  /** Filled by getUser/createUser; ListUsers does not return tags. */
  tags: Record<string, string>;
}

export interface CreateUserInput {
  name: string;
  /** Defaults to /cytoskel/ so listUsers finds it. */
  path?: string;
  slackUserId?: string;
  slackTeamId?: string;
  tags?: Record<string, string>;
}

function toUser(u: User | undefined, fallbackName: string): IamUser {
  const tags: Record<string, string> = {};
  for (const t of u?.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? "";
  return {
    userName: u?.UserName ?? fallbackName,
    userId: u?.UserId ?? "",
    arn: u?.Arn ?? "",
    path: u?.Path ?? "/",
    ...(u?.CreateDate ? { createdAt: u.CreateDate } : {}),
    tags,
  };
}

/** Tags for a managed user: managed-by marker plus the Slack IDs when known. */
export function userTags(
  input: Pick<CreateUserInput, "slackUserId" | "slackTeamId" | "tags">,
): Record<string, string> {
  return {
    [TAG_MANAGED_BY]: "cytoskel",
    ...(input.slackUserId ? { [TAG_SLACK_USER_ID]: input.slackUserId } : {}),
    ...(input.slackTeamId ? { [TAG_SLACK_TEAM_ID]: input.slackTeamId } : {}),
    ...input.tags,
  };
}

export async function createUser(iam: IAMClient, input: CreateUserInput): Promise<IamUser> {
  const tags = userTags(input);
  try {
    const out = await iam.send(
      new CreateUserCommand({
        UserName: input.name,
        Path: input.path ?? CYTOSKEL_IAM_PATH,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    const user = toUser(out.User, input.name);
    // Some implementations omit tags from the CreateUser response; we know what we sent.
    return { ...user, tags: Object.keys(user.tags).length ? user.tags : tags };
  } catch (err) {
    throw mapAwsError(err, { operation: "CreateUser", entity: "user", userName: input.name });
  }
}

/**
 * The user with its tags; NoSuchUserError when missing. Only for a user known to exist: a role whose
 * IAM permissions are scoped to a path (user/cytoskel/*) gets AccessDenied, not NoSuchEntity, for a
 * missing user, because AWS can only judge the call on arn:…:user/NAME (a missing user has no path).
 * Use findUser to ask whether a user exists.
 */
export async function getUser(iam: IAMClient, name: string): Promise<IamUser> {
  try {
    const out = await iam.send(new GetUserCommand({ UserName: name }));
    return toUser(out.User, name);
  } catch (err) {
    throw mapAwsError(err, { operation: "GetUser", entity: "user", userName: name });
  }
}

/**
 * The user named `name` under `pathPrefix` (default /cytoskel/), or undefined when there is none.
 * Decided with ListUsers(PathPrefix), which a path-scoped role may call, never with GetUser's
 * NoSuchEntity (see getUser). ListUsers returns no tags, so `tags` is empty.
 */
export async function findUser(
  iam: IAMClient,
  name: string,
  opts: { pathPrefix?: string } = {},
): Promise<IamUser | undefined> {
  // IAM user names are unique regardless of case.
  const wanted = name.toLowerCase();
  const users = await listUsers(iam, { pathPrefix: opts.pathPrefix ?? CYTOSKEL_IAM_PATH });
  return users.find((u) => u.userName.toLowerCase() === wanted);
}

export interface ListUsersOptions {
  /** Every user in the account, not just those under /cytoskel/. */
  all?: boolean;
  /** Override the path prefix (ignored when `all`). */
  pathPrefix?: string;
  /** Page size asked of IAM (MaxItems); every page is fetched regardless. */
  pageSize?: number;
}

/** Managed users (path /cytoskel/) by default, all users with `all`; follows Marker to the last page. */
export async function listUsers(iam: IAMClient, opts: ListUsersOptions = {}): Promise<IamUser[]> {
  const users: IamUser[] = [];
  for await (const page of userPages(iam, opts)) users.push(...page);
  return users;
}

/** The users listUsers returns, a page at a time: a listing of any length in the memory of one page. */
export async function* userPages(iam: IAMClient, opts: ListUsersOptions = {}): AsyncGenerator<IamUser[]> {
  const pathPrefix = opts.all ? undefined : (opts.pathPrefix ?? CYTOSKEL_IAM_PATH);
  try {
    const pages = paginateListUsers(
      { client: iam, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) },
      pathPrefix ? { PathPrefix: pathPrefix } : {},
    );
    for await (const page of pages) yield (page.Users ?? []).map((u) => toUser(u, ""));
  } catch (err) {
    throw mapAwsError(err, { operation: "ListUsers" });
  }
}

/** What one policy document lets the group's members do, as far as the uploaders group goes. */
export function dataAccessOf(
  document: string,
  instanceArn: string,
): { grantsDataAccess: boolean; grantsMore: boolean } {
  let statements: unknown[] = [];
  try {
    const parsed = JSON.parse(document) as { Statement?: unknown };
    statements = Array.isArray(parsed.Statement)
      ? parsed.Statement
      : parsed.Statement
        ? [parsed.Statement]
        : [];
  } catch {
    return { grantsDataAccess: false, grantsMore: true };
  }
  const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  let grantsDataAccess = false;
  let grantsMore = false;
  for (const raw of statements) {
    const st = raw as { Effect?: string; Action?: unknown; NotAction?: unknown; Resource?: unknown };
    if (st.Effect !== "Allow") continue;
    const actions = list(st.Action);
    if (st.NotAction !== undefined || actions.some((a) => a.toLowerCase() !== "s3:getdataaccess"))
      grantsMore = true;
    if (actions.some((a) => a.toLowerCase() === "s3:getdataaccess")) {
      if (list(st.Resource).some((r) => r === instanceArn || r === "*")) grantsDataAccess = true;
    }
  }
  return { grantsDataAccess, grantsMore };
}

export interface UploadersGroupCheck {
  groupName: string;
  arn: string;
  /** Some policy of the group allows s3:GetDataAccess on the instance (what the grants stack attaches). */
  grantsDataAccess: boolean;
  /** Policies that allow anything more: members' keys would be worth stealing, so callers warn. */
  otherPolicies: string[];
}

/**
 * Read — never write — the uploaders group the grants stack owns: each inline and attached policy's
 * document, whether one grants s3:GetDataAccess on the instance, and which grant more. NoSuchEntityError
 * when the group does not exist (the stack is not deployed).
 */
export async function inspectUploadersGroup(
  iam: IAMClient,
  opts: { groupName: string; instanceArn: string },
): Promise<UploadersGroupCheck> {
  const GroupName = opts.groupName;
  let operation = "GetGroup";
  try {
    const group = await iam.send(new GetGroupCommand({ GroupName, MaxItems: 1 }));
    const documents: { name: string; document: string }[] = [];
    operation = "ListGroupPolicies";
    for await (const page of paginateListGroupPolicies({ client: iam }, { GroupName })) {
      for (const PolicyName of page.PolicyNames ?? []) {
        operation = "GetGroupPolicy";
        const out = await iam.send(new GetGroupPolicyCommand({ GroupName, PolicyName }));
        documents.push({ name: PolicyName, document: decodeURIComponent(out.PolicyDocument ?? "") });
      }
    }
    operation = "ListAttachedGroupPolicies";
    for await (const page of paginateListAttachedGroupPolicies({ client: iam }, { GroupName })) {
      for (const attached of page.AttachedPolicies ?? []) {
        const PolicyArn = attached.PolicyArn ?? "";
        operation = "GetPolicy";
        const policy = await iam.send(new GetPolicyCommand({ PolicyArn }));
        operation = "GetPolicyVersion";
        const version = await iam.send(
          new GetPolicyVersionCommand({ PolicyArn, VersionId: policy.Policy?.DefaultVersionId ?? "v1" }),
        );
        documents.push({
          name: PolicyArn,
          document: decodeURIComponent(version.PolicyVersion?.Document ?? ""),
        });
      }
    }
    const judged = documents.map((d) => ({ name: d.name, ...dataAccessOf(d.document, opts.instanceArn) }));
    return {
      groupName: GroupName,
      arn: group.Group?.Arn ?? "",
      grantsDataAccess: judged.some((d) => d.grantsDataAccess),
      otherPolicies: judged.filter((d) => d.grantsMore).map((d) => d.name),
    };
  } catch (err) {
    throw mapAwsError(err, { operation, entity: "group", groupName: GroupName });
  }
}

export async function addUserToGroup(
  iam: IAMClient,
  opts: { userName: string; groupName: string },
): Promise<void> {
  try {
    await iam.send(new AddUserToGroupCommand({ UserName: opts.userName, GroupName: opts.groupName }));
  } catch (err) {
    // NoSuchEntity may mean the user or the group; AWS's message says which.
    const mapped = mapAwsError(err, { operation: "AddUserToGroup", entity: "user or group" });
    if (!(mapped instanceof NoSuchEntityError)) throw mapped;
    const awsMessage = err instanceof Error ? err.message : "";
    const base = { cause: err, operation: "AddUserToGroup" };
    if (/\buser\b/i.test(awsMessage) && !/\bgroup with name\b/i.test(awsMessage)) {
      throw new NoSuchUserError(opts.userName, base);
    }
    if (/\bgroup\b/i.test(awsMessage)) throw new NoSuchEntityError(`IAM group ${opts.groupName}`, base);
    throw new NoSuchEntityError(`IAM user ${opts.userName} or group ${opts.groupName}`, base);
  }
}

export async function removeUserFromGroup(
  iam: IAMClient,
  opts: { userName: string; groupName: string },
): Promise<void> {
  try {
    await iam.send(new RemoveUserFromGroupCommand({ UserName: opts.userName, GroupName: opts.groupName }));
  } catch (err) {
    throw mapAwsError(err, { operation: "RemoveUserFromGroup", entity: "user", userName: opts.userName });
  }
}

export async function listGroupsForUser(iam: IAMClient, userName: string): Promise<string[]> {
  const groups: string[] = [];
  try {
    for await (const page of paginateListGroupsForUser({ client: iam }, { UserName: userName })) {
      for (const g of page.Groups ?? []) if (g.GroupName) groups.push(g.GroupName);
    }
  } catch (err) {
    throw mapAwsError(err, { operation: "ListGroupsForUser", entity: "user", userName });
  }
  return groups;
}

export interface DeleteUserDeps {
  iam: IAMClient;
  /** With s3control + accountId, the user's access grants are deleted too. */
  s3control?: S3ControlClient;
  accountId?: string;
  /**
   * The only group the user may be in (the bot's roles may RemoveUserFromGroup on the uploaders group
   * alone). Set: a user also in another group is refused with UserInOtherGroupError before anything
   * is deleted. Unset (the admin CLI's --any-path, an administrator's job): every membership is removed.
   */
  uploadersGroup?: string;
}

export interface DeleteUserReport {
  userName: string;
  arn: string;
  deletedGrantIds: string[];
  deletedAccessKeyIds: string[];
  removedFromGroups: string[];
  deletedInlinePolicies: string[];
  detachedPolicyArns: string[];
  deletedLoginProfile: boolean;
  deactivatedMfaDevices: string[];
  deletedSigningCertificates: string[];
  deletedSshPublicKeys: string[];
}

/**
 * Delete a user and everything that would make DeleteUser fail with DeleteConflict (keys, groups,
 * policies, login profile, MFA, certificates, SSH keys) plus the user's access grants, which would
 * otherwise be left pointing at a dead ARN. Grants go first: if anything fails later, a rerun converges.
 */
export async function deleteUserCompletely(
  deps: DeleteUserDeps,
  userName: string,
): Promise<DeleteUserReport> {
  const { iam } = deps;
  const user = await getUser(iam, userName);
  // Checked first, so a user that cannot be deleted keeps its grants and keys (nothing half-done).
  const groups = await listGroupsForUser(iam, userName);
  const only = deps.uploadersGroup;
  if (only !== undefined) {
    // IAM group names are unique regardless of case.
    const others = groups.filter((g) => g.toLowerCase() !== only.toLowerCase());
    if (others.length > 0) {
      throw new UserInOtherGroupError(userName, others, only, { operation: "DeleteUser" });
    }
  }
  const report: DeleteUserReport = {
    userName,
    arn: user.arn,
    deletedGrantIds: [],
    deletedAccessKeyIds: [],
    removedFromGroups: [],
    deletedInlinePolicies: [],
    detachedPolicyArns: [],
    deletedLoginProfile: false,
    deactivatedMfaDevices: [],
    deletedSigningCertificates: [],
    deletedSshPublicKeys: [],
  };

  if (deps.s3control && deps.accountId) {
    const accountId = deps.accountId;
    let grants: Awaited<ReturnType<typeof listGrants>> = [];
    try {
      grants = await listGrants(deps.s3control, { accountId, granteeArn: user.arn });
    } catch (err) {
      if (!(err instanceof NoSuchInstanceError)) throw err;
    }
    for (const g of grants) {
      try {
        await deleteGrant(deps.s3control, { accountId, grantId: g.id });
      } catch (err) {
        if (!(err instanceof NoSuchGrantError)) throw err;
      }
      report.deletedGrantIds.push(g.id);
    }
  }

  for (const key of await listAccessKeys(iam, userName)) {
    await deleteAccessKey(iam, { userName, accessKeyId: key.accessKeyId });
    report.deletedAccessKeyIds.push(key.accessKeyId);
  }

  for (const groupName of groups) {
    await removeUserFromGroup(iam, { userName, groupName });
    report.removedFromGroups.push(groupName);
  }

  const ctx = { entity: "user", userName } as const;
  try {
    // Listed in full before deleting: deleting while paging would shift the pages under the marker.
    const inline: string[] = [];
    for await (const page of paginateListUserPolicies({ client: iam }, { UserName: userName })) {
      inline.push(...(page.PolicyNames ?? []));
    }
    for (const policyName of inline) {
      await iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: policyName }));
      report.deletedInlinePolicies.push(policyName);
    }
    const attached: string[] = [];
    for await (const page of paginateListAttachedUserPolicies({ client: iam }, { UserName: userName })) {
      for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) attached.push(p.PolicyArn);
    }
    for (const policyArn of attached) {
      await iam.send(new DetachUserPolicyCommand({ UserName: userName, PolicyArn: policyArn }));
      report.detachedPolicyArns.push(policyArn);
    }

    const mfa = await iam.send(new ListMFADevicesCommand({ UserName: userName }));
    for (const d of mfa.MFADevices ?? []) {
      if (!d.SerialNumber) continue;
      await iam.send(new DeactivateMFADeviceCommand({ UserName: userName, SerialNumber: d.SerialNumber }));
      report.deactivatedMfaDevices.push(d.SerialNumber);
    }

    const certs = await iam.send(new ListSigningCertificatesCommand({ UserName: userName }));
    for (const c of certs.Certificates ?? []) {
      if (!c.CertificateId) continue;
      await iam.send(
        new DeleteSigningCertificateCommand({ UserName: userName, CertificateId: c.CertificateId }),
      );
      report.deletedSigningCertificates.push(c.CertificateId);
    }

    const ssh = await iam.send(new ListSSHPublicKeysCommand({ UserName: userName }));
    for (const k of ssh.SSHPublicKeys ?? []) {
      if (!k.SSHPublicKeyId) continue;
      await iam.send(new DeleteSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: k.SSHPublicKeyId }));
      report.deletedSshPublicKeys.push(k.SSHPublicKeyId);
    }
  } catch (err) {
    throw mapAwsError(err, { operation: "DeleteUser (clean-up)", ...ctx });
  }

  try {
    await iam.send(new DeleteLoginProfileCommand({ UserName: userName }));
    report.deletedLoginProfile = true;
  } catch (err) {
    // No console password is the normal case for our users.
    const mapped = mapAwsError(err, { operation: "DeleteLoginProfile", entity: "loginProfile", userName });
    if (!(mapped instanceof NoSuchEntityError)) throw mapped;
  }

  try {
    await iam.send(new DeleteUserCommand({ UserName: userName }));
  } catch (err) {
    throw mapAwsError(err, { operation: "DeleteUser", ...ctx });
  }
  return report;
}

/** Plain DeleteUser without clean-up (DeleteConflictError while keys, groups or policies remain). */
export async function deleteUser(iam: IAMClient, userName: string): Promise<void> {
  try {
    await iam.send(new DeleteUserCommand({ UserName: userName }));
  } catch (err) {
    throw mapAwsError(err, { operation: "DeleteUser", entity: "user", userName });
  }
}
