// Every message cytoskel sends to Slack, built with hostile text in every field a person (or AWS/Slack
// text that may echo a person) can fill: no mention, ping, channel link or disguised link from that
// text may survive — in the blocks or in the `text` notification fallback (./hostile.ts). The builders'
// own mentions of validated IDs stay. IDs a person cannot choose (request IDs we make, user IDs
// validated at filing) are left plain here; IDs that arrive with a click or a command are hostile.
// A new exported function in these modules fails the first test until it gets a case here (or is named
// as not building Slack text).
import { describe, expect, it } from "vitest";
import * as auditView from "../../src/bot/audit-view.ts";
import * as changeViews from "../../src/bot/change-views.ts";
import * as errors from "../../src/bot/errors.ts";
import * as home from "../../src/bot/home.ts";
import * as views from "../../src/bot/views.ts";
import type { AccessChange } from "../../src/rules/change.ts";
import * as changeMessages from "../../src/service/change-messages.ts";
import * as close from "../../src/service/close.ts";
import * as messages from "../../src/service/messages.ts";
import * as reminderMessages from "../../src/service/reminder-messages.ts";
import * as sweepFailures from "../../src/service/sweep-failures.ts";
import { escapeMrkdwn, quote } from "../../src/slack/blocks.ts";
import { NoSuchRequestError, TransitionConflictError } from "../../src/store/errors.ts";
import type { AccessRequest, AuditEvent } from "../../src/store/types.ts";
import { expectInert, HOSTILE as HOSTILE_TEXT, TYPED_ENTITIES } from "./hostile.ts";

/** Every user-text field gets this: the live sequences and an already-escaped form. */
const HOSTILE = `${HOSTILE_TEXT} ${TYPED_ENTITIES}`;

const bucket = "staging-cellpainting-gallery";
const target = { bucket, region: "us-east-1", accountId: "123456789012" };
const at = "2026-12-01T10:00:00.000Z";

const request = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  id: "req-hostile",
  requesterUserId: "UALICE",
  requesterTeamId: "T0TEAM",
  subPrefix: "cpg0042/*",
  permission: "READWRITE",
  durationDays: 30,
  reason: HOSTILE,
  status: "PENDING",
  createdAt: at,
  updatedAt: at,
  expiresAt: "2026-12-31T10:00:00.000Z",
  progress: {},
  attempts: 1,
  failureReason: HOSTILE,
  failureSummary: HOSTILE,
  lastTransition: {
    from: "PENDING",
    to: "DENIED",
    actor: { kind: "admin", id: "UADMIN" },
    at,
    reason: HOSTILE,
  },
  decidedBy: "UADMIN",
  ...over,
});
const change: AccessChange = {
  from: { permission: "WRITE", expiresAt: "2026-12-31T10:00:00.000Z" },
  to: { permission: "READWRITE", expiresAt: "2027-01-30T10:00:00.000Z" },
  extends: true,
  permissionChange: "widen",
};
const changeRequest = (over: Partial<AccessRequest> = {}) =>
  request({ changeOf: "req-held", changeFrom: change.from, changeTo: change.to, ...over });
/** A scope as AWS lists it: a grant made by hand may hold any key, unlike a prefix we parsed. */
const AWS_PREFIX = `cpg0042/${HOSTILE}/*`;
const revoke = {
  userId: "UALICE",
  actor: "UADMIN",
  revokedPrefixes: ["cpg0042/*", AWS_PREFIX],
  remainingPrefixes: [],
  userDeleted: true,
  reason: HOSTILE,
};
const auditEvent: AuditEvent = {
  id: "ev1",
  at,
  requestId: "req-hostile",
  subjectUserId: HOSTILE,
  actor: { kind: "system", id: HOSTILE },
  action: HOSTILE,
  reason: HOSTILE,
  scope: "cpg0042/*",
  details: { [HOSTILE]: HOSTILE },
};
const sweep = (phase: sweepFailures.SweepPhase) => ({
  id: HOSTILE,
  error: "Error",
  phase,
  kind: `${phase}:x`,
  reason: HOSTILE,
});

/** module name → its exported builders, each rendered with hostile text. */
const CASES: Record<string, Record<string, () => unknown>> = {
  messages: {
    temporaryCredentialsInstructions: () => messages.temporaryCredentialsInstructions(target, request()),
    provisionedDm: () => [
      messages.provisionedDm(
        target,
        request(),
        { url: "https://link.example/x", linkExpiresAt: at },
        { replacesEarlier: true },
      ),
      messages.provisionedDm(target, request(), undefined),
    ],
    adminActiveMessage: () =>
      messages.adminActiveMessage(target, request(), { newKey: true, grantReused: true }),
    adminActiveChangedMessage: () =>
      messages.adminActiveChangedMessage(target, request(), { what: "longer", at }),
    adminFailedMessage: () => messages.adminFailedMessage(target, request(), HOSTILE),
    revokedDm: () => [
      messages.revokedDm(target, revoke, "revoked"),
      messages.revokedDm(target, revoke, "expired"),
    ],
    revokedAdminPost: () => [
      messages.revokedAdminPost(target, revoke, "revoked"),
      messages.revokedAdminPost(
        target,
        { ...revoke, userDeleted: false, remainingPrefixes: ["cpg0043/*", AWS_PREFIX] },
        "expired",
      ),
    ],
    expiryReminderDm: () => messages.expiryReminderDm(target, { ...request(), expiresAt: at }),
    pendingExpiredDm: () => messages.pendingExpiredDm(target, request(), 14),
    failedExpiredDm: () => messages.failedExpiredDm(target, request(), 14),
    adminPendingExpiredMessage: () => messages.adminPendingExpiredMessage(target, request()),
    adminEndedMessage: () =>
      messages.adminEndedMessage(target, request(), { status: "REVOKED", actor: "UADMIN", at }),
    deniedDm: () => messages.deniedDm(target, request()),
    reissuedDm: () =>
      messages.reissuedDm(target, { url: "https://link.example/x", expiresAt: at }, ["cpg0042/*"]),
    reissuedAdminPost: () =>
      messages.reissuedAdminPost({
        userId: "UALICE",
        actor: "UADMIN",
        accessKeyId: "AKIAEXAMPLE",
        retiredLinkCount: 1,
      }),
    adminJobFailedMessage: () =>
      (["revoke", "reissue", "close"] as const).map((kind) =>
        messages.adminJobFailedMessage(
          { id: "job1", kind, targetUserId: "UALICE", subPrefix: "cpg0042/*", actor: { id: "UADMIN" } },
          HOSTILE,
        ),
      ),
    provisioningFailedDm: () => messages.provisioningFailedDm(target, request(), HOSTILE),
  },
  changeMessages: {
    changedDm: () => changeMessages.changedDm(target, request(), change, "req-change"),
    deniedChangeDm: () => changeMessages.deniedChangeDm(target, changeRequest()),
    adminChangeAppliedMessage: () =>
      changeMessages.adminChangeAppliedMessage(target, changeRequest(), { grantReplaced: true, at }),
  },
  reminderMessages: {
    pendingReminderMessage: () =>
      reminderMessages.pendingReminderMessage(
        bucket,
        [1, 2].map((n) => ({
          id: `req-${n}`,
          requesterUserId: "UALICE",
          subPrefix: "cpg0042/*",
          permission: "READ",
          createdAt: at,
          reason: HOSTILE,
          cardUrl: "https://slack.example/card",
        })),
        { expiresAfterDays: 14 },
      ),
  },
  sweepFailures: {
    sweepFailureMessage: () => [
      sweepFailures.sweepFailureMessage([sweep("expire")]),
      sweepFailures.sweepFailureMessage([sweep("remind")]),
    ],
  },
  close: {
    closedAdminPost: () =>
      close.closedAdminPost(
        bucket,
        { actor: { kind: "admin", id: "UADMIN" }, reason: HOSTILE },
        {
          prefix: "cpg0042/*",
          people: [
            {
              userId: "UALICE",
              scopes: ["cpg0042/*", AWS_PREFIX],
              revoked: [AWS_PREFIX],
              endedRequestIds: [],
              deletedGrantIds: [],
              userDeleted: true,
              notified: false,
            },
          ],
          otherGrants: [
            {
              grantId: "g1",
              granteeType: "IAM",
              granteeArn: HOSTILE,
              scope: AWS_PREFIX,
              permission: "READ",
              deleted: false,
            },
          ],
          failures: [
            { userId: "UALICE", scope: "cpg0042/*", reason: HOSTILE },
            { grantId: "g2", reason: HOSTILE },
          ],
        },
      ),
  },
  views: {
    adminRequestCard: () => views.adminRequestCard(bucket, request()),
    decidedCard: () =>
      (["DENIED", "APPROVED", "CANCELLED", "FAILED"] as const).map((status) =>
        views.decidedCard(bucket, changeRequest({ status })),
      ),
    alreadyDecidedText: () => [
      views.alreadyDecidedText(HOSTILE, "ACTIVE", {
        actor: { id: "expiry", kind: "system" },
        at,
        to: "EXPIRED",
      }),
      views.alreadyDecidedText(HOSTILE, "ACTIVE", undefined, { by: "UADMIN", at, to: "APPROVED" }),
      views.alreadyDecidedText(HOSTILE, "ACTIVE", undefined),
    ],
    receiptText: () => views.receiptText(bucket, request()),
    duplicateText: () => views.duplicateText(bucket, request()),
    statusText: () =>
      views.statusText(bucket, [request({ status: "ACTIVE" }), request({ status: "FAILED" })]),
    pendingText: () => views.pendingText(bucket, [request(), changeRequest()], true),
    cancelledNote: () => views.cancelledNote(bucket, request()),
    denyModal: () => views.denyModal({ id: HOSTILE, requester: HOSTILE }, { id: HOSTILE }),
    revokeQueuedText: () => views.revokeQueuedText(bucket, "UALICE", "cpg0042/*", "job1"),
    closeQueuedText: () => views.closeQueuedText(bucket, "cpg0042/*", "job1"),
    reissueQueuedText: () => views.reissueQueuedText("UALICE", "job1"),
    extensionAskedNote: () => views.extensionAskedNote(bucket, request()),
  },
  changeViews: {
    changeHeadline: () => changeViews.changeHeadline(bucket, changeRequest()),
    changeRequestCard: () => changeViews.changeRequestCard(bucket, changeRequest()),
    changeReceiptText: () => changeViews.changeReceiptText(bucket, changeRequest()),
    changeAlreadyAskedText: () => changeViews.changeAlreadyAskedText(bucket, changeRequest()),
    notYetActiveText: () => [
      changeViews.notYetActiveText(bucket, request()),
      changeViews.notYetActiveText(bucket, request({ status: "APPROVED" })),
    ],
  },
  home: {
    homeView: () => {
      const items = { items: [request({ status: "PENDING" }), request({ status: "FAILED" })], more: true };
      return home.homeView({
        bucket,
        commandName: "/cytoskel",
        reminderDays: 7,
        help: ["help"],
        mine: { active: items, open: items },
        admin: { pending: items, ending: items, failed: items },
      });
    },
  },
  auditView: {
    auditEventLine: () => auditView.auditEventLine(auditEvent, { showSubject: true }),
    auditPageMessage: () => [
      auditView.auditPageMessage(
        { kind: "prefix", subPrefix: "cpg0042/*" },
        { items: [auditEvent], cursor: "c" },
      ),
      auditView.auditPageMessage({ kind: "user", user: { id: HOSTILE } }, { items: [auditEvent] }, true),
    ],
  },
  errors: {
    userTextFor: () => [
      errors.userTextFor(new NoSuchRequestError(HOSTILE)),
      errors.userTextFor(
        new TransitionConflictError({
          requestId: HOSTILE,
          current: "ACTIVE",
          attempted: "APPROVED",
        } as never),
      ),
    ],
  },
};

/** Exported functions that build no Slack text (codecs, I/O, validation). */
const NOT_SLACK_TEXT = new Set([
  "views.encodeButtonValue",
  "views.decodeButtonValue",
  "views.parseDenyMetadata",
  "changeViews.encodeShorterValue",
  "changeViews.decodeShorterValue",
  "auditView.encodeAuditCursor",
  "auditView.decodeAuditCursor",
  "sweepFailures.sweepError",
  "sweepFailures.reportSweepFailures", // posts sweepFailureMessage
  "close.closablePrefix",
  "close.closePrefix", // posts closedAdminPost; its `text` is that post's
  "errors.plainTextFor", // plain text, where nothing renders: its own test below
]);

const MODULES: Record<string, Record<string, unknown>> = {
  messages,
  changeMessages,
  reminderMessages,
  sweepFailures,
  close,
  views,
  changeViews,
  home,
  auditView,
  errors,
};

describe("hostile text in Slack messages", () => {
  it("every exported function of the message modules has a hostile-text case", () => {
    const missing = Object.entries(MODULES).flatMap(([mod, exports]) =>
      Object.entries(exports)
        .filter(([name, v]) => typeof v === "function" && !/^[A-Z]/.test(name))
        .map(([name]) => `${mod}.${name}`)
        .filter((key) => {
          const [mod, name] = key.split(".") as [string, string];
          return !NOT_SLACK_TEXT.has(key) && !CASES[mod]?.[name];
        }),
    );
    expect(missing).toEqual([]);
  });

  for (const [mod, builders] of Object.entries(CASES)) {
    for (const [name, build] of Object.entries(builders)) {
      it(`${mod}.${name} leaves no mention, ping, channel link or disguised link from user text (blocks and text)`, () => {
        expectInert(build());
      });
    }
  }

  it("plain text (a modal field's error) shows a typed ID as typed, not as escaped entities", () => {
    expect(errors.plainTextFor(new NoSuchRequestError(HOSTILE))).toContain(HOSTILE);
  });

  it("quote keeps every line of a typed reason inside the quote, inert", () => {
    expect(quote("first <!channel>\n> *not mine* <@UEVIL1>")).toBe(
      ">first &lt;!channel&gt;\n>&gt; *not mine* &lt;@UEVIL1&gt;",
    );
  });

  it("escapeMrkdwn makes each control character inert and leaves other text as typed", () => {
    expect(escapeMrkdwn("<!channel> & <https://evil.example|x> *b*")).toBe(
      "&lt;!channel&gt; &amp; &lt;https://evil.example|x&gt; *b*",
    );
  });
});
