// Access requests in DynamoDB. Table layout: src/store/table.ts. Design, in short:
// - Single table. Every change to a request is ONE TransactWriteItems that also puts its audit event, so
//   a change and its record commit together or not at all: there is no crash window to reason about.
//   (Transactions need DynamoDB, DynamoDB Local or moto; dynalite has no TransactWriteItems.)
// - Duplicates (same requester + scope while PENDING/APPROVED/ACTIVE) are refused by a condition on an
//   "open lock" item keyed by team+user+subPrefix, never by read-then-write. create = one transaction
//   [conditional put of the lock, put of the request, put of the audit event]. When the lock is held,
//   ALL_OLD on the failed lock put names the holder (one consistent read otherwise); an open holder is
//   returned (created=false), a closed (or missing) one is taken over by a second transaction
//   conditioned on the old holder's id, so two racing creators cannot both take it.
// - A transition is one transaction [update conditioned on the expected status, the requester and the
//   `updatedAt` of the caller's copy; put of the audit event]. TransactWriteItems returns no item on success, so the
//   store computes the new request from that copy: the caller passes the request it holds (`current`),
//   or the store reads it first (one consistent GetItem). A stale copy fails the condition and comes
//   back as ALL_OLD in the cancellation reasons (one consistent read on engines that omit it): if the
//   status moved on, the caller gets TransitionConflictError naming the winner's `lastTransition`,
//   otherwise the store retries with the fresh copy. Two transactions on one item at once cancel with
//   TransactionConflict; the store retries those (jittered, through the one retry helper
//   src/runtime/retry.ts: the SDK does not retry TransactionConflict, so the two do not multiply) so
//   exactly one wins and the other is told who. Contention that outlasts those retries is marked
//   retried, so the provisioner's attempts do not retry it once more.
// - Calls per operation (counted: bench/store.ts, test/store/suite.ts): create 1 TransactWriteItems;
//   duplicate 1 cancelled TransactWriteItems + 1 GetItem (no write); re-request of a closed scope
//   2 TransactWriteItems + 1 GetItem; approve with `current` (the bot's Approve button carries the
//   request) 1 TransactWriteItems, without 1 GetItem + 1 TransactWriteItems; a late click 1 cancelled
//   transaction with a stale `current` (ALL_OLD names the winner), else 1 GetItem and no write.
//   recordProgress = transition's shape; recordAttempt and annotate are single UpdateItems (no audit).
//   recordProgressSteps writes several steps (one audit event each) and, optionally, the one-time secret
//   they name, in ONE transaction; a transition may carry steps too (the provisioner's DM with → ACTIVE).
//   With `current` neither reads first: a first provisioning is 6 calls (src/service/provision.ts).
// - Secondary indexes key on attributes only the right items carry (sparse): no query ever scans.
import { randomUUID } from "node:crypto";
import type { CancellationReason } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import {
  type Actor,
  assertTransition,
  computeExpiresAt,
  isOpen,
  type RequestStatus,
} from "../rules/lifecycle.ts";
import { markRetried, retry } from "../runtime/retry.ts";
import { AuditLog } from "./audit.ts";
import {
  ForbiddenDataError,
  isConditionalCheckFailed,
  NoSuchRequestError,
  StoreAccessError,
  StoreError,
  TransitionConflictError,
} from "./errors.ts";
import { changeLockKey, deliveryKey, openLockKey, requestKey } from "./keys.ts";
import { queryPage } from "./paging.ts";
import { secretPut } from "./secrets.ts";
import { INDEX, TABLE_SCHEMA } from "./table.ts";
import type {
  AccessRequest,
  AdoptedGrant,
  AppliedChange,
  CreateResult,
  LastTransition,
  NewAuditEvent,
  NewRequestInput,
  Page,
  PageOptions,
  ProgressData,
  ProgressStep,
  ProgressUpdate,
  RequestAnnotations,
  SecretRecord,
  SlackMessageRef,
  TransitionInput,
} from "./types.ts";
import { PROGRESS_STEPS } from "./types.ts";

export interface RequestStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Shared audit log; one is made on the same table when omitted. */
  audit?: AuditLog;
  clock?: () => Date;
  newId?: () => string;
  /** Waits between retries of a transaction cancelled by TransactionConflict (tests shorten it). */
  conflictBackoffMs?: number;
}

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const MAX_CREATE_ROUNDS = 5;
/** Rounds of a change whose copy of the request went stale (someone wrote it in between). */
const MAX_CHANGE_ROUNDS = 5;
/** Retries of one transaction cancelled only by TransactionConflict, before the caller re-reads. */
const CONFLICT_RETRIES = 3;
/** Tries of one write against a transaction in flight on its item: the first and CONFLICT_RETRIES more. */
const CONFLICT_ATTEMPTS = 1 + CONFLICT_RETRIES;
// Field names that must never be persisted in progress data (the secret key goes only into the link).
const FORBIDDEN_PROGRESS_FIELD = /secret.*key|password|token|ciphertext/i;

/** One change to a request item: attribute paths to set / remove. Applied to the caller's copy in code
 *  and sent as the update expression, from the same description, so the two cannot disagree. */
interface Change {
  set: [path: string[], value: unknown][];
  remove: string[];
  /** Extra condition (besides existence and the copy's updatedAt), e.g. the expected status. */
  condition?: { expression: string; names: Record<string, string>; values: Item };
  /** The change's audit events (one per transition or recorded step), in the same transaction. */
  audit: NewAuditEvent[];
  /** Other items written in the same transaction (a one-time secret); the request update stays first. */
  also?: TransactItem[];
}

type TxOutcome =
  | { ok: true }
  | { ok: false; reasons: CancellationReason[]; conflict: boolean; error: unknown };

export class RequestStore {
  readonly audit: AuditLog;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: () => Date;
  readonly #newId: () => string;
  readonly #backoffMs: number;

  constructor(options: RequestStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
    this.#backoffMs = options.conflictBackoffMs ?? 25;
    this.audit =
      options.audit ??
      new AuditLog({ client: options.client, tableName: options.tableName, clock: this.#clock });
  }

  /** Files a PENDING request, or returns the open one for the same requester and scope (created=false). */
  async create(input: NewRequestInput): Promise<CreateResult> {
    const now = this.#clock().toISOString();
    const request: AccessRequest = {
      id: input.id ?? this.#newId(),
      requesterUserId: input.requesterUserId,
      requesterTeamId: input.requesterTeamId,
      subPrefix: input.subPrefix,
      permission: input.permission,
      ...(input.durationDays !== undefined ? { durationDays: input.durationDays } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      ...(input.change
        ? { changeOf: input.change.of, changeFrom: input.change.from, changeTo: input.change.to }
        : {}),
      status: "PENDING",
      createdAt: now,
      updatedAt: now,
      progress: {},
      attempts: 0,
      ...(input.adopted ? adoptedFields(input.adopted, input.requesterUserId, now) : {}),
    };
    // A change request's duplicate check is the held scope's one open change (its own lock item).
    const lockKey = (input.change ? changeLockKey : openLockKey)(
      input.requesterTeamId,
      input.requesterUserId,
      input.subPrefix,
    );
    const { put: auditPut } = this.audit.prepare({
      at: now,
      requestId: request.id,
      subjectUserId: request.requesterUserId,
      actor: input.adopted?.actor ?? { kind: "requester", id: request.requesterUserId },
      action: "request.created",
      to: request.status,
      scope: request.subPrefix,
      ...(request.reason ? { reason: request.reason } : {}),
      details: {
        subPrefix: request.subPrefix,
        permission: request.permission,
        ...(input.change ? { changeOf: input.change.of } : {}),
        ...(input.adopted
          ? {
              source: input.adopted.source,
              grantId: input.adopted.grant.grantId,
              expiresAt: request.expiresAt ?? "",
            }
          : {}),
      },
    });

    let expectedHolder: string | undefined;
    for (let round = 0; round < MAX_CREATE_ROUNDS; round++) {
      const outcome = await this.#transact("create request", [
        {
          Put: {
            TableName: this.#table,
            Item: { ...lockKey, requestId: request.id, lockedAt: now },
            ConditionExpression:
              expectedHolder === undefined ? "attribute_not_exists(pk)" : "requestId = :holder",
            ...(expectedHolder === undefined
              ? {}
              : { ExpressionAttributeValues: { ":holder": expectedHolder } }),
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        {
          Put: {
            TableName: this.#table,
            Item: { ...requestKey(request.id), ...request },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        { Put: auditPut },
      ]);
      if (outcome.ok) return { request, created: true };
      if (outcome.conflict) continue; // still contended after retries: look again

      const [lockReason, requestReason] = outcome.reasons;
      if (lockReason?.Code === "ConditionalCheckFailed") {
        const lock = lockReason.Item
          ? unmarshall(lockReason.Item)
          : await this.#getItem(lockKey, "read scope lock");
        if (!lock) {
          expectedHolder = undefined; // released between the write and the read: try afresh
          continue;
        }
        const holderId = String(lock.requestId);
        // Our own earlier attempt committed (a retried call): this call filed it.
        if (holderId === request.id) return { request: await this.require(request.id), created: true };
        const holder = await this.get(holderId);
        if (holder && isOpen(holder.status)) return { request: holder, created: false };
        // Closed (or never written, by the pre-transaction layout): take the scope over.
        expectedHolder = holderId;
        continue;
      }
      if (requestReason?.Code === "ConditionalCheckFailed") {
        // A caller-chosen id that already exists (a retried create with the same id).
        return { request: await this.require(request.id), created: false };
      }
      throw new StoreAccessError("create request", outcome.error);
    }
    throw markRetried(
      new StoreError(`could not file request for ${input.subPrefix}: too much contention`, "Contention"),
    );
  }

  /** Consistent read of one request. */
  async get(id: string): Promise<AccessRequest | undefined> {
    const item = await this.#getItem(requestKey(id), "get request");
    return item ? toRequest(item) : undefined;
  }

  async require(id: string): Promise<AccessRequest> {
    const request = await this.get(id);
    if (!request) throw new NoSuchRequestError(id);
    return request;
  }

  /**
   * Moves a request `from` → `to` and appends its audit event, in one transaction. Pass the request as
   * `current` when you hold it (saves the read; a stale copy costs nothing but a retry).
   * Throws IllegalTransitionError (lifecycle), TransitionConflictError (someone else moved it first),
   * NoSuchRequestError.
   */
  async transition(id: string, input: TransitionInput): Promise<AccessRequest> {
    const { from, to, actor, reason, patch } = input;
    const rule = assertTransition(from, to, actor.kind);
    const now = this.#clock().toISOString();
    const steps = checkedSteps(input.progress ?? {});
    const last: LastTransition = { from, to, actor, at: now, ...(reason ? { reason } : {}) };

    return this.#change(id, "transition", input.current, (request, fresh) => {
      // A copy read from the table is the truth: refuse without writing. A caller's copy may be stale,
      // so it goes to the condition, which answers with the current item.
      if (fresh && request.status !== from) throw conflictError(id, from, to, request);
      input.guard?.(request);
      const set: Change["set"] = [
        [["status"], to],
        [["updatedAt"], now],
        [["lastTransition"], last],
      ];
      const remove: string[] = [];
      if (rule.records.includes("decision")) set.push([["decidedBy"], actor.id], [["decidedAt"], now]);
      if (rule.records.includes("closure")) set.push([["closedBy"], actor.id], [["closedAt"], now]);
      if (rule.records.includes("activation"))
        set.push([["activatedAt"], now], [["activeUserId"], request.requesterUserId]);
      if (from === "ACTIVE") remove.push("activeUserId");
      if (rule.records.includes("failure")) {
        set.push([["failureReason"], patch?.failureReason ?? reason ?? "provisioning failed"]);
        if (patch?.failureSummary !== undefined) set.push([["failureSummary"], patch.failureSummary]);
      } else if (from === "FAILED") remove.push("failureReason", "failureSummary");
      if (patch?.expiresAt !== undefined) set.push([["expiresAt"], patch.expiresAt]);
      if (patch?.adminMessage !== undefined)
        set.push([["adminMessage"], { channel: patch.adminMessage.channel, ts: patch.adminMessage.ts }]);
      if (patch?.changeTo !== undefined) set.push([["changeTo"], patch.changeTo]);
      if (patch?.durationDays !== undefined) set.push([["durationDays"], patch.durationDays]);
      set.push(...stepSets(steps, now));
      return {
        set,
        remove,
        // The requester too: the audit event's subject comes from the copy, so it must be this request's.
        condition: {
          expression: "#status = :from AND requesterUserId = :requester",
          names: { "#status": "status" },
          values: { ":from": from, ":requester": request.requesterUserId },
        },
        // The steps first: the DM was recorded, then the request became ACTIVE (one commit, one `at`).
        audit: [
          ...stepEvents(steps, { at: now, requestId: id, subjectUserId: request.requesterUserId }, actor),
          {
            at: now,
            requestId: id,
            subjectUserId: request.requesterUserId,
            actor,
            action: "request.transition",
            from,
            to,
            ...(reason ? { reason } : {}),
          },
        ],
      };
    });
  }

  /** Records that a provisioning step is done (with its ids), so a retry resumes after it; audited in
   *  the same transaction. */
  async recordProgress<S extends ProgressStep>(
    id: string,
    step: S,
    data: ProgressData[S],
    actor: { kind: "system"; id: string } = { kind: "system", id: "provisioner" },
  ): Promise<AccessRequest> {
    return this.recordProgressSteps(id, { [step]: data } as ProgressUpdate, { actor });
  }

  /**
   * Records several provisioning steps in ONE transaction (one audit event per step), with `secret`'s
   * item when given: the one-time link and the progress that names it commit together or not at all.
   * Pass the request as `current` when you hold it (saves the read, as for `transition`).
   */
  async recordProgressSteps(
    id: string,
    steps: ProgressUpdate,
    opts: {
      current?: AccessRequest;
      secret?: SecretRecord;
      actor?: { kind: "system"; id: string };
    } = {},
  ): Promise<AccessRequest> {
    const checked = checkedSteps(steps);
    if (checked.length === 0 && !opts.secret) return opts.current ?? this.require(id);
    const actor = opts.actor ?? { kind: "system", id: "provisioner" };
    const now = this.#clock().toISOString();
    return this.#change(id, "record progress", opts.current, (request) => ({
      set: [...stepSets(checked, now), [["updatedAt"], now]],
      remove: [],
      audit: stepEvents(checked, { at: now, requestId: id, subjectUserId: request.requesterUserId }, actor),
      ...(opts.secret ? { also: [{ Put: secretPut(this.#table, opts.secret) }] } : {}),
    }));
  }

  /** Counts a provisioning attempt; `error` (no secrets) becomes `lastError`. */
  async recordAttempt(id: string, error?: string): Promise<AccessRequest> {
    const now = this.#clock().toISOString();
    return this.#update(id, "record attempt", {
      UpdateExpression: `SET updatedAt = :now${error !== undefined ? ", lastError = :error" : ""} ADD attempts :one`,
      ExpressionAttributeValues: {
        ":now": now,
        ":one": 1,
        ...(error !== undefined ? { ":error": error } : {}),
      },
    });
  }

  /** Keeps non-state facts on the request (admin message location, reminder time, failure told). */
  async annotate(id: string, fields: RequestAnnotations): Promise<AccessRequest> {
    const set = ["updatedAt = :now"];
    const values: Item = { ":now": this.#clock().toISOString() };
    if (fields.adminMessage) {
      set.push("adminMessage = :adminMessage");
      values[":adminMessage"] = { channel: fields.adminMessage.channel, ts: fields.adminMessage.ts };
    }
    if (fields.reminderSentAt) {
      set.push("reminderSentAt = :reminderSentAt");
      values[":reminderSentAt"] = fields.reminderSentAt;
    }
    if (fields.failureNotifiedAt) {
      set.push("failureNotifiedAt = :failureNotifiedAt");
      values[":failureNotifiedAt"] = fields.failureNotifiedAt;
    }
    return this.#update(id, "annotate", {
      UpdateExpression: `SET ${set.join(", ")}`,
      ExpressionAttributeValues: values,
    });
  }

  /** PENDING requests, oldest first. */
  listPending(page: PageOptions = {}): Promise<Page<AccessRequest>> {
    return this.listByStatus("PENDING", page);
  }

  /** Requests in one state by creation time (oldest first unless `newestFirst`). */
  listByStatus(status: RequestStatus, page: PageOptions & { newestFirst?: boolean } = {}) {
    return this.#query("list by status", page, {
      IndexName: INDEX.byStatus,
      KeyConditionExpression: "#status = :status",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":status": status },
      ScanIndexForward: !page.newestFirst,
    });
  }

  /** One person's requests in every state (newest first unless `oldestFirst`). */
  listByRequester(userId: string, page: PageOptions & { oldestFirst?: boolean } = {}) {
    return this.#query("list by requester", page, {
      IndexName: INDEX.byRequester,
      KeyConditionExpression: "requesterUserId = :u",
      ExpressionAttributeValues: { ":u": userId },
      ScanIndexForward: page.oldestFirst === true,
    });
  }

  /** One person's ACTIVE requests (their live grants), oldest first. */
  listActiveByUser(userId: string, page: PageOptions = {}) {
    return this.#query("list active by user", page, {
      IndexName: INDEX.activeByUser,
      KeyConditionExpression: "activeUserId = :u",
      ExpressionAttributeValues: { ":u": userId },
    });
  }

  /** ACTIVE requests whose `expiresAt` is before `iso`, soonest first. */
  listActiveExpiringBefore(iso: string, page: PageOptions = {}) {
    return this.#query("list expiring", page, {
      IndexName: INDEX.byStatusExpiry,
      KeyConditionExpression: "#status = :active AND expiresAt < :before",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":active": "ACTIVE", ":before": iso },
    });
  }

  /**
   * Applies an approved change to the request it changes, in ONE transaction: the held request (still
   * ACTIVE) takes the new permission / end / grant (and loses reminderSentAt when its end moved, so
   * the next reminder is about the new end); the change request moves APPROVED → APPLIED with the DM
   * recorded; one audit event each. Both updates are conditioned on the copies' status and updatedAt;
   * a copy gone stale (e.g. a reminder annotated the held request meanwhile) is read again and the
   * write retried. Throws TransitionConflictError when the change is no longer APPROVED or the held
   * request no longer ACTIVE (naming which).
   */
  async applyChange(input: AppliedChange): Promise<{ held: AccessRequest; change: AccessRequest }> {
    let { held, change } = input;
    for (let round = 0; round < MAX_CHANGE_ROUNDS; round++) {
      if (change.status !== "APPROVED") throw conflictError(change.id, "APPROVED", "APPLIED", change);
      if (held.status !== "ACTIVE") throw conflictError(held.id, "ACTIVE", "ACTIVE", held);
      const now = this.#clock().toISOString();
      const { actor, to } = input;
      const last: LastTransition = { from: "APPROVED", to: "APPLIED", actor, at: now };
      const heldChange: Change = {
        set: [
          [["permission"], to.permission],
          ...(to.expiresAt !== undefined ? ([[["expiresAt"], to.expiresAt]] as Change["set"]) : []),
          ...(input.grant ? stepSets([["grant", input.grant]], now) : []),
          [["updatedAt"], now],
        ],
        remove: to.expiresAt !== undefined && to.expiresAt !== held.expiresAt ? ["reminderSentAt"] : [],
        audit: [],
      };
      const dmSteps: [ProgressStep, object][] = input.dm ? [["dm", input.dm]] : [];
      const changeChange: Change = {
        set: [
          [["status"], "APPLIED"],
          [["updatedAt"], now],
          [["lastTransition"], last],
          [["closedBy"], actor.id],
          [["closedAt"], now],
          ...stepSets(dmSteps, now),
        ],
        remove: [],
        audit: [],
      };
      const about = { at: now, subjectUserId: held.requesterUserId };
      const events: NewAuditEvent[] = [
        {
          ...about,
          requestId: held.id,
          actor,
          action: "request.changed",
          details: {
            changeRequestId: change.id,
            fromPermission: held.permission,
            toPermission: to.permission,
            ...(held.expiresAt ? { fromExpiresAt: held.expiresAt } : {}),
            ...(to.expiresAt ? { toExpiresAt: to.expiresAt } : {}),
            ...(input.grant ? { grantId: input.grant.grantId } : {}),
          },
        },
        ...stepEvents(dmSteps, { ...about, requestId: change.id }, actor),
        {
          ...about,
          requestId: change.id,
          actor,
          action: "request.transition",
          from: "APPROVED",
          to: "APPLIED",
        },
      ];
      const outcome = await this.#transact("apply change", [
        { Update: this.#updateOf(held, heldChange, "#status = :active", { ":active": "ACTIVE" }) },
        { Update: this.#updateOf(change, changeChange, "#status = :approved", { ":approved": "APPROVED" }) },
        ...this.audit.prepareAll(events).map(({ put }) => ({ Put: put })),
      ]);
      if (outcome.ok)
        return { held: applyChange(held, heldChange), change: applyChange(change, changeChange) };
      if (!outcome.conflict && !outcome.reasons.some((r) => r.Code === "ConditionalCheckFailed"))
        throw new StoreAccessError("apply change", outcome.error);
      held = await this.require(held.id);
      change = await this.require(change.id);
    }
    throw markRetried(
      new StoreError(`could not apply change ${input.change.id}: too much contention`, "Contention"),
    );
  }

  /** The Update of one item of a multi-item transaction: conditioned on existence, the copy's
   *  updatedAt and `condition` (which may use `#status`). */
  #updateOf(copy: AccessRequest, change: Change, condition: string, conditionValues: Item) {
    const names: Record<string, string> = { "#updatedAt": "updatedAt", "#status": "status" };
    const values: Item = { ":seen": copy.updatedAt, ...conditionValues };
    return {
      TableName: this.#table,
      Key: requestKey(copy.id),
      UpdateExpression: updateExpressionOf(change, names, values),
      ConditionExpression: `attribute_exists(pk) AND #updatedAt = :seen AND ${condition}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  // --- marks: single conditional UpdateItems that leave `updatedAt` alone, so the copy an Approve
  // button carries stays current (approving stays one transaction). No audit event: no access changes.

  /**
   * Claims one Slack delivery (keyed by its trigger_id or signature) before acting on it: one
   * conditional PutItem, the item aging out by TTL after `keepSeconds`. false: it was claimed already —
   * a replay inside the signature window (or Slack delivering it again), to be answered, not acted on.
   */
  async claimDelivery(key: string, keepSeconds: number): Promise<boolean> {
    const now = this.#clock();
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...deliveryKey(key),
            at: now.toISOString(),
            [TABLE_SCHEMA.timeToLiveAttribute]: Math.floor(now.getTime() / 1000) + keepSeconds,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreAccessError("claim delivery", err);
    }
  }

  /** Where the admin card was posted (the bot, right after posting it). false: already recorded
   *  (a decision recorded the card it was clicked on) or no such request. */
  recordAdminCard(id: string, card: SlackMessageRef): Promise<boolean> {
    return this.#mark(id, "record admin card", {
      UpdateExpression: "SET adminMessage = :card",
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(adminMessage)",
      ExpressionAttributeValues: { ":card": { channel: card.channel, ts: card.ts } },
    }).then((r) => r.done);
  }

  /**
   * Claims the re-announcement of a PENDING request: sets `announcedAt` to `at` only if it still is
   * `seen` (absent: never announced) and the request is still PENDING. Two runs that read the same
   * `seen` cannot both win, so each interval posts once.
   */
  claimAnnouncement(id: string, seen: string | undefined, at: string): Promise<boolean> {
    return this.#mark(id, "claim announcement", {
      UpdateExpression: "SET announcedAt = :at",
      ConditionExpression: `#status = :pending AND ${seen === undefined ? "attribute_not_exists(announcedAt)" : "announcedAt = :seen"}`,
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":at": at, ":pending": "PENDING", ...(seen ? { ":seen": seen } : {}) },
    }).then((r) => r.done);
  }

  /** Gives a claim back (the post failed), so the next run announces again; only if still ours. */
  releaseAnnouncement(id: string, mine: string, previous: string | undefined): Promise<boolean> {
    return this.#mark(id, "release announcement", {
      UpdateExpression: previous === undefined ? "REMOVE announcedAt" : "SET announcedAt = :previous",
      ConditionExpression: "announcedAt = :mine",
      ExpressionAttributeValues: { ":mine": mine, ...(previous ? { ":previous": previous } : {}) },
    }).then((r) => r.done);
  }

  /**
   * The reconciler drives a request stuck in APPROVED once more (src/service/reconcile.ts): `redriveAt`
   * is set, and its stream record is what the provisioner acts on. Only if nothing was written since the
   * caller read it (status, `updatedAt` and the last redrive as seen), so of two runs at once one wins.
   */
  markRedrive(
    id: string,
    seen: Pick<AccessRequest, "updatedAt" | "redriveAt">,
    at: string,
  ): Promise<boolean> {
    return this.#mark(id, "mark redrive", {
      UpdateExpression: "SET redriveAt = :at",
      ConditionExpression: `#status = :approved AND updatedAt = :seen AND ${seen.redriveAt === undefined ? "attribute_not_exists(redriveAt)" : "redriveAt = :prev"}`,
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":at": at,
        ":approved": "APPROVED",
        ":seen": seen.updatedAt,
        ...(seen.redriveAt ? { ":prev": seen.redriveAt } : {}),
      },
    }).then((r) => r.done);
  }

  /**
   * Claims posting the admin card of a PENDING request whose card was never recorded (the reconciler):
   * sets `cardClaimedAt` only if no card is recorded and the last claim is still `seen` (absent: none).
   */
  claimCardPost(id: string, seen: string | undefined, at: string): Promise<boolean> {
    return this.#mark(id, "claim card post", {
      UpdateExpression: "SET cardClaimedAt = :at",
      ConditionExpression: `#status = :pending AND attribute_not_exists(adminMessage) AND ${seen === undefined ? "attribute_not_exists(cardClaimedAt)" : "cardClaimedAt = :seen"}`,
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":at": at, ":pending": "PENDING", ...(seen ? { ":seen": seen } : {}) },
    }).then((r) => r.done);
  }

  /** One conditional UpdateItem: the item after it (ALL_NEW), or as it was when the condition failed. */
  async #mark(
    id: string,
    operation: string,
    input: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues: Item;
    },
  ): Promise<{ done: boolean; item: Item | undefined }> {
    const sent = await retry(
      () =>
        this.#client.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: requestKey(id),
            ...input,
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      this.#conflictRetries((err) => (err as { name?: string }).name === "TransactionConflictException"),
    );
    if (sent.ok) return { done: true, item: sent.value.Attributes };
    if (isConditionalCheckFailed(sent.error)) {
      // The DocumentClient leaves the failed condition's item in wire form (AttributeValues).
      const old = sent.error.Item as Parameters<typeof unmarshall>[0] | undefined;
      return { done: false, item: old ? unmarshall(old) : undefined };
    }
    throw new StoreAccessError(operation, sent.error);
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * One audited change as one transaction, against a copy of the request: `current` (the caller's) or a
   * consistent read. `plan` sees the copy (and whether it is fresh from the table) and may refuse by
   * throwing; a failed condition brings back the current item (ALL_OLD, or one read after a persistent
   * TransactionConflict), and the change is planned again on it.
   */
  async #change(
    id: string,
    operation: string,
    current: AccessRequest | undefined,
    plan: (request: AccessRequest, fresh: boolean) => Change,
  ): Promise<AccessRequest> {
    let request = current ?? (await this.require(id));
    let fresh = current === undefined;
    for (let round = 0; round < MAX_CHANGE_ROUNDS; round++) {
      const change = plan(request, fresh);
      const names: Record<string, string> = { "#updatedAt": "updatedAt", ...change.condition?.names };
      const values: Item = { ":seen": request.updatedAt, ...change.condition?.values };
      const condition = ["attribute_exists(pk)", "#updatedAt = :seen", change.condition?.expression]
        .filter(Boolean)
        .join(" AND ");
      // Every event of a request concerns its scope (the auditByDataset index finds it by prefix).
      const events = change.audit.map((e) => ({ scope: request.subPrefix, ...e }));
      const auditPuts = this.audit.prepareAll(events).map(({ put }) => ({ Put: put }));
      const outcome = await this.#transact(operation, [
        {
          Update: {
            TableName: this.#table,
            Key: requestKey(id),
            UpdateExpression: updateExpressionOf(change, names, values),
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        ...auditPuts,
        ...(change.also ?? []),
      ]);
      if (outcome.ok) return applyChange(request, change);

      const reason = outcome.reasons[0];
      if (!outcome.conflict && reason?.Code !== "ConditionalCheckFailed")
        throw new StoreAccessError(operation, outcome.error);
      const latest =
        !outcome.conflict && reason?.Item ? toRequest(unmarshall(reason.Item)) : await this.get(id);
      if (!latest) throw new NoSuchRequestError(id);
      request = latest; // planned again: a transition whose status moved on is refused there

      fresh = true;
    }
    throw markRetried(new StoreError(`could not ${operation} ${id}: too much contention`, "Contention"));
  }

  /**
   * Sends one TransactWriteItems. Cancelled by TransactionConflict only (another transaction on one of
   * the items at that moment), it is retried a few times with jitter; then, or when a condition failed,
   * the cancellation reasons go back to the caller. Any other failure becomes StoreAccessError.
   */
  async #transact(operation: string, items: TransactItem[]): Promise<TxOutcome> {
    const sent = await retry(
      // A fresh token per attempt; the SDK's own retries of one attempt reuse it, so a retried
      // request whose first try committed is answered "done" instead of failing its conditions.
      () =>
        this.#client.send(
          new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }),
        ),
      this.#conflictRetries(isTransactionConflict),
    );
    if (sent.ok) return { ok: true };
    const err = sent.error;
    const reasons = (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
    const conflict = isTransactionConflict(err);
    if (conflict || (err as { name?: string }).name === "TransactionCanceledException")
      return { ok: false, reasons, conflict, error: err };
    throw new StoreAccessError(operation, err);
  }

  /** Retries of a write that met another transaction on its item (the SDK does not retry these). */
  #conflictRetries(retryable: (err: unknown) => boolean) {
    return { maxAttempts: CONFLICT_ATTEMPTS, baseDelayMs: this.#backoffMs, retryable };
  }

  async #getItem(key: { pk: string; sk: string }, operation: string): Promise<Item | undefined> {
    try {
      const out = await this.#client.send(
        new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
      );
      return out.Item;
    } catch (err) {
      throw new StoreAccessError(operation, err);
    }
  }

  /** A single-item update (no audit event); retried if it meets a transaction in flight on the item. */
  async #update(
    id: string,
    operation: string,
    input: {
      UpdateExpression: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues: Item;
    },
  ): Promise<AccessRequest> {
    const { done, item } = await this.#mark(id, operation, {
      ...input,
      ConditionExpression: "attribute_exists(pk)",
    });
    if (!done || !item) throw new NoSuchRequestError(id);
    return toRequest(item);
  }

  #query(
    operation: string,
    page: PageOptions,
    input: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
  ): Promise<Page<AccessRequest>> {
    return queryPage({ client: this.#client, tableName: this.#table }, operation, page, input, toRequest);
  }
}

function conflictError(
  requestId: string,
  expected: RequestStatus,
  attempted: RequestStatus,
  current: AccessRequest,
): TransitionConflictError {
  return new TransitionConflictError({
    requestId,
    expected,
    attempted,
    current: current.status,
    winner: current.lastTransition,
  });
}

/** The request after `change`, computed from the copy the transaction was conditioned on. */
function applyChange(request: AccessRequest, change: Change): AccessRequest {
  const next = structuredClone(request) as unknown as Item;
  for (const [path, value] of change.set) {
    let target = next;
    for (const segment of path.slice(0, -1)) {
      if (typeof target[segment] !== "object" || target[segment] === null) target[segment] = {};
      target = target[segment] as Item;
    }
    target[path.at(-1) as string] = structuredClone(value);
  }
  for (const field of change.remove) delete next[field];
  return next as unknown as AccessRequest;
}

/** An adopted request is born ACTIVE with what activation and provisioning would have recorded. */
function adoptedFields(adopted: AdoptedGrant, userId: string, now: string): Partial<AccessRequest> {
  return {
    status: "ACTIVE",
    decidedBy: adopted.actor.id,
    decidedAt: now,
    activatedAt: now,
    activeUserId: userId,
    expiresAt: computeExpiresAt(new Date(now), adopted.days),
    progress: { grant: { ...adopted.grant, at: now } },
  };
}

function toRequest(item: Item): AccessRequest {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as AccessRequest;
}

/** The steps given, in PROGRESS_STEPS order, each checked for forbidden field names. */
function checkedSteps(steps: ProgressUpdate): [ProgressStep, object][] {
  const out: [ProgressStep, object][] = [];
  for (const step of PROGRESS_STEPS) {
    const data = steps[step];
    if (data === undefined) continue;
    for (const field of Object.keys(data)) {
      if (FORBIDDEN_PROGRESS_FIELD.test(field)) throw new ForbiddenDataError(`progress.${step}.${field}`);
    }
    out.push([step, data]);
  }
  return out;
}

function stepSets(steps: [ProgressStep, object][], now: string): Change["set"] {
  return steps.map(([step, data]) => [["progress", step], { ...data, at: now }]);
}

function stepEvents(
  steps: [ProgressStep, object][],
  about: { at: string; requestId: string; subjectUserId: string },
  actor: Actor,
): NewAuditEvent[] {
  return steps.map(([step, data]) => ({
    ...about,
    actor,
    action: `progress.${step}`,
    details: progressDetails(data),
  }));
}

function progressDetails(data: object): Record<string, string | number | boolean> {
  const details: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") details[k] = v;
  }
  return details;
}

/** Cancelled only because another transaction was on one of the items (no condition failed). */
function isTransactionConflict(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  const reasons = (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
  return (
    name === "TransactionConflictException" ||
    (name === "TransactionCanceledException" &&
      reasons.some((r) => r.Code === "TransactionConflict") &&
      !reasons.some((r) => r.Code === "ConditionalCheckFailed"))
  );
}

/** A change's SET / REMOVE as an UpdateExpression; the placeholders it uses are added to `names` / `values`. */
function updateExpressionOf(change: Change, names: Record<string, string>, values: Item): string {
  const nameOf = (segment: string) => {
    const placeholder = `#a${Object.keys(names).length}`;
    names[placeholder] = segment;
    return placeholder;
  };
  const sets = change.set.map(([path, value], i) => {
    values[`:v${i}`] = value;
    return `${path.map(nameOf).join(".")} = :v${i}`;
  });
  const removes = change.remove.map(nameOf);
  return `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`;
}
