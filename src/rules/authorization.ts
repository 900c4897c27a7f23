/**
 * Who may do what in Slack. Pure: the caller resolves admin membership (config IDs plus an
 * optional user group) and passes facts in; identity is always the Slack user ID from the
 * signed payload, never a display name.
 */

export type GuardedAction =
  | "approve"
  | "deny"
  | "retry"
  | "revoke"
  | "pending"
  | "reissue"
  | "cancel"
  | "audit"
  | "close";

export type Refusal = "NOT_ADMIN" | "SELF_APPROVAL" | "NOT_REQUESTER";

export type Verdict = { allowed: true } | { allowed: false; refusal: Refusal };

export interface AdminDirectory {
  /** Slack user IDs listed in config (ADMIN_USER_IDS). */
  readonly userIds: readonly string[];
  /** Members of the optional admin user group, when configured and known. */
  readonly groupMemberIds?: readonly string[];
}

export function isAdmin(userId: string, admins: AdminDirectory): boolean {
  if (!userId) return false;
  return admins.userIds.includes(userId) || (admins.groupMemberIds?.includes(userId) ?? false);
}

export interface AuthorizationFacts {
  action: GuardedAction;
  actorUserId: string;
  actorIsAdmin: boolean;
  /** The request's owner, for actions on one request. */
  requesterUserId?: string;
  allowSelfApproval: boolean;
}

const ALLOWED: Verdict = { allowed: true };

export function authorize(facts: AuthorizationFacts): Verdict {
  const { action, actorUserId, actorIsAdmin, requesterUserId } = facts;
  switch (action) {
    case "cancel":
      // Only the requester withdraws a request; an admin who wants it gone denies it (audited as such).
      return requesterUserId !== undefined && requesterUserId === actorUserId
        ? ALLOWED
        : { allowed: false, refusal: "NOT_REQUESTER" };
    case "approve":
    case "retry":
      if (!actorIsAdmin) return { allowed: false, refusal: "NOT_ADMIN" };
      // Approving one's own request is the one thing separation of duties forbids (a Retry re-approves a
      // FAILED one, so it is the same decision); denying it is harmless.
      if (!facts.allowSelfApproval && requesterUserId !== undefined && requesterUserId === actorUserId) {
        return { allowed: false, refusal: "SELF_APPROVAL" };
      }
      return ALLOWED;
    case "deny":
    case "revoke":
    case "pending":
    case "reissue":
    case "audit":
    case "close":
      return actorIsAdmin ? ALLOWED : { allowed: false, refusal: "NOT_ADMIN" };
  }
}

const ADMIN_ACTION_WORDS: Partial<Record<GuardedAction, string>> = {
  pending: "list pending requests",
  audit: "read the audit trail",
  close: "close a prefix",
};

/** User-facing explanation of a refusal (the single place these words live). */
export function refusalText(refusal: Refusal, action: GuardedAction): string {
  switch (refusal) {
    case "NOT_ADMIN":
      return `Only cytoskel admins can ${ADMIN_ACTION_WORDS[action] ?? action} — nothing was changed.`;
    case "SELF_APPROVAL":
      return `You can't ${action === "retry" ? "retry" : "approve"} your own request; another admin has to. Nothing was changed.`;
    case "NOT_REQUESTER":
      return "You can only cancel your own requests. Nothing was changed.";
  }
}

/** A refusal found where the write is decided (on the stored request), carried out as an error. */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
  constructor(
    readonly refusal: Refusal,
    readonly action: GuardedAction,
  ) {
    super(refusalText(refusal, action));
  }
}
