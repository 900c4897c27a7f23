/**
 * The provisioner's work per DynamoDB stream batch, apart from the Lambda entry (config, clients).
 *
 * Three kinds of record do something; every other one (progress writes APPROVED → APPROVED, locks,
 * audit events, secrets, job claims) is ignored:
 *  - a request whose NEW image is APPROVED and OLD image was not (first approval, or an admin's Retry
 *    from FAILED) is provisioned;
 *  - the INSERT of an admin job (revoke / re-issue, queued by the bot) runs it once (./jobs.ts);
 *  - PENDING → DENIED DMs the requester, with the admin's reason;
 *  - the reconciler's redrive (a changed `redriveAt`) of a request still APPROVED or a job not finished
 *    is acted on like the first record, which was lost (src/service/reconcile.ts).
 * Images are decoded through one schema (src/store/stream-images.ts), never cast.
 *
 * Each request gets in-process retries (./retry.ts; the budget across the SDK, this and Lambda is
 * stated in src/runtime/retry.ts). After the last try, or when the invocation has no time for another,
 * it moves to FAILED with a reason, the admin card shows the reason and a Retry button, and the requester
 * gets one DM in plain words (once per request: see markFailed). A record is
 * handed back to Lambda (batchItemFailures → retried from there, in order) only when the person's lock
 * stayed busy, when too little time is left to start it, or when even FAILED could not be written.
 *
 * The batch loop is hand-rolled, not Powertools' BatchProcessor: that one runs every record and reports
 * each failure, but Lambda resumes a stream shard from the first failed record, so the records after it
 * would run now AND again on redelivery, out of order for their person (a revoke job overtaking the
 * approval it follows). Here processing stops at the first record handed back, and it and everything
 * after it come again in order.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { deniedChangeDm } from "../service/change-messages.ts";
import { nowOf, PROVISIONER_ACTOR, type ServiceDeps, silentLogger } from "../service/deps.ts";
import { describeFailure, describeFailureForRequester, isRetryable } from "../service/errors.ts";
import { adminFailedMessage, deniedDm, provisioningFailedDm } from "../service/messages.ts";
import {
  NoSuchRequestToProvisionError,
  type ProvisionOutcome,
  provisionRequest,
  targetSummary,
} from "../service/provision.ts";
import { LockBusyError } from "../service/user-lock.ts";
import { TransitionConflictError } from "../store/errors.ts";
import {
  decodeStreamImage,
  type JobImage,
  MalformedImageError,
  type RequestImage,
  requireFields,
  type StreamImage,
} from "../store/stream-images.ts";
import type { AccessRequest, RequestAnnotations } from "../store/types.ts";
import { queuesJob, runJobWithRetries } from "./jobs.ts";
import { hasTimeForAttempt, type RetryPolicy, retriedByWebClient, withRetries } from "./retry.ts";
import { DENY_NOTICE_TRANSITION, isProvisionTrigger, isRedrive } from "./trigger-states.ts";

export type { RetryPolicy } from "./retry.ts";

/** What one stream record asks of the provisioner. */
export type RecordAction =
  | { action: "provision"; requestId: string }
  | { action: "job"; job: JobImage }
  | { action: "deny"; request: RequestImage }
  | { action: "malformed"; error: MalformedImageError }
  | { action: "none" };

/** Decodes a record's images (one schema) and picks what to do; never throws. */
export function recordAction(record: DynamoDBRecord): RecordAction {
  let next: StreamImage | undefined;
  let prev: StreamImage | undefined;
  try {
    next = decodeStreamImage(record.dynamodb?.NewImage);
    prev = decodeStreamImage(record.dynamodb?.OldImage);
  } catch (err) {
    if (err instanceof MalformedImageError) return { action: "malformed", error: err };
    throw err;
  }
  const event = record.eventName;
  if (next?.kind === "job") {
    const before = prev?.kind === "job" ? prev.job : undefined;
    return queuesJob(event, next.job, before) ? { action: "job", job: next.job } : { action: "none" };
  }
  if (next?.kind !== "request" || (event !== "INSERT" && event !== "MODIFY")) return { action: "none" };
  const old = prev?.kind === "request" ? prev.request : undefined;
  const before = old?.status;
  if (isProvisionTrigger(next.request.status) && !isProvisionTrigger(before))
    return { action: "provision", requestId: next.request.id };
  // The reconciler drove a request stuck in APPROVED once more (its first record was lost).
  if (event === "MODIFY" && isProvisionTrigger(next.request.status) && isRedrive(next.request, old))
    return { action: "provision", requestId: next.request.id };
  const { from, to } = DENY_NOTICE_TRANSITION;
  if (event === "MODIFY" && next.request.status === to && before === from)
    return { action: "deny", request: next.request };
  return { action: "none" };
}

/** The request ID to provision for this record, or undefined when the record is not an approval. */
export function approvedRequestId(record: DynamoDBRecord): string | undefined {
  const a = recordAction(record);
  return a.action === "provision" ? a.requestId : undefined;
}

/** The request an admin just denied (PENDING → DENIED), or undefined for any other record. */
export function deniedRequest(record: DynamoDBRecord): RequestImage | undefined {
  const a = recordAction(record);
  return a.action === "deny" ? a.request : undefined;
}

export async function handleProvisionerEvent(
  deps: ServiceDeps,
  event: DynamoDBStreamEvent,
  policy: RetryPolicy = {},
): Promise<DynamoDBBatchResponse> {
  const log = deps.log ?? silentLogger;
  const records = event.Records ?? [];
  for (const [index, record] of records.entries()) {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const action = recordAction(record);
    if (action.action === "none") continue;
    // A malformed image is skipped with its reason, like every record the provisioner cannot act on (a
    // request that no longer exists, a permanent Slack error): the image is fixed in the stream, so
    // Lambda's redeliveries would fail the same way and hold up the person's later records until the
    // record reached the DLQ. The error names the bad field; the item itself stays in the table as it is.
    if (action.action === "malformed") {
      log.error("provisioner.malformed_image", {
        eventName: record.eventName,
        sequenceNumber,
        keys: record.dynamodb?.Keys,
        field: action.error.field,
        error: action.error,
      });
      continue;
    }
    // Not even one attempt fits: hand this record (and the rest, which Lambda sends again with it) back
    // untouched, before any call is made, rather than start work the timeout would cut off.
    if (!hasTimeForAttempt(policy)) {
      log.warn("provisioner.out_of_time", { sequenceNumber, left: records.length - index });
      return { batchItemFailures: [{ itemIdentifier: sequenceNumber ?? record.eventID ?? "" }] };
    }
    try {
      if (action.action === "provision") await provisionWithRetries(deps, action.requestId, policy);
      else if (action.action === "job") await runJobWithRetries(deps, action.job, policy);
      else await tellDenied(deps, action.request);
    } catch (err) {
      if (err instanceof MalformedImageError) {
        log.error("provisioner.malformed_image", { sequenceNumber, field: err.field, error: err });
        continue;
      }
      log.warn("provisioner.record_returned", {
        ...(action.action === "provision" ? { requestId: action.requestId } : {}),
        ...(action.action === "job" ? { jobId: action.job.id } : {}),
        ...(action.action === "deny" ? { requestId: action.request.id } : {}),
        sequenceNumber,
        error: err,
      });
      // Lambda retries from this record on; later records come again with it, so stop here.
      return { batchItemFailures: [{ itemIdentifier: sequenceNumber ?? record.eventID ?? "" }] };
    }
  }
  return { batchItemFailures: [] };
}

/**
 * The requester's DM after a denial, with the admin's reason. A Slack platform error a retry can fix
 * sends the record back to Lambda (at worst one extra DM), the only layer that retries it; a permanent
 * one (e.g. user gone), or a transport error the WebClient already retried, is logged.
 * CANCELLED needs no DM (the requester did it), and a PENDING request that expires is told by the expiry job.
 */
export async function tellDenied(deps: ServiceDeps, image: RequestImage): Promise<void> {
  const request = requireFields(image, `request ${image.id}`, "requesterUserId", "subPrefix", "permission");
  try {
    // A denied change leaves the access held as it is, and says so.
    const message = request.changeOf ? deniedChangeDm(deps.target, request) : deniedDm(deps.target, request);
    await deps.notifier.dmUser(request.requesterUserId, message);
  } catch (err) {
    if (isRetryable(err) && !retriedByWebClient(err)) throw err;
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
  if (result.ok) {
    const done = result.value;
    // A redelivered approval of a request already FAILED: an earlier delivery marked it and died before
    // the requester was told. Tell them now; once recorded, later redeliveries send nothing.
    if (done.outcome === "skipped" && done.request.status === "FAILED" && !done.request.failureNotifiedAt) {
      const toldAt = await tellRequesterFailed(deps, done.request);
      if (toldAt) await annotateQuietly(deps, requestId, { failureNotifiedAt: toldAt });
    }
    return done;
  }
  const lastError = result.error;
  // Someone else is working on this person (the lock's wait already ran out, so not retried here);
  // their finish or Lambda's redelivery sorts it out.
  if (lastError instanceof LockBusyError) throw lastError;
  if (result.stoppedBy === "deadline")
    log.warn("provisioner.out_of_time", { requestId, attempts: result.attempts });
  // The record outlived its request (deleted by an operator): nothing to provision or mark.
  if (lastError instanceof NoSuchRequestToProvisionError) {
    log.warn("provisioner.request_missing", { requestId });
    return { outcome: "failed", reason: "request no longer exists" };
  }
  return markFailed(deps, requestId, describeFailure(lastError), describeFailureForRequester(lastError));
}

/**
 * APPROVED → FAILED with the reason; the admin card shows it with a Retry button, and the requester gets
 * one DM in plain words (`forRequester`, also kept for `status`). Writes: the transition, then at most one
 * annotate carrying what was learned after it (the card posted, the requester told). A retry that fails
 * again finds failureNotifiedAt on the request and does not DM again.
 */
export async function markFailed(
  deps: ServiceDeps,
  requestId: string,
  reason: string,
  forRequester: string = describeFailureForRequester(undefined),
): Promise<ProvisionResult> {
  const log = deps.log ?? silentLogger;
  let failed: AccessRequest;
  try {
    failed = await deps.store.transition(requestId, {
      from: "APPROVED",
      to: "FAILED",
      actor: PROVISIONER_ACTOR,
      reason,
      patch: { failureReason: reason, failureSummary: forRequester },
    });
  } catch (err) {
    // Not APPROVED any more (finished by a concurrent attempt, or revoked): nothing to mark.
    if (err instanceof TransitionConflictError) {
      return { outcome: "failed", reason: `not marked FAILED: request is ${err.current}` };
    }
    throw err;
  }
  const learned: RequestAnnotations = {};
  const message = adminFailedMessage(targetSummary(deps), failed, reason);
  try {
    if (failed.adminMessage) {
      await deps.notifier.updateAdminMessage(failed.adminMessage, message);
    } else {
      learned.adminMessage = await deps.notifier.postAdminChannel(message);
    }
  } catch (err) {
    // FAILED is recorded (and listed by `pending`/status); a Slack outage must not hide it in a retry loop.
    log.error("provisioner.failed_notice_not_sent", { requestId, error: err });
  }
  if (!failed.failureNotifiedAt) {
    const toldAt = await tellRequesterFailed(deps, failed);
    if (toldAt) learned.failureNotifiedAt = toldAt;
  }
  if (Object.keys(learned).length > 0) await annotateQuietly(deps, requestId, learned);
  log.error("provisioner.request_failed", { requestId, reason });
  return { outcome: "failed", request: failed, reason };
}

/** The requester's one failure DM; the time it was sent, or undefined when Slack refused (logged). */
async function tellRequesterFailed(deps: ServiceDeps, failed: AccessRequest): Promise<string | undefined> {
  const summary = failed.failureSummary ?? describeFailureForRequester(undefined);
  try {
    await deps.notifier.dmUser(failed.requesterUserId, provisioningFailedDm(deps.target, failed, summary));
    return nowOf(deps).toISOString();
  } catch (err) {
    (deps.log ?? silentLogger).error("provisioner.failed_dm_not_sent", { requestId: failed.id, error: err });
    return undefined;
  }
}

/** Bookkeeping after the fact: losing it costs at most one repeated notice, never a state change. */
async function annotateQuietly(deps: ServiceDeps, requestId: string, fields: RequestAnnotations) {
  try {
    await deps.store.annotate(requestId, fields);
  } catch (err) {
    (deps.log ?? silentLogger).error("provisioner.annotate_failed", { requestId, error: err });
  }
}
