/**
 * What the service layer needs from the outside, passed in by entry points (Lambda handlers, the CLI,
 * the playground, tests). The store is described by the few methods used here, so the real
 * RequestStore fits and nothing in the service layer creates clients.
 */

import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { CreateGrantInput } from "../aws/access-grants.ts";
import type { Target } from "../config/targets.ts";
import type { Logger } from "../log.ts";
import type { Actor, RequestStatus } from "../rules/lifecycle.ts";
import type { SecretLinkWriter } from "../secret-link/issue.ts";
import type { Job } from "../store/jobs.ts";
import type {
  AccessRequest,
  AppliedChange,
  Page,
  PageOptions,
  ProgressData,
  ProgressStep,
  ProgressUpdate,
  RequestAnnotations,
  SecretRecord,
  SlackMessageRef,
  TransitionInput,
} from "../store/types.ts";
import type { Notifier } from "./notifier.ts";
import type { SweepFailureStorePort } from "./sweep-failures.ts";
import type { UserLocks } from "./user-lock.ts";

export interface RequestStorePort {
  get(id: string): Promise<AccessRequest | undefined>;
  transition(id: string, input: TransitionInput): Promise<AccessRequest>;
  recordProgress<S extends ProgressStep>(id: string, step: S, data: ProgressData[S]): Promise<unknown>;
  /** Several steps in one transaction, with the one-time secret they name when given; `current` saves
   *  the read. Returns the request as written (the next write's `current`). */
  recordProgressSteps(
    id: string,
    steps: ProgressUpdate,
    opts?: { current?: AccessRequest; secret?: SecretRecord },
  ): Promise<AccessRequest>;
  annotate(id: string, annotations: RequestAnnotations): Promise<unknown>;
  /** Counts a provisioning attempt and keeps its error text (no secrets). */
  recordAttempt(id: string, error?: string): Promise<unknown>;
  listByRequester(userId: string, page?: PageOptions): Promise<Page<AccessRequest>>;
  listActiveByUser(userId: string, page?: PageOptions): Promise<Page<AccessRequest>>;
  listActiveExpiringBefore(iso: string, page?: PageOptions): Promise<Page<AccessRequest>>;
  listPending(page?: PageOptions): Promise<Page<AccessRequest>>;
  /** Requests in one state (closing a prefix lists the ACTIVE ones: src/service/close.ts). */
  listByStatus(status: RequestStatus, page?: PageOptions): Promise<Page<AccessRequest>>;
  /** An approved change applied to the request it changes, in one transaction (src/service/change.ts). */
  applyChange(input: AppliedChange): Promise<{ held: AccessRequest; change: AccessRequest }>;
  /** Conditional marks of the pending-request reminders (src/service/reminders.ts). */
  claimAnnouncement(id: string, seen: string | undefined, at: string): Promise<boolean>;
  releaseAnnouncement(id: string, mine: string, previous: string | undefined): Promise<boolean>;
  /** The reconciler's marks (src/service/reconcile.ts): drive a stuck APPROVED request again; claim
   *  posting a card that was never recorded, and record it. */
  markRedrive(id: string, seen: Pick<AccessRequest, "updatedAt" | "redriveAt">, at: string): Promise<boolean>;
  claimCardPost(id: string, seen: string | undefined, at: string): Promise<boolean>;
  recordAdminCard(id: string, card: SlackMessageRef): Promise<boolean>;
}

/** Queued admin jobs (src/store/jobs.ts); the provisioner claims and finishes them. */
export interface JobStorePort {
  claim(
    id: string,
    opts: { leaseMs: number },
  ): Promise<{ claimed: true; job: Job } | { claimed: false; job: Job | undefined }>;
  release(id: string): Promise<unknown>;
  /** Jobs not finished, and driving one whose record was lost again (src/service/reconcile.ts). */
  listOpen(page?: PageOptions): Promise<Page<Job>>;
  markRedrive(
    id: string,
    seen: Pick<Job, "jobState" | "updatedAt" | "redriveAt">,
    at: string,
  ): Promise<boolean>;
  finish(
    id: string,
    outcome: { jobState: "DONE"; resultText: string } | { jobState: "FAILED"; failureReason: string },
  ): Promise<boolean>;
}

export interface SecretStorePort extends SecretLinkWriter {
  /** Used to invalidate a link whose keys were replaced (a crashed attempt's link). */
  consume(id: string, nowEpochSeconds: number): Promise<unknown>;
}

/**
 * Points where tests inject a crash ("the process died right after this"). Production passes none.
 * Provisioning writes twice (src/service/provision.ts), so most points fire before anything of their
 * step is recorded; what a retry rediscovers instead is said for each:
 * - iamUser: the user exists and is in the group (CreateUser → EntityAlreadyExists → GetUser).
 * - accessKey: a fresh key was made (an undelivered key: the retry deletes it), or a held one found.
 * - grant: the grant exists (the retry lists the user's grants and reuses the covering one).
 * - secret: the first write committed: the secret item and the progress so far (user, key, grant, link).
 * - dmPosted: Slack accepted the DM, nothing more recorded (the documented residual window).
 * - active: the second write committed: the DM's progress and → ACTIVE, together.
 *
 * Applying an approved change (src/service/change.ts) has its own points; before the last nothing about
 * the change is recorded:
 * - changeGrantCreated: the grant with the new permission exists, the old one too (the retry finds the
 *   new one covering, creates nothing, and deletes the old one).
 * - changeGrant: the grant with the new permission exists and the old one was deleted (the retry finds
 *   the new one covering and the old one gone).
 * - changeDmPosted: the person was told (the retry tells them once more: the documented window).
 * - changeApplied: the held request has its new terms and the change is APPLIED (the retry skips it).
 */
export type CrashPoint =
  | "iamUser"
  | "accessKey"
  | "grant"
  | "secret"
  | "dmPosted"
  | "active"
  | "changeGrantCreated"
  | "changeGrant"
  | "changeDmPosted"
  | "changeApplied";

export interface ServiceHooks {
  at?(point: CrashPoint, requestId: string): void | Promise<void>;
}

export type ServiceLogger = Logger;

export interface ServiceDeps {
  store: RequestStorePort;
  secrets: SecretStorePort;
  iam: IAMClient;
  s3control: S3ControlClient;
  accountId: string;
  target: Target;
  /** The Access Grants location registered for target.locationScope (the stack's ACCESS_GRANTS_LOCATION_ID). */
  locationId: string;
  notifier: Notifier;
  locks: UserLocks;
  /** Admin jobs (revoke / re-issue) queued by the bot; the provisioner runs them from the stream. */
  jobs?: JobStorePort;
  /** The scheduled job's record of failure kinds already posted (reported once per kind). */
  sweepFailures?: SweepFailureStorePort;
  /** Origin of the secret-link service, e.g. https://abc.lambda-url.us-east-1.on.aws */
  secretLinkBaseUrl: string;
  secretLinkTtlSeconds?: number;
  now?: () => Date;
  hooks?: ServiceHooks;
  log?: ServiceLogger;
}

export const PROVISIONER_ACTOR: Actor = { kind: "system", id: "provisioner" };
export const EXPIRY_ACTOR: Actor = { kind: "system", id: "expiry" };

/** Lock name shared by every change to one person's IAM user, keys and grants (Slack user IDs are
 *  unique across teams, and revoke may not know the team). */
export function personLockName(userId: string): string {
  return `PERSON#${userId}`;
}

/** Kept as names of this layer; the one implementation is src/log.ts. */
export { jsonLogger as consoleLogger, silentLogger } from "../log.ts";

/** The location grants are made under: its ID, and the scope their sub-prefixes are relative to. */
export function grantLocation(
  deps: Pick<ServiceDeps, "locationId" | "target">,
): CreateGrantInput["location"] {
  return { id: deps.locationId, scope: deps.target.locationScope };
}

export function nowOf(deps: Pick<ServiceDeps, "now">): Date {
  return deps.now ? deps.now() : new Date();
}
