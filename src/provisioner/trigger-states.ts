// The states that make a stream record the provisioner's work. The handler's record tests
// (./handler.ts) and the stack's stream filter (cdk/lib/constructs/provisioner-trigger.ts) both read
// them, so Lambda never drops a record the handler would act on.
import type { JobState } from "../store/jobs.ts";
import type { AccessRequest } from "../store/types.ts";

type RequestStatus = AccessRequest["status"];

/** A request entering one of these (INSERT, or MODIFY from any other state) is provisioned. */
export const PROVISION_TRIGGER_STATUSES = ["APPROVED"] as const satisfies readonly RequestStatus[];

/** This transition DMs the requester the admin's reason. */
export const DENY_NOTICE_TRANSITION = { from: "PENDING", to: "DENIED" } as const satisfies {
  readonly from: RequestStatus;
  readonly to: RequestStatus;
};

/** A job item (revoke / re-issue, queued by the bot) inserted in this state is run once. */
export const QUEUED_JOB_STATE = "QUEUED" satisfies JobState;

export function isProvisionTrigger(status: unknown): boolean {
  return (PROVISION_TRIGGER_STATUSES as readonly unknown[]).includes(status);
}

/**
 * The attribute the reconciler sets (src/service/reconcile.ts) to drive a stuck item once more: a request
 * still APPROVED, or a job still QUEUED / RUNNING, whose `redriveAt` changed is acted on as if its first
 * record came again (the same idempotent path). Records that carry it unchanged are ignored.
 */
export const REDRIVE_ATTRIBUTE = "redriveAt";

/** The job states a redrive runs (a RUNNING job only gets claimed when its lease lapsed). */
export const REDRIVEN_JOB_STATES = ["QUEUED", "RUNNING"] as const satisfies readonly JobState[];

export function isRedrive(
  next: { redriveAt?: string } | undefined,
  prev: { redriveAt?: string } | undefined,
): boolean {
  return next?.redriveAt !== undefined && next.redriveAt !== prev?.redriveAt;
}
