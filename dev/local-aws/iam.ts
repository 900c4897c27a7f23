// IAM (query protocol): the user, access key, group, policy, login profile and tag operations
// cytoskel uses, with AWS's error codes, statuses and DeleteConflict rules.
import type { Principal } from "./authz/principals.ts";
import {
  iamId,
  type LocalAccessKey,
  type LocalAwsState,
  type LocalGroup,
  type LocalUser,
  secretAccessKey,
  takeInjectedFault,
} from "./state.ts";
import { AwsFault, requestId, type XmlObject, xmlDocument } from "./wire.ts";

export const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";

export interface Caller {
  accessKeyId: string | undefined;
  /** The IAM user owning the access key; undefined means the account's administrator (root). */
  user: LocalUser | undefined;
  arn: string;
  principal: Principal;
}

const NAME_RE = /^[\w+=,.@-]+$/;
const PATH_RE = /^(\/|\/[\x21-\x7e]+\/)$/;

function validationError(field: string, value: string, constraint: string): AwsFault {
  return new AwsFault(
    "ValidationError",
    400,
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

function required(params: URLSearchParams, name: string): string {
  const v = params.get(name);
  if (v === null || v === "") {
    const field = name.charAt(0).toLowerCase() + name.slice(1);
    throw new AwsFault(
      "ValidationError",
      400,
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

function checkName(field: string, name: string, max = 64): void {
  if (name.length > max) {
    throw validationError(field, name, `Member must have length less than or equal to ${max}`);
  }
  if (!NAME_RE.test(name)) {
    throw validationError(field, name, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  }
}

function checkPath(path: string): void {
  if (path.length > 512 || !PATH_RE.test(path)) {
    throw validationError(
      "path",
      path,
      "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
    );
  }
}

/** `Tags.member.1.Key=...&Tags.member.1.Value=...` -> [{Key, Value}] */
function memberList(params: URLSearchParams, name: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let i = 1; ; i++) {
    const prefix = `${name}.member.${i}.`;
    const entry: Record<string, string> = {};
    let found = false;
    for (const [k, v] of params) {
      if (k.startsWith(prefix)) {
        entry[k.slice(prefix.length)] = v;
        found = true;
      }
    }
    if (!found) return out;
    out.push(entry);
  }
}

function scalarList(params: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${name}.member.${i}`); i++) out.push(params.get(`${name}.member.${i}`) ?? "");
  return out;
}

function parseTags(params: URLSearchParams): Map<string, string> {
  const tags = new Map<string, string>();
  for (const t of memberList(params, "Tags")) {
    const key = t.Key ?? "";
    if (tags.has(key))
      throw new AwsFault(
        "InvalidInput",
        400,
        "Duplicate tag keys found. Please remove the duplicate tag keys and try again.",
      );
    tags.set(key, t.Value ?? "");
  }
  if (tags.size > 50) throw new AwsFault("LimitExceeded", 409, "Cannot exceed quota for TagsPerUser: 50");
  return tags;
}

function userXml(u: LocalUser, withTags: boolean): XmlObject {
  return {
    Path: u.path,
    UserName: u.userName,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: u.createDate,
    Tags:
      withTags && u.tags.size ? { member: [...u.tags].map(([Key, Value]) => ({ Key, Value })) } : undefined,
  };
}

function groupXml(g: LocalGroup): XmlObject {
  return { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: g.arn, CreateDate: g.createDate };
}

function getUserOrFail(state: LocalAwsState, name: string): LocalUser {
  const u = state.iam.users.get(name.toLowerCase());
  if (!u) throw new AwsFault("NoSuchEntity", 404, `The user with name ${name} cannot be found.`);
  return u;
}

function getGroupOrFail(state: LocalAwsState, name: string): LocalGroup {
  const g = state.iam.groups.get(name.toLowerCase());
  if (!g) throw new AwsFault("NoSuchEntity", 404, `The group with name ${name} cannot be found.`);
  return g;
}

function checkPolicyDocument(doc: string): void {
  try {
    const parsed = JSON.parse(doc) as unknown;
    if (!parsed || typeof parsed !== "object" || !("Statement" in parsed)) throw new Error("no Statement");
  } catch {
    throw new AwsFault("MalformedPolicyDocument", 400, "Syntax errors in policy.");
  }
}

/** The ARN must be well formed and name an AWS managed policy or one created here (AWS checks too). */
function checkPolicyArn(state: LocalAwsState, arn: string): void {
  if (!/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+/.test(arn)) {
    throw new AwsFault("InvalidInput", 400, `ARN ${arn} is not valid.`);
  }
  if (!arn.includes(":iam::aws:policy/") && !state.iam.policies.has(arn)) {
    throw new AwsFault("NoSuchEntity", 404, `Policy ${arn} does not exist or is not attachable.`);
  }
}

/** Markers are opaque to clients; ours encode the offset of the next item. */
function page<T>(items: T[], params: URLSearchParams): { items: T[]; isTruncated: boolean; marker?: string } {
  const maxItemsText = params.get("MaxItems");
  const maxItems = maxItemsText ? Number(maxItemsText) : 100;
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
    throw validationError("maxItems", String(maxItemsText), "Member must have value between 1 and 1000");
  }
  const marker = params.get("Marker");
  let start = 0;
  if (marker) {
    const decoded = Number(
      Buffer.from(marker, "base64url")
        .toString("utf8")
        .replace(/^offset:/, ""),
    );
    if (!Number.isInteger(decoded) || decoded < 0) throw new AwsFault("InvalidInput", 400, "Invalid Marker.");
    start = decoded;
  }
  const slice = items.slice(start, start + maxItems);
  const next = start + maxItems;
  return next < items.length
    ? { items: slice, isTruncated: true, marker: Buffer.from(`offset:${next}`).toString("base64url") }
    : { items: slice, isTruncated: false };
}

type Handler = (state: LocalAwsState, params: URLSearchParams, caller: Caller) => XmlObject | undefined;

const handlers: Record<string, Handler> = {
  CreateUser(state, params) {
    const name = required(params, "UserName");
    checkName("userName", name);
    const path = params.get("Path") || "/";
    checkPath(path);
    const tags = parseTags(params);
    if (state.iam.users.has(name.toLowerCase())) {
      throw new AwsFault("EntityAlreadyExists", 409, `User with name ${name} already exists.`);
    }
    const user: LocalUser = {
      userName: name,
      userId: iamId("AIDA"),
      arn: `arn:aws:iam::${state.accountId}:user${path}${name}`,
      path,
      createDate: new Date(),
      tags,
      accessKeys: [],
      groups: new Set(),
      inlinePolicies: new Map(),
      attachedPolicies: new Set(),
      mfaDevices: [],
      signingCertificates: [],
      sshPublicKeys: [],
    };
    state.iam.users.set(name.toLowerCase(), user);
    return { User: userXml(user, true) };
  },

  GetUser(state, params, caller) {
    const name = params.get("UserName");
    if (!name) {
      if (caller.user) return { User: userXml(caller.user, true) };
      return { User: { UserId: state.accountId, Arn: caller.arn, CreateDate: new Date(0), Path: "/" } };
    }
    return { User: userXml(getUserOrFail(state, name), true) };
  },

  ListUsers(state, params) {
    const prefix = params.get("PathPrefix") || "/";
    const users = [...state.iam.users.values()]
      .filter((u) => u.path.startsWith(prefix))
      .sort((a, b) => a.userName.toLowerCase().localeCompare(b.userName.toLowerCase()));
    const p = page(users, params);
    return {
      Users: { member: p.items.map((u) => userXml(u, false)) },
      IsTruncated: p.isTruncated,
      Marker: p.marker,
    };
  },

  DeleteUser(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const conflict = (what: string) =>
      new AwsFault("DeleteConflict", 409, `Cannot delete entity, must ${what} first.`);
    if (user.loginProfile) throw conflict("delete login profile");
    if (user.accessKeys.length) throw conflict("delete access keys");
    if (user.groups.size) throw conflict("remove users from group");
    if (user.inlinePolicies.size) throw conflict("delete policies");
    if (user.attachedPolicies.size) throw conflict("detach all policies");
    if (user.mfaDevices.length) throw conflict("delete MFA device");
    if (user.signingCertificates.length) throw conflict("delete signing certificates");
    if (user.sshPublicKeys.length) throw conflict("delete SSH public keys");
    state.iam.users.delete(user.userName.toLowerCase());
    return undefined;
  },

  TagUser(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    for (const [k, v] of parseTags(params)) user.tags.set(k, v);
    return undefined;
  },

  UntagUser(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    for (const k of scalarList(params, "TagKeys")) user.tags.delete(k);
    return undefined;
  },

  ListUserTags(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    return { Tags: { member: [...user.tags].map(([Key, Value]) => ({ Key, Value })) }, IsTruncated: false };
  },

  CreateAccessKey(state, params, caller) {
    const name = params.get("UserName");
    const user = name ? getUserOrFail(state, name) : caller.user;
    if (!user)
      throw new AwsFault(
        "ValidationError",
        400,
        "Must specify userName when calling with non-User credentials",
      );
    if (user.accessKeys.length >= 2) {
      throw new AwsFault("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2");
    }
    const key: LocalAccessKey = {
      accessKeyId: iamId("AKIA"),
      secretAccessKey: secretAccessKey(),
      status: "Active",
      createDate: new Date(),
      userName: user.userName,
    };
    user.accessKeys.push(key);
    return {
      AccessKey: {
        UserName: user.userName,
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        SecretAccessKey: key.secretAccessKey,
        CreateDate: key.createDate,
      },
    };
  },

  ListAccessKeys(state, params, caller) {
    const name = params.get("UserName");
    const user = name ? getUserOrFail(state, name) : caller.user;
    const keys = user?.accessKeys ?? [];
    const p = page(keys, params);
    return {
      AccessKeyMetadata: {
        member: p.items.map((k) => ({
          UserName: k.userName,
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          CreateDate: k.createDate,
        })),
      },
      IsTruncated: p.isTruncated,
      Marker: p.marker,
    };
  },

  UpdateAccessKey(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const id = required(params, "AccessKeyId");
    const key = user.accessKeys.find((k) => k.accessKeyId === id);
    if (!key) throw new AwsFault("NoSuchEntity", 404, `The Access Key with id ${id} cannot be found.`);
    const status = required(params, "Status");
    if (status !== "Active" && status !== "Inactive")
      throw validationError("status", status, "Member must satisfy enum value set: [Active, Inactive]");
    key.status = status;
    return undefined;
  },

  DeleteAccessKey(state, params, caller) {
    const name = params.get("UserName");
    const user = name ? getUserOrFail(state, name) : caller.user;
    const id = required(params, "AccessKeyId");
    const index = user?.accessKeys.findIndex((k) => k.accessKeyId === id) ?? -1;
    if (!user || index < 0)
      throw new AwsFault("NoSuchEntity", 404, `The Access Key with id ${id} cannot be found.`);
    user.accessKeys.splice(index, 1);
    state.iam.deletedAccessKeyIds.add(id);
    return undefined;
  },

  CreateGroup(state, params) {
    const name = required(params, "GroupName");
    checkName("groupName", name, 128);
    const path = params.get("Path") || "/";
    checkPath(path);
    if (state.iam.groups.has(name.toLowerCase())) {
      throw new AwsFault("EntityAlreadyExists", 409, `Group with name ${name} already exists.`);
    }
    const group: LocalGroup = {
      groupName: name,
      groupId: iamId("AGPA"),
      arn: `arn:aws:iam::${state.accountId}:group${path}${name}`,
      path,
      createDate: new Date(),
      members: new Set(),
      inlinePolicies: new Map(),
      attachedPolicies: new Set(),
    };
    state.iam.groups.set(name.toLowerCase(), group);
    return { Group: groupXml(group) };
  },

  GetGroup(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const members = [...group.members]
      .map((n) => state.iam.users.get(n.toLowerCase()))
      .filter((u): u is LocalUser => u !== undefined);
    const p = page(members, params);
    return {
      Group: groupXml(group),
      Users: { member: p.items.map((u) => userXml(u, false)) },
      IsTruncated: p.isTruncated,
      Marker: p.marker,
    };
  },

  ListGroups(state, params) {
    const prefix = params.get("PathPrefix") || "/";
    const groups = [...state.iam.groups.values()].filter((g) => g.path.startsWith(prefix));
    const p = page(groups, params);
    return { Groups: { member: p.items.map(groupXml) }, IsTruncated: p.isTruncated, Marker: p.marker };
  },

  DeleteGroup(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    if (group.members.size)
      throw new AwsFault("DeleteConflict", 409, "Cannot delete entity, must remove users from group first.");
    if (group.inlinePolicies.size)
      throw new AwsFault("DeleteConflict", 409, "Cannot delete entity, must delete policies first.");
    if (group.attachedPolicies.size)
      throw new AwsFault("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.");
    state.iam.groups.delete(group.groupName.toLowerCase());
    return undefined;
  },

  AddUserToGroup(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const user = getUserOrFail(state, required(params, "UserName"));
    group.members.add(user.userName);
    user.groups.add(group.groupName);
    return undefined;
  },

  RemoveUserFromGroup(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const user = getUserOrFail(state, required(params, "UserName"));
    if (!group.members.has(user.userName)) {
      throw new AwsFault("NoSuchEntity", 404, `User ${user.userName} is not in group ${group.groupName}.`);
    }
    group.members.delete(user.userName);
    user.groups.delete(group.groupName);
    return undefined;
  },

  ListGroupsForUser(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const groups = [...user.groups]
      .map((n) => state.iam.groups.get(n.toLowerCase()))
      .filter((g): g is LocalGroup => g !== undefined);
    const p = page(groups, params);
    return { Groups: { member: p.items.map(groupXml) }, IsTruncated: p.isTruncated, Marker: p.marker };
  },

  PutGroupPolicy(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const name = required(params, "PolicyName");
    checkName("policyName", name, 128);
    const doc = required(params, "PolicyDocument");
    checkPolicyDocument(doc);
    group.inlinePolicies.set(name, doc);
    return undefined;
  },

  GetGroupPolicy(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const name = required(params, "PolicyName");
    const doc = group.inlinePolicies.get(name);
    if (doc === undefined) {
      throw new AwsFault("NoSuchEntity", 404, `The group policy with name ${name} cannot be found.`);
    }
    // IAM returns policy documents URL-encoded.
    return { GroupName: group.groupName, PolicyName: name, PolicyDocument: encodeURIComponent(doc) };
  },

  ListGroupPolicies(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    return { PolicyNames: { member: [...group.inlinePolicies.keys()] }, IsTruncated: false };
  },

  DeleteGroupPolicy(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const name = required(params, "PolicyName");
    if (!group.inlinePolicies.delete(name)) {
      throw new AwsFault("NoSuchEntity", 404, `The group policy with name ${name} cannot be found.`);
    }
    return undefined;
  },

  AttachGroupPolicy(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const arn = required(params, "PolicyArn");
    checkPolicyArn(state, arn);
    group.attachedPolicies.add(arn);
    return undefined;
  },

  DetachGroupPolicy(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    const arn = required(params, "PolicyArn");
    if (!group.attachedPolicies.delete(arn))
      throw new AwsFault("NoSuchEntity", 404, `Policy ${arn} was not found.`);
    return undefined;
  },

  ListAttachedGroupPolicies(state, params) {
    const group = getGroupOrFail(state, required(params, "GroupName"));
    return {
      AttachedPolicies: {
        member: [...group.attachedPolicies].map((arn) => ({
          PolicyArn: arn,
          PolicyName: arn.split("/").pop(),
        })),
      },
      IsTruncated: false,
    };
  },

  PutUserPolicy(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const name = required(params, "PolicyName");
    checkName("policyName", name, 128);
    const doc = required(params, "PolicyDocument");
    checkPolicyDocument(doc);
    user.inlinePolicies.set(name, doc);
    return undefined;
  },

  GetUserPolicy(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const name = required(params, "PolicyName");
    const doc = user.inlinePolicies.get(name);
    if (doc === undefined)
      throw new AwsFault("NoSuchEntity", 404, `The user policy with name ${name} cannot be found.`);
    return { UserName: user.userName, PolicyName: name, PolicyDocument: encodeURIComponent(doc) };
  },

  ListUserPolicies(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const p = page([...user.inlinePolicies.keys()], params);
    return { PolicyNames: { member: p.items }, IsTruncated: p.isTruncated, Marker: p.marker };
  },

  DeleteUserPolicy(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const name = required(params, "PolicyName");
    if (!user.inlinePolicies.delete(name)) {
      throw new AwsFault("NoSuchEntity", 404, `The user policy with name ${name} cannot be found.`);
    }
    return undefined;
  },

  AttachUserPolicy(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const arn = required(params, "PolicyArn");
    checkPolicyArn(state, arn);
    user.attachedPolicies.add(arn);
    return undefined;
  },

  DetachUserPolicy(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const arn = required(params, "PolicyArn");
    if (!user.attachedPolicies.delete(arn))
      throw new AwsFault("NoSuchEntity", 404, `Policy ${arn} was not found.`);
    return undefined;
  },

  ListAttachedUserPolicies(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const p = page([...user.attachedPolicies], params);
    return {
      AttachedPolicies: {
        member: p.items.map((arn) => ({ PolicyArn: arn, PolicyName: arn.split("/").pop() })),
      },
      IsTruncated: p.isTruncated,
      Marker: p.marker,
    };
  },

  CreatePolicy(state, params) {
    const name = required(params, "PolicyName");
    checkName("policyName", name, 128);
    const path = params.get("Path") || "/";
    checkPath(path);
    const document = required(params, "PolicyDocument");
    checkPolicyDocument(document);
    const arn = `arn:aws:iam::${state.accountId}:policy${path}${name}`;
    if (state.iam.policies.has(arn)) {
      throw new AwsFault(
        "EntityAlreadyExists",
        409,
        `A policy called ${name} already exists. Duplicate names are not allowed.`,
      );
    }
    const policy = { policyName: name, policyId: iamId("ANPA"), arn, path, document, createDate: new Date() };
    state.iam.policies.set(arn, policy);
    return {
      Policy: {
        PolicyName: name,
        PolicyId: policy.policyId,
        Arn: arn,
        Path: path,
        DefaultVersionId: "v1",
        AttachmentCount: 0,
        IsAttachable: true,
        CreateDate: policy.createDate,
        UpdateDate: policy.createDate,
      },
    };
  },

  // Customer managed policies keep one version (v1) here: CreatePolicyVersion is not served.
  GetPolicy(state, params) {
    const arn = required(params, "PolicyArn");
    const policy = state.iam.policies.get(arn);
    if (!policy) throw new AwsFault("NoSuchEntity", 404, `Policy ${arn} was not found.`);
    const attachments =
      [...state.iam.users.values()].filter((u) => u.attachedPolicies.has(arn)).length +
      [...state.iam.groups.values()].filter((g) => g.attachedPolicies.has(arn)).length;
    return {
      Policy: {
        PolicyName: policy.policyName,
        PolicyId: policy.policyId,
        Arn: arn,
        Path: policy.path,
        DefaultVersionId: "v1",
        AttachmentCount: attachments,
        IsAttachable: true,
        CreateDate: policy.createDate,
        UpdateDate: policy.createDate,
      },
    };
  },

  GetPolicyVersion(state, params) {
    const arn = required(params, "PolicyArn");
    const versionId = required(params, "VersionId");
    const policy = state.iam.policies.get(arn);
    if (!policy) throw new AwsFault("NoSuchEntity", 404, `Policy ${arn} was not found.`);
    if (versionId !== "v1")
      throw new AwsFault(
        "NoSuchEntity",
        404,
        `Policy ${arn} version ${versionId} does not exist or is not attachable.`,
      );
    return {
      // IAM returns policy documents URL-encoded.
      PolicyVersion: {
        Document: encodeURIComponent(policy.document),
        VersionId: "v1",
        IsDefaultVersion: true,
        CreateDate: policy.createDate,
      },
    };
  },

  DeletePolicy(state, params) {
    const arn = required(params, "PolicyArn");
    if (!state.iam.policies.has(arn)) throw new AwsFault("NoSuchEntity", 404, `Policy ${arn} was not found.`);
    const attached =
      [...state.iam.users.values()].some((u) => u.attachedPolicies.has(arn)) ||
      [...state.iam.groups.values()].some((g) => g.attachedPolicies.has(arn));
    if (attached) throw new AwsFault("DeleteConflict", 409, "Cannot delete a policy attached to entities.");
    state.iam.policies.delete(arn);
    return undefined;
  },

  CreateLoginProfile(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    required(params, "Password");
    if (user.loginProfile) {
      throw new AwsFault(
        "EntityAlreadyExists",
        409,
        `Login Profile for user ${user.userName} already exists.`,
      );
    }
    user.loginProfile = { createDate: new Date() };
    return {
      LoginProfile: {
        UserName: user.userName,
        CreateDate: user.loginProfile.createDate,
        PasswordResetRequired: false,
      },
    };
  },

  GetLoginProfile(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    if (!user.loginProfile) {
      throw new AwsFault("NoSuchEntity", 404, `Login Profile for User ${user.userName} cannot be found.`);
    }
    return {
      LoginProfile: {
        UserName: user.userName,
        CreateDate: user.loginProfile.createDate,
        PasswordResetRequired: false,
      },
    };
  },

  DeleteLoginProfile(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    if (!user.loginProfile) {
      throw new AwsFault("NoSuchEntity", 404, `Login Profile for User ${user.userName} cannot be found.`);
    }
    delete user.loginProfile;
    return undefined;
  },

  ListMFADevices(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    return {
      MFADevices: {
        member: user.mfaDevices.map((s) => ({
          UserName: user.userName,
          SerialNumber: s,
          EnableDate: user.createDate,
        })),
      },
      IsTruncated: false,
    };
  },

  DeactivateMFADevice(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const serial = required(params, "SerialNumber");
    const i = user.mfaDevices.indexOf(serial);
    if (i < 0)
      throw new AwsFault("NoSuchEntity", 404, `MFA Device with serial number ${serial} does not exist.`);
    user.mfaDevices.splice(i, 1);
    return undefined;
  },

  ListSigningCertificates(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    return {
      Certificates: {
        member: user.signingCertificates.map((id) => ({
          UserName: user.userName,
          CertificateId: id,
          CertificateBody: "-----BEGIN CERTIFICATE-----\nFAKE\n-----END CERTIFICATE-----",
          Status: "Active",
          UploadDate: user.createDate,
        })),
      },
      IsTruncated: false,
    };
  },

  DeleteSigningCertificate(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const id = required(params, "CertificateId");
    const i = user.signingCertificates.indexOf(id);
    if (i < 0) throw new AwsFault("NoSuchEntity", 404, `The Certificate with id ${id} cannot be found.`);
    user.signingCertificates.splice(i, 1);
    return undefined;
  },

  ListSSHPublicKeys(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    return {
      SSHPublicKeys: {
        member: user.sshPublicKeys.map((id) => ({
          UserName: user.userName,
          SSHPublicKeyId: id,
          Status: "Active",
          UploadDate: user.createDate,
        })),
      },
      IsTruncated: false,
    };
  },

  DeleteSSHPublicKey(state, params) {
    const user = getUserOrFail(state, required(params, "UserName"));
    const id = required(params, "SSHPublicKeyId");
    const i = user.sshPublicKeys.indexOf(id);
    if (i < 0) throw new AwsFault("NoSuchEntity", 404, `The Public Key with id ${id} cannot be found.`);
    user.sshPublicKeys.splice(i, 1);
    return undefined;
  },
};

/** The operation exists (unknown ones answer InvalidAction before any authorization). */
export function isIamOperation(action: string): boolean {
  return Object.hasOwn(handlers, action);
}

/** Handle one (already authorized) IAM query request; returns the XML answer or throws AwsFault. */
export function handleIam(state: LocalAwsState, params: URLSearchParams, caller: Caller): string {
  const action = params.get("Action") ?? "";
  const handler = handlers[action];
  if (!handler)
    throw new AwsFault("InvalidAction", 400, `Could not find operation ${action} for version 2010-05-08`);
  const injected = takeInjectedFault(state, action);
  if (injected) throw new AwsFault(injected.code, injected.status, injected.message);
  const result = handler(state, params, caller);
  return xmlDocument(`${action}Response`, IAM_NS, {
    ...(result ? { [`${action}Result`]: result } : {}),
    ResponseMetadata: { RequestId: requestId() },
  });
}

export function iamErrorXml(fault: AwsFault): string {
  return xmlDocument("ErrorResponse", IAM_NS, {
    Error: { Type: fault.type, Code: fault.code, Message: fault.message },
    RequestId: requestId(),
  });
}
