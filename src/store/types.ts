// Records the store reads and writes. Field names are the item attribute names (see table.ts).
import type { AccessTerms } from "../rules/change.ts";
import type { Actor, RequestStatus } from "../rules/lifecycle.ts";
import type { Permission } from "../rules/permission.ts";

export type ProgressStep = "iamUser" | "accessKey" | "grant" | "secret" | "dm";
export const PROGRESS_STEPS: readonly ProgressStep[] = ["iamUser", "accessKey", "grant", "secret", "dm"];

/** What the provisioner keeps per step so a retry resumes. Never a secret access key (refused at runtime). */
export interface ProgressData {
  iamUser: { userName: string; userArn: string; created?: boolean };
  /** `accessKeyId` absent when the person already holds a delivered key and none was made. */
  accessKey: { accessKeyId?: string; created: boolean };
  grant: { grantId: string; grantArn?: string; created?: boolean };
  /** Secret-link id (not its key) and when it expires (epoch seconds). */
  secret: { linkId: string; expiresAt: number };
  dm: { channel: string; ts: string };
}

/** Several steps' data, written together (one transaction, one audit event per step). */
export type ProgressUpdate = { [S in ProgressStep]?: ProgressData[S] };

export type ProgressEntry<S extends ProgressStep> = ProgressData[S] & { at: string };
export type Progress = { [S in ProgressStep]?: ProgressEntry<S> };

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface LastTransition {
  from: RequestStatus;
  to: RequestStatus;
  actor: Actor;
  at: string;
  reason?: string;
}

export interface AccessRequest {
  id: string;
  requesterUserId: string;
  requesterTeamId: string;
  /** Normalised sub-prefix, e.g. "cpg0042/*". Together with the requester it is the duplicate key. */
  subPrefix: string;
  permission: Permission;
  durationDays?: number;
  reason?: string;
  status: RequestStatus;
  /** ISO-8601 UTC times. */
  createdAt: string;
  updatedAt: string;
  /** When the grant ends (set by the caller on → ACTIVE, e.g. with computeExpiresAt). */
  expiresAt?: string;
  decidedBy?: string;
  decidedAt?: string;
  activatedAt?: string;
  closedBy?: string;
  closedAt?: string;
  lastTransition?: LastTransition;
  progress: Progress;
  /** Provisioning attempts so far, and the last error text (no secrets). */
  attempts: number;
  lastError?: string;
  failureReason?: string;
  /** Why it FAILED in plain words for the requester (src/service/errors.ts); never AWS or Slack text. */
  failureSummary?: string;
  /** When the requester was told that provisioning failed: once per request, a retry that fails again is not re-told. */
  failureNotifiedAt?: string;
  adminMessage?: SlackMessageRef;
  reminderSentAt?: string;
  /** While PENDING: when the expiry job last re-announced it to the admin channel (src/service/reminders.ts). */
  announcedAt?: string;
  /** While APPROVED: when the reconciler last drove it again (its stream record re-triggers provisioning). */
  redriveAt?: string;
  /** While PENDING without a recorded card: when the reconciler claimed posting it. */
  cardClaimedAt?: string;
  /** Set only while ACTIVE (feeds the activeByUser index); equals requesterUserId. */
  activeUserId?: string;
  /** A change request (extension / upgrade, src/rules/change.ts): the ACTIVE request it changes. */
  changeOf?: string;
  /** The held request's terms when the change was asked, and what the change makes them (the card's
   *  old → new; an admin shortening on approval rewrites `changeTo`). */
  changeFrom?: AccessTerms;
  changeTo?: AccessTerms;
}

/** What makes a new request a change request (the held request it changes, old → new terms). */
export interface ChangeOfHeld {
  of: string;
  from: AccessTerms;
  to: AccessTerms;
}

export interface NewRequestInput {
  /** Defaults to a random UUID. */
  id?: string;
  requesterUserId: string;
  requesterTeamId: string;
  subPrefix: string;
  permission: Permission;
  durationDays?: number;
  reason?: string;
  /** Files a change request for a held scope: its duplicate check is the scope's one open change. */
  change?: ChangeOfHeld;
  /** Records access that already exists (a grant made or found by the admin CLI): the request is written
   *  ACTIVE at once, never PENDING or APPROVED, so the provisioner never acts on it. */
  adopted?: AdoptedGrant;
}

/** What an adopted request records instead of going through approval and provisioning. */
export interface AdoptedGrant {
  /** Who recorded it (the operator, kind admin). */
  actor: Actor;
  grant: ProgressData["grant"];
  /** It ends (expiresAt) this many days after it is recorded, by the store's clock. */
  days: number;
  /** Where it came from, in the audit event's details, e.g. "cli" or "sync". */
  source: string;
}

export interface CreateResult {
  request: AccessRequest;
  /** false: an open request (PENDING/APPROVED/ACTIVE) for the same requester and scope was returned. */
  created: boolean;
}

/** Fields a transition may set besides those the lifecycle stamps. */
export interface TransitionPatch {
  expiresAt?: string;
  failureReason?: string;
  /** With → FAILED: the requester's plain-words reason (removed, like failureReason, when it leaves FAILED). */
  failureSummary?: string;
  /** Where the admin card is, learned from the click that decides; kept in the same conditional write. */
  adminMessage?: SlackMessageRef;
  /** An admin approving a change for a shorter duration: the new terms and days, in the same write. */
  changeTo?: AccessTerms;
  durationDays?: number;
}

/** What applying an approved change writes on the held request (src/service/change.ts). */
export interface AppliedChange {
  /** The held request as read under the person's lock (the write is conditioned on its updatedAt). */
  held: AccessRequest;
  /** The APPROVED change request as read (likewise). */
  change: AccessRequest;
  to: AccessTerms;
  /** The grant that now serves the held request, when it changed. */
  grant?: ProgressData["grant"];
  /** The DM that told the person, recorded on the change request. */
  dm?: ProgressData["dm"];
  actor: Actor;
}

export interface TransitionInput {
  /** The state the caller believes the request is in; the write is conditional on it. */
  from: RequestStatus;
  to: RequestStatus;
  actor: Actor;
  reason?: string;
  patch?: TransitionPatch;
  /** The request as the caller holds it: saves the store's read (the transaction is conditioned on its
   *  `updatedAt`, so a stale copy is detected and replaced, never written back). */
  current?: AccessRequest;
  /** Provisioning steps recorded in the same transaction (each with its audit event), e.g. the DM
   *  with → ACTIVE: the two commit together or not at all. */
  progress?: ProgressUpdate;
  /** Judges the request the write is conditioned on (the stored one, or a copy the condition pins by
   *  status, updatedAt and requester); throws to refuse, writing nothing. Who may act on whose request
   *  is decided here, never on what a button claims. */
  guard?: (request: AccessRequest) => void;
}

/** Non-state facts kept on the request (no audit event: they change no access). */
export interface RequestAnnotations {
  adminMessage?: SlackMessageRef;
  reminderSentAt?: string;
  failureNotifiedAt?: string;
}

export interface AuditEvent {
  id: string;
  at: string;
  requestId?: string;
  /** Whose access the event is about (the requester). */
  subjectUserId: string;
  actor: Actor;
  /** e.g. "request.created", "request.transition", "progress.grant", "secret.consumed". */
  action: string;
  from?: RequestStatus;
  to?: RequestStatus;
  reason?: string;
  /** The normalised sub-prefix the event concerns (e.g. "cpg0042/*"); feeds the auditByDataset index. */
  scope?: string;
  details?: Record<string, string | number | boolean>;
}

export type NewAuditEvent = Omit<AuditEvent, "id" | "at"> & { at?: string };

export interface SecretRecord {
  id: string;
  /** base64url ciphertext and IV; the key never reaches the store. */
  ciphertext: string;
  iv: string;
  /** Epoch seconds. */
  expiresAt: number;
  requestId: string;
  requesterUserId: string;
}

export interface PageOptions {
  /** Page size (default 100). */
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow. */
  cursor?: string;
}
