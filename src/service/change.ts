/**
 * Applying an approved change request (an extension or upgrade of access the person holds; the rule is
 * src/rules/change.ts) to the ACTIVE request it changes. No new IAM user, no key, no link: the person's
 * keys keep working. Runs under the person's lock like every other change to their grants. Steps:
 *
 *   1. permission changes only: the grant with the new permission (a covering one is reused — the one a
 *      crashed attempt made included — else created), then the held request's old grant of exactly its
 *      scope is deleted (ACTIVE requests it also served get a covering grant first, as in revoke);
 *   2. the DM saying what changed;
 *   3. ONE transaction (store.applyChange): the held request takes the new permission / end / grant,
 *      the change request APPROVED → APPLIED with the DM recorded;
 *   4. the change's admin card, and the held request's own card with its new terms (best effort).
 *
 * A retry after a crash anywhere converges: before step 3 nothing about the change is recorded, and
 * steps 1–2 are rediscovered (the new grant is found covering; the old one is gone or deleted again,
 * NoSuchGrant ignored), so there is never a second grant for the scope nor one left behind. After
 * step 3 the change is APPLIED and a retry skips it. Residual window, as in provisioning: a crash
 * between Slack accepting the DM and step 3 committing sends the DM once more.
 */
import { createGrant, deleteGrant, listGrants, pickCoveringGrant } from "../aws/access-grants.ts";
import { NoSuchGrantError } from "../aws/errors.ts";
import { changeBetween, describeChange } from "../rules/change.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import type { AccessRequest, ProgressData } from "../store/types.ts";
import { adminChangeAppliedMessage, changedDm } from "./change-messages.ts";
import {
  type CrashPoint,
  grantLocation,
  nowOf,
  PROVISIONER_ACTOR,
  type ServiceDeps,
  silentLogger,
} from "./deps.ts";
import { adminActiveChangedMessage } from "./messages.ts";
import type { MessageRef } from "./notifier.ts";
import { keepStayingGranted, personRequests } from "./revoke.ts";

export type ChangeOutcome =
  | {
      outcome: "changed";
      request: AccessRequest;
      held: AccessRequest;
      grantReplaced: boolean;
      dm: MessageRef;
    }
  | { outcome: "skipped"; request: AccessRequest; reason: string };

/** The access a change request changes is no longer there to change (ended, or not the person's). */
export class ChangedAccessGoneError extends Error {
  override readonly name = "ChangedAccessGoneError";
  constructor(
    readonly changeRequestId: string,
    readonly heldRequestId: string,
    readonly heldStatus: string | undefined,
  ) {
    super(
      `the access request ${changeRequestId} changes (${heldRequestId}) is ${heldStatus ? heldStatus.toLowerCase() : "gone"}, not active: nothing to extend or change; the person can file a new request`,
    );
  }
}

/** Call with the person's lock held and `change` read under it (APPROVED, with changeOf). */
export async function applyApprovedChange(deps: ServiceDeps, change: AccessRequest): Promise<ChangeOutcome> {
  const log = deps.log ?? silentLogger;
  const crash = async (point: CrashPoint) => deps.hooks?.at?.(point, change.id);
  const heldId = change.changeOf as string;
  const held = await deps.store.get(heldId);
  if (
    held?.status !== "ACTIVE" ||
    held.requesterUserId !== change.requesterUserId ||
    held.subPrefix !== change.subPrefix
  )
    throw new ChangedAccessGoneError(change.id, heldId, held?.status);

  const to = change.changeTo ?? { permission: change.permission };
  let grant: ProgressData["grant"] | undefined;
  if (to.permission !== held.permission) {
    grant = await swapGrant(deps, held, to.permission, crash);
    await crash("changeGrant");
  }
  const applied = changeBetween(
    { permission: held.permission, ...(held.expiresAt ? { expiresAt: held.expiresAt } : {}) },
    {
      permission: to.permission,
      ...((to.expiresAt ?? held.expiresAt) ? { expiresAt: (to.expiresAt ?? held.expiresAt) as string } : {}),
    },
  );
  const target = { bucket: deps.target.bucket, region: deps.target.region, accountId: deps.accountId };
  const dm = await deps.notifier.dmUser(change.requesterUserId, changedDm(target, held, applied, change.id));
  await crash("changeDmPosted");

  const written = await deps.store.applyChange({
    held,
    change,
    to: applied.to,
    ...(grant && grant.grantId !== held.progress.grant?.grantId ? { grant } : {}),
    dm,
    actor: PROVISIONER_ACTOR,
  });
  await crash("changeApplied");

  const grantReplaced = grant !== undefined && grant.grantId !== held.progress.grant?.grantId;
  if (written.change.adminMessage) {
    try {
      await deps.notifier.updateAdminMessage(
        written.change.adminMessage,
        adminChangeAppliedMessage(target, written.change, { grantReplaced, at: nowOf(deps).toISOString() }),
      );
    } catch (err) {
      log.warn("change.admin_update_failed", { requestId: change.id, error: err });
    }
  }
  if (written.held.adminMessage) {
    // The held card showed the old terms ("ends on …"); it must not outlive the change.
    try {
      await deps.notifier.updateAdminMessage(
        written.held.adminMessage,
        adminActiveChangedMessage(target, written.held, {
          what: describeChange(applied),
          at: nowOf(deps).toISOString(),
        }),
      );
    } catch (err) {
      log.warn("change.held_card_update_failed", { requestId: held.id, error: err });
    }
  }
  log.info("change.applied", { requestId: change.id, heldRequestId: held.id, grantReplaced });
  return { outcome: "changed", request: written.change, held: written.held, grantReplaced, dm };
}

/**
 * The grant the held request gets for `permission`: a covering one of the person's (reused) or a new
 * one; then its old grant of exactly its scope goes, once every other ACTIVE request it served is
 * covered by what remains. A grant broader than the scope (reused from another request) is not ours to
 * delete. Idempotent: a retry finds the new grant covering and the old one gone.
 */
async function swapGrant(
  deps: ServiceDeps,
  held: AccessRequest,
  permission: AccessRequest["permission"],
  crash: (point: CrashPoint) => Promise<void>,
): Promise<ProgressData["grant"]> {
  const granteeArn = held.progress.iamUser?.userArn;
  if (!granteeArn) throw new ChangedAccessGoneError(held.id, held.id, "without a recorded IAM user");
  const scope = GrantScope.of(deps.target.bucket, held.subPrefix);
  const grants = await listGrants(deps.s3control, { accountId: deps.accountId, granteeArn });
  let next = pickCoveringGrant(grants, { granteeArn, scope, permission });
  let created = false;
  if (!next) {
    next = await createGrant(deps.s3control, {
      accountId: deps.accountId,
      location: grantLocation(deps),
      scope,
      permission,
      granteeArn,
    });
    created = true;
  }
  await crash("changeGrantCreated");
  const oldId = held.progress.grant?.grantId;
  const old = grants.find((g) => g.id === oldId);
  if (old && old.id !== next.id && old.scope.uri === scope.uri) {
    const remaining = [...grants.filter((g) => g.id !== old.id && g.id !== next?.id), next];
    const others = (await personRequests(deps, held.requesterUserId)).filter(
      (r) => r.status === "ACTIVE" && r.id !== held.id && r.progress.grant?.grantId === old.id,
    );
    await keepStayingGranted(deps, granteeArn, others, remaining);
    try {
      await deleteGrant(deps.s3control, { accountId: deps.accountId, grantId: old.id });
    } catch (err) {
      if (!(err instanceof NoSuchGrantError)) throw err;
    }
  }
  return { grantId: next.id, grantArn: next.arn, created };
}
