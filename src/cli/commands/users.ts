import { getInstance } from "../../aws/access-grants.ts";
import { createAccessKey } from "../../aws/access-keys.ts";
import { NoSuchEntityError, NoSuchUserError } from "../../aws/errors.ts";
import {
  addUserToGroup,
  createUser,
  deleteUserCompletely,
  getUser,
  inspectUploadersGroup,
  userPages,
} from "../../aws/iam-users.ts";
import {
  BOOKS_NOT_UPDATED,
  type BooksArgs,
  type BooksOutcome,
  openBooks,
  withPersonRecordsEnded,
} from "../books.ts";
import type { AdminContext } from "../context.ts";
import { CliFailure, describeError } from "../errors.ts";
import { parseUserName } from "../input.ts";
import { type Listing, mapPages } from "../listing.ts";

export interface UserItem {
  userName: string;
  arn: string;
  path: string;
  createdAt?: string;
}

export interface UserCreatedResult {
  kind: "user-created";
  user: UserItem;
  group: string;
  /** Policies on the uploaders group besides GetDataAccess: it should have none, so we warn. */
  groupOtherPolicies: string[];
  accessKeyId: string;
  /** Shown once to the operator; never logged. */
  secretAccessKey: string;
}

export interface UserDeletedResult {
  kind: "user-deleted";
  userName: string;
  arn: string;
  deletedGrantIds: string[];
  deletedAccessKeyIds: string[];
  removedFromGroups: string[];
  books: BooksOutcome;
}

/** `list user`: cytoskel's IAM users (or, with `all`, every IAM user), page by page. */
export function listUsersCommand(ctx: AdminContext, args: { all?: boolean } = {}): Listing<UserItem> {
  const all = args.all ?? false;
  return {
    kind: "listing",
    fields: { all },
    name: "users",
    pages: mapPages(userPages(ctx.clients.iam, all ? { all } : { pathPrefix: ctx.target.iamPath }), (u) => ({
      userName: u.userName,
      arn: u.arn,
      path: u.path,
      ...(u.createdAt ? { createdAt: u.createdAt.toISOString() } : {}),
    })),
    line: (u) => u.arn,
    ...(all
      ? {}
      : {
          whenEmpty: `No cytoskel-managed users (path ${ctx.target.iamPath}); use --all to list every IAM user.`,
        }),
  };
}

/**
 * `create user NAME`: the user (under the target's IAM path), membership of the uploaders group (whose
 * only permission is s3:GetDataAccess), and one access key whose secret is returned for showing once.
 */
export async function createUserCommand(
  ctx: AdminContext,
  args: { name: string },
): Promise<UserCreatedResult> {
  const name = parseUserName(args.name);
  const { iam, s3control } = ctx.clients;
  const accountId = await ctx.accountId();
  // Read-only checks first: without an Access Grants instance, or an uploaders group that grants
  // s3:GetDataAccess, the keys would be useless. The group is the grants stack's: never written here.
  const instance = await getInstance(s3control, accountId);
  const group = await inspectUploadersGroup(iam, {
    groupName: ctx.target.uploadersGroup,
    instanceArn: instance.arn,
  }).catch((err: unknown) => {
    if (err instanceof NoSuchEntityError) {
      throw new CliFailure(
        `the uploaders group ${ctx.target.uploadersGroup} does not exist in this account; nothing changed; ` +
          `deploy the grants stack first ("cytoskel ${ctx.target.name} up")`,
        { cause: err },
      );
    }
    throw err;
  });
  if (!group.grantsDataAccess) {
    throw new CliFailure(
      `the uploaders group ${group.groupName} does not grant s3:GetDataAccess on ${instance.arn}; ` +
        `nothing changed; redeploy the grants stack ("cytoskel ${ctx.target.name} up")`,
    );
  }

  const user = await createUser(iam, {
    name,
    path: ctx.target.iamPath,
    tags: { "cytoskel:created-by": "cli" },
  });
  try {
    await addUserToGroup(iam, { userName: name, groupName: group.groupName });
    const key = await createAccessKey(iam, name);
    return {
      kind: "user-created",
      user: {
        userName: user.userName,
        arn: user.arn,
        path: user.path,
        ...(user.createdAt ? { createdAt: user.createdAt.toISOString() } : {}),
      },
      group: group.groupName,
      groupOtherPolicies: group.otherPolicies,
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
    };
  } catch (err) {
    // The user exists but is not usable; say so rather than leave a half-made user unmentioned.
    const { message } = describeError(err);
    throw new CliFailure(
      `created IAM user ${name} but could not finish (${message}); remove it with ` +
        `"cytoskel ${ctx.target.name} delete user ${name}" and try again`,
      { cause: err },
    );
  }
}

/**
 * `delete user NAME`: the user's grants, keys, group memberships and policies, then the user.
 * Users outside the target's IAM path (people's own or admin users) need `anyPath`: a typo must not
 * delete someone's console user.
 */
export async function deleteUserCommand(
  ctx: AdminContext,
  args: { name: string; anyPath?: boolean; books?: BooksArgs },
): Promise<UserDeletedResult> {
  const name = parseUserName(args.name);
  const books = args.books && openBooks(ctx, args.books);
  if (!books) return { ...(await deleteIamUser(ctx, name, args.anyPath)), books: BOOKS_NOT_UPDATED };
  // With the books: the user's requests end REVOKED too, under the person's lock. A user already gone
  // (a first run died after IAM) still has its records ended, so a second run converges.
  let gone: unknown;
  const { value, books: outcome } = await withPersonRecordsEnded(books, name, () =>
    deleteIamUser(ctx, name, args.anyPath).catch((err: unknown) => {
      if (!(err instanceof NoSuchUserError)) throw err;
      gone = err;
      return undefined;
    }),
  );
  if (!value) {
    if (outcome.endedRequestIds.length === 0) throw gone;
    return {
      kind: "user-deleted",
      userName: name,
      arn: "",
      deletedGrantIds: [],
      deletedAccessKeyIds: [],
      removedFromGroups: [],
      books: { ...outcome, note: `IAM user ${name} was already gone. ${outcome.note ?? ""}`.trim() },
    };
  }
  return { ...value, books: outcome };
}

async function deleteIamUser(
  ctx: AdminContext,
  name: string,
  anyPath: boolean | undefined,
): Promise<Omit<UserDeletedResult, "books">> {
  const args = { anyPath };
  const user = await getUser(ctx.clients.iam, name);
  if (!args.anyPath && !user.path.startsWith(ctx.target.iamPath)) {
    throw new CliFailure(
      `IAM user ${name} (path ${user.path}) was not created by cytoskel (path ${ctx.target.iamPath}); ` +
        "nothing changed; add --any-path to delete it anyway",
    );
  }
  const accountId = await ctx.accountId();
  const report = await deleteUserCompletely(
    // A cytoskel user may be in the uploaders group only: one in another group is refused before anything
    // is deleted (the operator policy may remove members from the uploaders group alone). --any-path
    // (legacy users, an administrator's job) removes every membership.
    {
      iam: ctx.clients.iam,
      s3control: ctx.clients.s3control,
      accountId,
      ...(args.anyPath ? {} : { uploadersGroup: ctx.target.uploadersGroup }),
    },
    name,
  );
  return {
    kind: "user-deleted",
    userName: report.userName,
    arn: report.arn,
    deletedGrantIds: report.deletedGrantIds,
    deletedAccessKeyIds: report.deletedAccessKeyIds,
    removedFromGroups: report.removedFromGroups,
  };
}
