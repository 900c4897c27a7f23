/**
 * Admin jobs from the stream: the bot queues `/cytoskel revoke`, `reissue` and `close prefix` as one job item
 * (src/store/jobs.ts) and answers Slack at once; the INSERT record of that item lands here.
 *
 * - The job is claimed with one conditional update (QUEUED → RUNNING, leased until this invocation would
 *   be killed) and finished with another (RUNNING → DONE | FAILED). A redelivered record finds it
 *   claimed or finished and does nothing, so a re-issue never rotates keys twice.
 * - Revoke notifies the person and the admin channel itself (src/service/revoke.ts); re-issue DMs the new
 *   link and tells the admin channel here. The admin who asked gets the one-line result through the
 *   command's response_url (ephemeral, best effort: Slack keeps it for 30 minutes).
 * - Retries like provisioning (./retry.ts; the budget is stated in src/runtime/retry.ts). After the last
 *   try, or when the invocation has no time for another, the job is FAILED and the admin channel gets
 *   the reason. The record goes back to Lambda (and the job back to QUEUED) only when the person's lock
 *   stayed busy.
 * - The claim is hand-rolled (src/store/jobs.ts says why it is not Powertools' Idempotency).
 */

import type { DynamoDBRecord } from "aws-lambda";
import { closePrefix } from "../service/close.ts";
import { type ServiceDeps, silentLogger } from "../service/deps.ts";
import { describeFailure } from "../service/errors.ts";
import {
  adminJobFailedMessage,
  reissuedAdminPost,
  reissuedDm,
  type SlackMessage,
} from "../service/messages.ts";
import { NothingToReissueError, reissueCredentials } from "../service/reissue.ts";
import { revokeAccess } from "../service/revoke.ts";
import { LockBusyError } from "../service/user-lock.ts";
import { decodeStreamImage, type JobImage, requireFields } from "../store/stream-images.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import { isRedrive, QUEUED_JOB_STATE, REDRIVEN_JOB_STATES } from "./trigger-states.ts";

/** A job image with what running it needs. */
export type RunnableJob = JobImage & Required<Pick<JobImage, "actor">>;

/** Whether a job image queues work: the INSERT of a QUEUED job (claims and finishes are MODIFYs), or
 *  the reconciler's redrive of one not finished (`prev`: the record's old image). */
export function queuesJob(eventName: DynamoDBRecord["eventName"], job: JobImage, prev?: JobImage): boolean {
  if (eventName === "INSERT") return job.jobState === QUEUED_JOB_STATE;
  return (
    eventName === "MODIFY" &&
    (REDRIVEN_JOB_STATES as readonly string[]).includes(job.jobState) &&
    isRedrive(job, prev)
  );
}

/** The job a record queues, or undefined (also for a malformed image, which the handler reports). */
export function queuedJob(record: DynamoDBRecord): JobImage | undefined {
  try {
    const next = decodeStreamImage(record.dynamodb?.NewImage);
    const prev = decodeStreamImage(record.dynamodb?.OldImage);
    const before = prev?.kind === "job" ? prev.job : undefined;
    return next?.kind === "job" && queuesJob(record.eventName, next.job, before) ? next.job : undefined;
  } catch {
    return undefined;
  }
}

export type JobResult =
  | { outcome: "done"; text: string }
  | { outcome: "failed"; reason: string }
  | { outcome: "skipped"; state: string };

const DEFAULT_LEASE_MS = 15 * 60_000;

/**
 * Runs one queued job at most once to completion. Throws only when the record should go back to Lambda,
 * or MalformedImageError (before the claim) when the image lacks what the job needs.
 */
export async function runJobWithRetries(
  deps: ServiceDeps,
  image: JobImage,
  policy: RetryPolicy = {},
): Promise<JobResult> {
  const log = deps.log ?? silentLogger;
  const job: RunnableJob = requireFields(image, `job ${image.id}`, "actor");
  if (!deps.jobs) {
    log.error("provisioner.jobs_not_wired", { jobId: job.id, kind: job.kind });
    return { outcome: "skipped", state: "no job store" };
  }
  const leaseMs = policy.remainingTimeMs ? policy.remainingTimeMs() + 5_000 : DEFAULT_LEASE_MS;
  const claim = await deps.jobs.claim(job.id, { leaseMs });
  if (!claim.claimed) {
    const state = claim.job?.jobState ?? "gone";
    log.info("provisioner.job_skipped", { jobId: job.id, kind: job.kind, state });
    return { outcome: "skipped", state };
  }

  const result = await withRetries(() => runJob(deps, job), policy, {
    onAttemptFailed(err, attempt) {
      log.warn("provisioner.job_attempt_failed", {
        jobId: job.id,
        kind: job.kind,
        attempt,
        error: err,
        reason: describeFailure(err),
      });
    },
  });
  if (result.ok) {
    // Once the work is done it is never redone (a failed finish leaves the job RUNNING, which a
    // redelivered record skips until its lease lapses).
    await deps.jobs.finish(job.id, { jobState: "DONE", resultText: result.value });
    await answer(deps, job, { text: result.value });
    log.info("provisioner.job_done", { jobId: job.id, kind: job.kind, attempt: result.attempts });
    return { outcome: "done", text: result.value };
  }
  const lastError = result.error;
  // Someone else is changing this person's access: hand the job back and let Lambda redeliver it.
  if (lastError instanceof LockBusyError) {
    await deps.jobs.release(job.id);
    throw lastError;
  }
  if (result.stoppedBy === "deadline")
    log.warn("provisioner.job_out_of_time", { jobId: job.id, attempts: result.attempts });
  const reason = describeFailure(lastError);
  await deps.jobs.finish(job.id, { jobState: "FAILED", failureReason: reason });
  const message = adminJobFailedMessage(job, reason);
  try {
    await deps.notifier.postAdminChannel(message);
  } catch (err) {
    log.error("provisioner.job_failed_notice_not_sent", { jobId: job.id, error: err });
  }
  await answer(deps, job, message);
  log.error("provisioner.job_failed", { jobId: job.id, kind: job.kind, reason });
  return { outcome: "failed", reason };
}

/** The work itself; returns the line for the admin who asked. */
async function runJob(deps: ServiceDeps, job: RunnableJob): Promise<string> {
  if (job.kind === "close") {
    // Each person's revoke takes their lock; a failure is in the admin post (closing again finishes it).
    const result = await closePrefix(deps, {
      prefix: job.subPrefix ?? "",
      actor: job.actor,
      ...(job.reason ? { reason: job.reason } : {}),
    });
    return result.text;
  }
  if (job.kind === "revoke") {
    const result = await revokeAccess(deps, {
      userId: job.targetUserId,
      actor: job.actor,
      ...(job.subPrefix ? { subPrefix: job.subPrefix } : {}),
      ...(job.reason ? { reason: job.reason } : {}),
    });
    return result.text;
  }
  const audit = (deps.store as { audit?: { append(e: never): Promise<unknown> } }).audit;
  let result: Awaited<ReturnType<typeof reissueCredentials>>;
  try {
    result = await reissueCredentials(
      {
        iam: deps.iam,
        store: deps.store,
        secrets: deps.secrets,
        target: deps.target,
        secretLinkBaseUrl: deps.secretLinkBaseUrl,
        ...(deps.secretLinkTtlSeconds ? { secretLinkTtlSeconds: deps.secretLinkTtlSeconds } : {}),
        locks: deps.locks,
        ...(audit ? { audit } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      },
      { userId: job.targetUserId, actor: job.actor },
    );
  } catch (err) {
    if (err instanceof NothingToReissueError) {
      return `<@${job.targetUserId}> has no active access with delivered keys, so there is nothing to re-issue.`;
    }
    throw err;
  }
  // A failed DM retries the whole job: the new key is replaced again and only a delivered link counts.
  await deps.notifier.dmUser(
    job.targetUserId,
    reissuedDm(
      deps.target,
      { url: result.link.url, expiresAt: result.link.expiresAt.toISOString() },
      result.scopes,
    ),
  );
  const summary = {
    userId: job.targetUserId,
    actor: job.actor.id,
    accessKeyId: result.accessKeyId,
    retiredLinkCount: result.retiredLinkCount,
  };
  try {
    await deps.notifier.postAdminChannel(reissuedAdminPost(summary));
  } catch (err) {
    (deps.log ?? silentLogger).warn("reissue.admin_post_failed", {
      jobId: job.id,
      error: err,
    });
  }
  return reissuedAdminPost(summary).text;
}

/** The admin who asked, through the command's response_url; never fails the job. */
async function answer(deps: ServiceDeps, job: JobImage, message: SlackMessage): Promise<void> {
  const url = job.replyTo?.responseUrl;
  if (!url || !deps.notifier.respond) return;
  try {
    await deps.notifier.respond(url, message);
  } catch (err) {
    (deps.log ?? silentLogger).warn("provisioner.job_answer_failed", {
      jobId: job.id,
      error: err,
    });
  }
}
