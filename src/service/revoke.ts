/**
 * Taking access away: an admin's revoke (all of a person's grants, or those for one prefix) and the
 * expiry job share one core, run under the person's lock so it never interleaves with a provision.
 *
 * - A person is their Slack user ID: every IAM user made for it goes through this, whatever org part
 *   (team or enterprise) its requests were filed under (personHolders), and each is judged alone.
 * - Grants go first; the keys and the IAM user go when no grant is left (deleteUserCompletely).
 * - A grant may serve several requests (a later, narrower request reuses a covering grant). When such a
 *   grant goes but a request it served stays ACTIVE, that request gets a grant of its own scope, so
 *   revoking one of two overlapping grants never takes the other away, and never leaves broader
 *   access behind than what is still approved.
 * - Temporary credentials already issued by GetDataAccess stay valid until they expire (up to 12 h):
 *   nothing can recall them, and every message says so.
 * - Idempotent: a second revoke finds nothing and says so, changing nothing and messaging no one.
 */
import { createGrant, deleteGrant, type Grant, listGrants, pickCoveringGrant } from "../aws/access-grants.ts";
import { NoSuchGrantError, NoSuchUserError } from "../aws/errors.ts";
import { deleteUserCompletely, type IamUser, listUsers } from "../aws/iam-users.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import type { Actor, RequestStatus } from "../rules/lifecycle.ts";
import { normalizePrefix } from "../rules/prefix.ts";
import { code } from "../slack/blocks.ts";
import { TransitionConflictError } from "../store/errors.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest } from "../store/types.ts";
import { grantLocation, nowOf, personLockName, type ServiceDeps, silentLogger } from "./deps.ts";
import { adminEndedMessage, type RevokeSummary, revokedAdminPost, revokedDm } from "./messages.ts";
import { targetSummary } from "./provision.ts";
import { iamUserTeamFor } from "./users.ts";

export interface RevokeInput {
  /** Slack user ID of the person whose access goes. */
  userId: string;
  /** Only the grant(s) for exactly this normalised sub-prefix, e.g. "cpg0042/*". */
  subPrefix?: string;
  /** The admin (kind "admin"; the lifecycle refuses others). */
  actor: Actor;
  reason?: string;
}

export interface AccessRemoval {
  outcome: "removed" | "noop";
  /** One line for the admin who asked (no secrets). */
  text: string;
  endedRequestIds: string[];
  deletedGrantIds: string[];
  /** Requests that kept access through a grant made for their own scope. */
  regrantedRequestIds: string[];
  revokedPrefixes: string[];
  remainingPrefixes: string[];
  /** True when no IAM user of the person is left (each one's keys went with it). */
  userDeleted: boolean;
  /** The IAM users deleted (a person has one per org part they filed under). */
  deletedIamUsers: string[];
  /** DM + admin post went out (false: Slack failed; the removal itself stands). */
  notified: boolean;
}

/** Requests that hold or are on their way to access (what a revoke ends). */
export const HOLDS_ACCESS: readonly RequestStatus[] = ["APPROVED", "ACTIVE", "FAILED"];

export async function revokeAccess(deps: ServiceDeps, input: RevokeInput): Promise<AccessRemoval> {
  return deps.locks.withLock(personLockName(input.userId), async () => {
    const requests = await personRequests(deps, input.userId);
    // Every IAM user of the person, whatever org part they filed under (one per workspace when the
    // org part was a team ID under Enterprise Grid): picking one would leave the others' access.
    const holders = await personHolders(deps, input.userId);

    // Callers normally pass the parser's form; accept "cpg0042" or "s3://bucket/cpg0042/" too.
    const wanted =
      input.subPrefix === undefined
        ? undefined
        : normalizePrefix(input.subPrefix, { allowRoot: true, bucket: deps.target.bucket });
    const wantedScope = wanted === undefined ? undefined : GrantScope.of(deps.target.bucket, wanted);
    const planned = holders.map((h) => ({
      ...h,
      doomedGrants: h.grants.filter((g) => !wantedScope || g.scope.uri === wantedScope.uri),
    }));
    // Requests for other prefixes stay, even when they reused a grant going now (they get their own).
    const endingIds = new Set(
      requests
        .filter((r) => HOLDS_ACCESS.includes(r.status) && (wanted === undefined || r.subPrefix === wanted))
        .map((r) => r.id),
    );

    if (planned.every((h) => h.doomedGrants.length === 0) && endingIds.size === 0) {
      const covering = wantedScope
        ? holders
            .map((h) =>
              pickCoveringGrant(h.grants, { granteeArn: h.user.arn, scope: wantedScope, permission: "READ" }),
            )
            .find((g) => g !== undefined)
        : undefined;
      const message = covering
        ? `Nothing revoked: <@${input.userId}> has no grant for exactly \`${wanted}\`; their access to it comes from the grant for ${code(covering.scope.prefix)}. Revoke that prefix to remove it.`
        : `Nothing to revoke: <@${input.userId}> has no ${wanted ? `grant for \`${wanted}\`` : "cytoskel access"}.`;
      return noop(
        message,
        holders.flatMap((h) => h.grants),
      );
    }

    return removeAccess(deps, {
      userId: input.userId,
      holders: planned,
      requests,
      endingIds,
      status: "REVOKED",
      actor: input.actor,
      ...(input.reason ? { reason: input.reason } : {}),
    });
  });
}

function noop(message: string, grants: Grant[]): AccessRemoval {
  return {
    outcome: "noop",
    text: message,
    endedRequestIds: [],
    deletedGrantIds: [],
    regrantedRequestIds: [],
    revokedPrefixes: [],
    remainingPrefixes: grants.map((g) => g.scope.prefix),
    userDeleted: false,
    deletedIamUsers: [],
    notified: false,
  };
}

/** A person's requests, each read consistently (the index behind the list lags). */
export async function personRequests(
  deps: Pick<ServiceDeps, "store">,
  userId: string,
): Promise<AccessRequest[]> {
  const listed = await collectAll((cursor) => deps.store.listByRequester(userId, cursor ? { cursor } : {}));
  const fresh = await Promise.all(listed.map((r) => deps.store.get(r.id)));
  return fresh.filter((r): r is AccessRequest => r !== undefined);
}

/** One IAM user of a person (one per org part they filed under) and the grants it holds now. */
export interface Holder {
  teamId: string;
  user: IamUser;
  grants: Grant[];
}

/**
 * Every IAM user under the target's path that iamUserNameFor made for `userId` with any org part, with
 * its grants. ListUsers under the path, never GetUser: a path-scoped role gets AccessDenied from
 * GetUser on a user that is already gone (a second revoke), not NoSuchEntity.
 */
export async function personHolders(deps: ServiceDeps, userId: string): Promise<Holder[]> {
  const holders: Holder[] = [];
  for (const user of await listUsers(deps.iam, { pathPrefix: deps.target.iamPath })) {
    const teamId = iamUserTeamFor(user.userName, userId);
    if (teamId === undefined) continue;
    const grants = await listGrants(deps.s3control, { accountId: deps.accountId, granteeArn: user.arn });
    holders.push({ teamId, user, grants });
  }
  return holders;
}

/** One of the person's requests is served by this IAM user: it was filed under the same org part. */
export function holds(holder: Holder, r: AccessRequest): boolean {
  return r.requesterTeamId === holder.teamId;
}

export interface RemovalPlan {
  userId: string;
  /** Each IAM user of the person, every grant it holds now, and those of them to delete. */
  holders: (Holder & { doomedGrants: Grant[] })[];
  /** The person's requests (consistent reads). */
  requests: AccessRequest[];
  /** Requests to move to `status`. */
  endingIds: Set<string>;
  status: "REVOKED" | "EXPIRED";
  actor: Actor;
  reason?: string;
}

/** Shared by revoke and expiry; call with the person's lock held. */
export async function removeAccess(deps: ServiceDeps, plan: RemovalPlan): Promise<AccessRemoval> {
  const log = deps.log ?? silentLogger;
  const deletedGrantIds: string[] = [];
  const deletedIamUsers: string[] = [];
  const regrantedRequestIds: string[] = [];
  let remaining: Grant[] = [];
  for (const holder of plan.holders) {
    const left = await removeFromHolder(deps, plan, holder);
    deletedGrantIds.push(...left.deletedGrantIds);
    regrantedRequestIds.push(...left.regrantedRequestIds);
    remaining = [...remaining, ...left.remaining];
    if (left.userDeleted) deletedIamUsers.push(holder.user.userName);
  }
  // True only when no IAM user of the person is left: the messages then say keys and user are gone.
  const userDeleted = plan.holders.length > 0 && deletedIamUsers.length === plan.holders.length;

  const now = nowOf(deps).toISOString();
  const ended = await endRequests(
    deps.store,
    plan.requests.filter((r) => plan.endingIds.has(r.id)),
    plan,
  );
  const endedRequestIds = ended.map((r) => r.id);

  const revokedPrefixes = unique([
    ...plan.holders.flatMap((h) => h.doomedGrants.map((g) => g.scope.prefix)),
    ...ended.map((r) => r.subPrefix),
  ]);
  const remainingPrefixes = unique(remaining.map((g) => g.scope.prefix));
  const summary: RevokeSummary = {
    userId: plan.userId,
    actor: plan.actor.id,
    revokedPrefixes,
    remainingPrefixes,
    userDeleted,
    ...(plan.status === "REVOKED" && plan.reason ? { reason: plan.reason } : {}),
  };
  const why = plan.status === "EXPIRED" ? "expired" : "revoked";
  const target = targetSummary(deps);

  let notified = true;
  try {
    await deps.notifier.dmUser(plan.userId, revokedDm(target, summary, why));
    await deps.notifier.postAdminChannel(revokedAdminPost(target, summary, why));
  } catch (err) {
    notified = false;
    log.warn("revoke.notify_failed", { userId: plan.userId, error: err });
  }
  for (const r of ended) {
    if (!r.adminMessage) continue;
    try {
      await deps.notifier.updateAdminMessage(
        r.adminMessage,
        adminEndedMessage(target, r, { status: plan.status, actor: plan.actor.id, at: now }),
      );
    } catch (err) {
      log.warn("revoke.admin_update_failed", { requestId: r.id, error: err });
    }
  }
  log.info("access.removed", {
    userId: plan.userId,
    status: plan.status,
    endedRequestIds,
    deletedGrantIds,
    regrantedRequestIds,
    deletedIamUsers,
    userDeleted,
  });
  const message =
    `${why === "expired" ? "Expired" : "Revoked"} ${revokedPrefixes.map(code).join(", ")} for <@${plan.userId}>. ` +
    (userDeleted
      ? `No grant left: keys and ${deletedIamUsers.length > 1 ? `${deletedIamUsers.length} IAM users` : "IAM user"} deleted.`
      : remainingPrefixes.length === 0
        ? "No grant left."
        : `Still granted: ${remainingPrefixes.map(code).join(", ")}.`) +
    " Temporary credentials already issued stay valid until they expire (up to 12 h).";
  return {
    outcome: "removed",
    text: message,
    endedRequestIds,
    deletedGrantIds,
    regrantedRequestIds,
    revokedPrefixes,
    remainingPrefixes,
    userDeleted,
    deletedIamUsers,
    notified,
  };
}

/**
 * One IAM user's part of a removal: its doomed grants go, the person's ACTIVE requests that stay and
 * were served by it keep a grant there, and the user (keys and all) goes when no grant is left.
 */
async function removeFromHolder(
  deps: ServiceDeps,
  plan: RemovalPlan,
  holder: RemovalPlan["holders"][number],
): Promise<{
  deletedGrantIds: string[];
  regrantedRequestIds: string[];
  remaining: Grant[];
  userDeleted: boolean;
}> {
  const deletedGrantIds: string[] = [];
  for (const g of holder.doomedGrants) {
    try {
      await deleteGrant(deps.s3control, { accountId: deps.accountId, grantId: g.id });
    } catch (err) {
      if (!(err instanceof NoSuchGrantError)) throw err;
    }
    deletedGrantIds.push(g.id);
  }
  const deleted = new Set(deletedGrantIds);
  // ACTIVE requests that stay, but whose access came from a grant that just went: give them their own.
  const staying = plan.requests.filter(
    (r) => r.status === "ACTIVE" && !plan.endingIds.has(r.id) && holds(holder, r),
  );
  const { remaining, regrantedRequestIds } = await keepStayingGranted(
    deps,
    holder.user.arn,
    staying,
    holder.grants.filter((g) => !deleted.has(g.id)),
  );
  if (remaining.length > 0) return { deletedGrantIds, regrantedRequestIds, remaining, userDeleted: false };
  await deletePersonUser(deps, holder.user.userName);
  return { deletedGrantIds, regrantedRequestIds, remaining, userDeleted: true };
}

/** A person's IAM user with its keys, grants and group membership; already gone is fine. Shared by
 *  revoke, expiry and the reconciler's FAILED clean-up. */
export async function deletePersonUser(deps: ServiceDeps, userName: string): Promise<void> {
  try {
    // Only the uploaders group: the roles may take users out of no other (UserInOtherGroupError).
    await deleteUserCompletely(
      {
        iam: deps.iam,
        s3control: deps.s3control,
        accountId: deps.accountId,
        uploadersGroup: deps.target.uploadersGroup,
      },
      userName,
    );
  } catch (err) {
    if (!(err instanceof NoSuchUserError)) throw err;
  }
}

/**
 * Moves each request to `status` (one audited transition each, from the state it was read in) and
 * returns the ones moved. One moved by someone else since it was read (e.g. it expired while an admin
 * revoked) is skipped: theirs stands. Also the admin CLI's way of ending the records of access it took
 * away (src/cli/books.ts).
 */
export async function endRequests(
  store: Pick<ServiceDeps["store"], "transition">,
  requests: readonly AccessRequest[],
  how: { status: "REVOKED" | "EXPIRED"; actor: Actor; reason?: string },
): Promise<AccessRequest[]> {
  const ended: AccessRequest[] = [];
  for (const r of requests) {
    try {
      ended.push(
        await store.transition(r.id, {
          from: r.status,
          to: how.status,
          actor: how.actor,
          ...(how.reason ? { reason: how.reason } : {}),
        }),
      );
    } catch (err) {
      if (!(err instanceof TransitionConflictError)) throw err;
    }
  }
  return ended;
}

/**
 * Each of `staying` (ACTIVE requests that keep their access) ends up served by one of `remaining` (the
 * grants left once some go): a covering one, or a grant of its own scope made now; a request whose
 * recorded grant changes gets it recorded. Shared by revoke / expiry and a change that replaces a grant.
 */
export async function keepStayingGranted(
  deps: ServiceDeps,
  granteeArn: string,
  staying: readonly AccessRequest[],
  remainingGrants: readonly Grant[],
): Promise<{ remaining: Grant[]; regrantedRequestIds: string[] }> {
  let remaining = [...remainingGrants];
  const regrantedRequestIds: string[] = [];
  for (const r of staying) {
    const scope = GrantScope.of(deps.target.bucket, r.subPrefix);
    const want = { granteeArn, scope, permission: r.permission };
    let grant = pickCoveringGrant(remaining, want);
    let created = false;
    if (!grant) {
      grant = await createGrant(deps.s3control, {
        accountId: deps.accountId,
        location: grantLocation(deps),
        scope,
        permission: r.permission,
        granteeArn,
      });
      created = true;
      remaining = [...remaining, grant];
    }
    if (r.progress.grant?.grantId !== grant.id) {
      await deps.store.recordProgress(r.id, "grant", { grantId: grant.id, grantArn: grant.arn, created });
      regrantedRequestIds.push(r.id);
    }
  }
  return { remaining, regrantedRequestIds };
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
