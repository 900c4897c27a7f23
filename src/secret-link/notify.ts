// The onConsumed hook: tell the requester their link was opened, and record it in the audit trail.
// Both are attempted even if one fails; the handler logs a failure and still serves the reveal.
import type { NewAuditEvent } from "../store/types.ts";
import type { ConsumedEvent, ConsumedHook } from "./handler.ts";

/** The slice of Slack's WebClient this needs. */
export interface SlackPoster {
  chat: {
    postMessage(args: {
      channel: string;
      text: string;
      unfurl_links: boolean;
      unfurl_media: boolean;
    }): Promise<unknown>;
  };
}

export interface AuditAppender {
  append(event: NewAuditEvent): Promise<unknown>;
}

export const AUDIT_ACTION_CONSUMED = "secret.consumed";

export class ConsumedNotificationError extends Error {
  override readonly name = "ConsumedNotificationError";
  constructor(
    readonly failed: ("dm" | "audit")[],
    options?: { cause?: unknown },
  ) {
    super(`after a secret link was opened, these failed: ${failed.join(", ")}`, options);
  }
}

/** Slack renders the date in the reader's time zone; the fallback is UTC. */
export function openedMessage(consumedAt: Date): string {
  const epoch = Math.floor(consumedAt.getTime() / 1000);
  const fallback = `${consumedAt.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  return (
    `Your cytoskel credentials link was opened at <!date^${epoch}^{date_short_pretty} {time_secs}|${fallback}>. ` +
    "If this wasn't you, tell an admin right away: they can re-issue your credentials, " +
    "which switches off the old access key."
  );
}

export function consumedAuditEvent(event: ConsumedEvent): NewAuditEvent {
  return {
    requestId: event.requestId,
    subjectUserId: event.requesterUserId,
    // Whoever clicked Reveal is unknown; the secret-link service is what acted.
    actor: { kind: "system", id: "secret-link" },
    action: AUDIT_ACTION_CONSUMED,
    at: event.consumedAt.toISOString(),
  };
}

export function createConsumedNotifier(deps: { slack: SlackPoster; audit: AuditAppender }): ConsumedHook {
  return async (event) => {
    const [dm, audit] = await Promise.allSettled([
      deps.slack.chat.postMessage({
        // A user ID as channel lands in the app's DM with that user.
        channel: event.requesterUserId,
        text: openedMessage(event.consumedAt),
        unfurl_links: false,
        unfurl_media: false,
      }),
      deps.audit.append(consumedAuditEvent(event)),
    ]);
    const failed: ("dm" | "audit")[] = [];
    if (dm.status === "rejected") failed.push("dm");
    if (audit.status === "rejected") failed.push("audit");
    if (failed.length > 0) {
      const reasons = [dm, audit].flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
      throw new ConsumedNotificationError(failed, { cause: reasons.length === 1 ? reasons[0] : reasons });
    }
  };
}
