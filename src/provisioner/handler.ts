/**
 * The provisioner's work per DynamoDB stream batch, apart from the Lambda entry (config, clients).
 *
 * Three kinds of record do something; every other one (progress writes APPROVED → APPROVED, locks,
 * audit events, secrets, job claims) is ignored:
 *  - a request whose NEW image is APPROVED and OLD image was not (first approval, or an admin's Retry
 *    from FAILED) is provisioned;
 *  - the INSERT of an admin job (revoke / re-issue, queued by the bot) runs it once (./jobs.ts);
 *  - PENDING → DENIED DMs the requester, with the admin's reason.
 *
 * Each request gets in-process retries with exponential backoff and jitter. After the last try it
 * moves to FAILED with a reason, and the admin card shows the reason and a Retry button. A record is
 * handed back to Lambda (batchItemFailures → retried from there, in order) only when even that could
 * not be done, when the person's lock stayed busy, or when the invocation is running out of time.
 */
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { PROVISIONER_ACTOR, type ServiceDeps, silentLogger } from "../service/deps.ts";
import { describeFailure, isRetryable } from "../service/errors.ts";
import { adminFailedMessage, deniedDm } from "../service/messages.ts";
import {
  NoSuchRequestToProvisionError,
  type ProvisionOutcome,
  provisionRequest,
  targetSummary,
} from "../service/provision.ts";
import { LockBusyError } from "../service/user-lock.ts";
import { TransitionConflictError } from "../store/errors.ts";
import type { AccessRequest } from "../store/types.ts";
import { queuedJob, runJobWithRetries } from "./jobs.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import { DENY_NOTICE_TRANSITION, isProvisionTrigger } from "./trigger-states.ts";

export type { RetryPolicy } from "./retry.ts";

/** The request ID to provision for this record, or undefined when the record is not an approval. */
export function approvedRequestId(record: DynamoDBRecord): string | undefined {
  if (record.eventName !== "INSERT" && record.eventName !== "MODIFY") return undefined;
  const newImage = record.dynamodb?.NewImage;
  if (!newImage) return undefined;
  const next = unmarshall(newImage as never) as Record<string, unknown>;
  if (typeof next.pk !== "string" || !next.pk.startsWith("REQ#") || next.sk !== "META") return undefined;
  if (!isProvisionTrigger(next.status) || typeof next.id !== "string") return undefined;
  const oldImage = record.dynamodb?.OldImage;
  const prev = oldImage ? (unmarshall(oldImage as never) as Record<string, unknown>) : undefined;
  if (isProvisionTrigger(prev?.status)) return undefined;
  return next.id;
}

export async function handleProvisionerEvent(
  deps: ServiceDeps,
  event: DynamoDBStreamEvent,
  policy: RetryPolicy = {},
): Promise<DynamoDBBatchResponse> {
  const log = deps.log ?? silentLogger;
  for (const record of event.Records ?? []) {
    const requestId = approvedRequestId(record);
    const job = requestId ? undefined : queuedJob(record);
    const denied = requestId || job ? undefined : deniedRequest(record);
    if (!requestId && !job && !denied) continue;
    try {
      if (requestId) await provisionWithRetries(deps, requestId, policy);
      else if (job) await runJobWithRetries(deps, job, policy);
      else if (denied) await tellDenied(deps, denied);
    } catch (err) {
      log.warn("provisioner.record_returned", {
        ...(requestId ? { requestId } : {}),
        ...(job ? { jobId: job.id } : {}),
        ...(denied ? { requestId: denied.id } : {}),
        sequenceNumber: record.dynamodb?.SequenceNumber,
        error: err,
      });
      // Lambda retries from this record on; later records come again with it, so stop here.
      return {
        batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? "" }],
      };
    }
  }
  return { batchItemFailures: [] };
}

/** The request an admin just denied (PENDING → DENIED), or undefined for any other record. */
export function deniedRequest(record: DynamoDBRecord): AccessRequest | undefined {
  if (record.eventName !== "MODIFY") return undefined;
  const newImage = record.dynamodb?.NewImage;
  const oldImage = record.dynamodb?.OldImage;
  if (!newImage || !oldImage) return undefined;
  const next = unmarshall(newImage as never) as Record<string, unknown>;
  if (typeof next.pk !== "string" || !next.pk.startsWith("REQ#") || next.sk !== "META") return undefined;
  const prev = unmarshall(oldImage as never) as Record<string, unknown>;
  const { from, to } = DENY_NOTICE_TRANSITION;
  if (next.status !== to || prev.status !== from || typeof next.requesterUserId !== "string")
    return undefined;
  return next as unknown as AccessRequest;
}

/**
 * The requester's DM after a denial, with the admin's reason. A Slack error a retry can fix sends the
 * record back to Lambda (at worst one extra DM); a permanent one (e.g. user gone) is logged.
 * CANCELLED needs no DM (the requester did it), and a PENDING request that expires is told by the expiry job.
 */
export async function tellDenied(deps: ServiceDeps, request: AccessRequest): Promise<void> {
  try {
    await deps.notifier.dmUser(request.requesterUserId, deniedDm(deps.target, request));
  } catch (err) {
    if (isRetryable(err)) throw err;
    (deps.log ?? silentLogger).error("provisioner.denied_dm_not_sent", {
      requestId: request.id,
      error: err,
    });
  }
}

export type ProvisionResult =
  | ProvisionOutcome
  | { outcome: "failed"; request?: AccessRequest; reason: string };

/**
 * provisionRequest with in-process retries; FAILED (with reason + Retry button) after the last try.
 * Throws only when the record should go back to Lambda.
 */
export async function provisionWithRetries(
  deps: ServiceDeps,
  requestId: string,
  policy: RetryPolicy = {},
): Promise<ProvisionResult> {
  const log = deps.log ?? silentLogger;
  const result = await withRetries(() => provisionRequest(deps, requestId), policy, {
    async onAttemptFailed(err, attempt) {
      const reason = describeFailure(err);
      log.warn("provisioner.attempt_failed", { requestId, attempt, error: err, reason });
      try {
        await deps.store.recordAttempt(requestId, reason);
      } catch {
        // Bookkeeping only.
      }
    },
  });
  if (result.ok) return result.value;
  const lastError = result.error;
  // Someone else is working on this person; their finish or Lambda's redelivery sorts it out.
  if (lastError instanceof LockBusyError) throw lastError;
  // The record outlived its request (deleted by an operator): nothing to provision or mark.
  if (lastError instanceof NoSuchRequestToProvisionError) {
    log.warn("provisioner.request_missing", { requestId });
    return { outcome: "failed", reason: "request no longer exists" };
  }
  return markFailed(deps, requestId, describeFailure(lastError));
}

/** APPROVED → FAILED with the reason; the admin card shows it with a Retry button. */
export async function markFailed(
  deps: ServiceDeps,
  requestId: string,
  reason: string,
): Promise<ProvisionResult> {
  const log = deps.log ?? silentLogger;
  let failed: AccessRequest;
  try {
    failed = await deps.store.transition(requestId, {
      from: "APPROVED",
      to: "FAILED",
      actor: PROVISIONER_ACTOR,
      reason,
      patch: { failureReason: reason },
    });
  } catch (err) {
    // Not APPROVED any more (finished by a concurrent attempt, or revoked): nothing to mark.
    if (err instanceof TransitionConflictError) {
      return { outcome: "failed", reason: `not marked FAILED: request is ${err.current}` };
    }
    throw err;
  }
  const message = adminFailedMessage(targetSummary(deps), failed, reason);
  try {
    if (failed.adminMessage) {
      await deps.notifier.updateAdminMessage(failed.adminMessage, message);
    } else {
      const ref = await deps.notifier.postAdminChannel(message);
      await deps.store.annotate(requestId, { adminMessage: ref });
    }
  } catch (err) {
    // FAILED is recorded (and listed by `pending`/status); a Slack outage must not hide it in a retry loop.
    log.error("provisioner.failed_notice_not_sent", { requestId, error: err });
  }
  log.error("provisioner.request_failed", { requestId, reason });
  return { outcome: "failed", request: failed, reason };
}
