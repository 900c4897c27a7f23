// Access requests in DynamoDB. Table layout: src/store/table.ts. Design, in short:
// - Single table; every write is a single-item conditional write (no TransactWriteItems), so the same
//   code runs on DynamoDB, DynamoDB Local, moto and the in-process dynalite.
// - Duplicates (same requester + scope while PENDING/APPROVED/ACTIVE) are refused by a condition on an
//   "open lock" item keyed by team+user+subPrefix, never by read-then-write. The lock carries a full
//   snapshot of the request it points at, so a crash between writing the lock and writing the request
//   cannot wedge the scope: the next create finishes the write from the snapshot (attribute_not_exists,
//   so exactly one writer creates the request). A lock whose request is closed (or FAILED) is taken over
//   with a condition on the old request id, so two racing creators cannot both take it.
// - A transition is one UpdateItem conditioned on the expected status; the request carries its
//   `lastTransition`, so the loser reads who won (ALL_OLD on the failed condition where the engine
//   returns it, else a consistent read) and gets TransitionConflictError. Then one audit put.
//   Approve = 1 conditional write + 1 audit write. The stream (NEW_AND_OLD_IMAGES) also records every
//   change, so an audit put lost to a crash right after a transition is still reconstructible.
// - Secondary indexes key on attributes only the right items carry (sparse): no query ever scans.
import { randomUUID } from "node:crypto";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { assertTransition, isOpen, type RequestStatus } from "../rules/lifecycle.ts";
import { AuditLog } from "./audit.ts";
import {
  ForbiddenDataError,
  isConditionalCheckFailed,
  NoSuchRequestError,
  StoreAccessError,
  StoreError,
  TransitionConflictError,
} from "./errors.ts";
import { openLockKey, requestKey } from "./keys.ts";
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from "./paging.ts";
import { INDEX } from "./table.ts";
import type {
  AccessRequest,
  CreateResult,
  LastTransition,
  NewRequestInput,
  Page,
  PageOptions,
  ProgressData,
  ProgressStep,
  RequestAnnotations,
  TransitionInput,
} from "./types.ts";

export interface RequestStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Shared audit log; one is made on the same table when omitted. */
  audit?: AuditLog;
  clock?: () => Date;
  newId?: () => string;
}

type Item = Record<string, unknown>;

const MAX_CREATE_ROUNDS = 5;
// Field names that must never be persisted in progress data (the secret key goes only into the link).
const FORBIDDEN_PROGRESS_FIELD = /secret.*key|password|token|ciphertext/i;

export class RequestStore {
  readonly audit: AuditLog;
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: () => Date;
  readonly #newId: () => string;

  constructor(options: RequestStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
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
      status: "PENDING",
      createdAt: now,
      updatedAt: now,
      progress: {},
      attempts: 0,
    };
    const lockKey = openLockKey(input.requesterTeamId, input.requesterUserId, input.subPrefix);

    for (let round = 0; round < MAX_CREATE_ROUNDS; round++) {
      const lock = await this.#tryLock(lockKey, request, undefined);
      if (lock === "acquired") return this.#writeRequest(request);
      if (!lock) continue; // lock vanished between the failed put and the read: try again

      const holderId = String(lock.requestId);
      const holder = await this.get(holderId);
      if (!holder) {
        // The holder crashed between its two writes: finish its create from the snapshot.
        return this.#writeRequest(lock.request as AccessRequest);
      }
      if (isOpen(holder.status)) return { request: holder, created: false };
      // The holder is closed: take the lock over, unless another creator beat us to it.
      if ((await this.#tryLock(lockKey, request, holderId)) === "acquired")
        return this.#writeRequest(request);
    }
    throw new StoreError(`could not file request for ${input.subPrefix}: too much contention`, "Contention");
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
   * Moves a request `from` → `to` with one conditional write, then appends an audit event.
   * Throws IllegalTransitionError (lifecycle), TransitionConflictError (someone else moved it first),
   * NoSuchRequestError.
   */
  async transition(id: string, input: TransitionInput): Promise<AccessRequest> {
    const { from, to, actor, reason, patch } = input;
    const rule = assertTransition(from, to, actor.kind);
    const now = this.#clock().toISOString();
    const last: LastTransition = { from, to, actor, at: now, ...(reason ? { reason } : {}) };

    const set = ["#status = :to", "updatedAt = :now", "lastTransition = :last"];
    const remove: string[] = [];
    const values: Item = { ":from": from, ":to": to, ":now": now, ":last": last };
    if (rule.records.includes("decision")) {
      set.push("decidedBy = :actor", "decidedAt = :now");
      values[":actor"] = actor.id;
    }
    if (rule.records.includes("closure")) {
      set.push("closedBy = :actor", "closedAt = :now");
      values[":actor"] = actor.id;
    }
    if (rule.records.includes("activation")) set.push("activatedAt = :now", "activeUserId = requesterUserId");
    if (from === "ACTIVE") remove.push("activeUserId");
    if (rule.records.includes("failure")) {
      set.push("failureReason = :failure");
      values[":failure"] = patch?.failureReason ?? reason ?? "provisioning failed";
    } else if (from === "FAILED") {
      remove.push("failureReason");
    }
    if (patch?.expiresAt !== undefined) {
      set.push("expiresAt = :expiresAt");
      values[":expiresAt"] = patch.expiresAt;
    }
    if (patch?.adminMessage !== undefined) {
      set.push("adminMessage = :adminMessage");
      values[":adminMessage"] = { channel: patch.adminMessage.channel, ts: patch.adminMessage.ts };
    }

    let item: Item | undefined;
    try {
      const out = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: requestKey(id),
          UpdateExpression: `SET ${set.join(", ")}${remove.length ? ` REMOVE ${remove.join(", ")}` : ""}`,
          ConditionExpression: "attribute_exists(pk) AND #status = :from",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      item = out.Attributes;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreAccessError("transition", err);
      const current = err.Item ? toRequest(unmarshall(err.Item as never)) : await this.get(id);
      if (!current) throw new NoSuchRequestError(id);
      throw new TransitionConflictError({
        requestId: id,
        expected: from,
        attempted: to,
        current: current.status,
        winner: current.lastTransition,
        cause: err,
      });
    }
    if (!item) throw new NoSuchRequestError(id);
    const request = toRequest(item);
    await this.audit.append({
      at: now,
      requestId: id,
      subjectUserId: request.requesterUserId,
      actor,
      action: "request.transition",
      from,
      to,
      ...(reason ? { reason } : {}),
    });
    return request;
  }

  /** Records that a provisioning step is done (with its ids), so a retry resumes after it. */
  async recordProgress<S extends ProgressStep>(
    id: string,
    step: S,
    data: ProgressData[S],
    actor: { kind: "system"; id: string } = { kind: "system", id: "provisioner" },
  ): Promise<AccessRequest> {
    for (const field of Object.keys(data)) {
      if (FORBIDDEN_PROGRESS_FIELD.test(field)) throw new ForbiddenDataError(`progress.${step}.${field}`);
    }
    const now = this.#clock().toISOString();
    const request = await this.#update(id, "record progress", {
      UpdateExpression: "SET progress.#step = :entry, updatedAt = :now",
      ExpressionAttributeNames: { "#step": step },
      ExpressionAttributeValues: { ":entry": { ...data, at: now }, ":now": now },
    });
    await this.audit.append({
      at: now,
      requestId: id,
      subjectUserId: request.requesterUserId,
      actor,
      action: `progress.${step}`,
      details: progressDetails(data),
    });
    return request;
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

  /** Keeps non-state facts on the request (admin message location, reminder time). */
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

  // --- internals -------------------------------------------------------------------------------

  /** Conditional put of the open lock: new (expectedHolder undefined) or taken over from expectedHolder.
   *  Returns "acquired", else the current lock item (undefined if it is gone). */
  async #tryLock(
    key: { pk: string; sk: string },
    request: AccessRequest,
    expectedHolder: string | undefined,
  ): Promise<"acquired" | Item | undefined> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...key, requestId: request.id, request, lockedAt: request.createdAt },
          ConditionExpression:
            expectedHolder === undefined ? "attribute_not_exists(pk)" : "requestId = :holder",
          ...(expectedHolder === undefined
            ? {}
            : { ExpressionAttributeValues: { ":holder": expectedHolder } }),
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return "acquired";
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreAccessError("lock scope", err);
      return err.Item ? unmarshall(err.Item as never) : this.#getItem(key, "read scope lock");
    }
  }

  /** Writes the request item once; created=false if another caller already wrote it. */
  async #writeRequest(request: AccessRequest): Promise<CreateResult> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...requestKey(request.id), ...request },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw new StoreAccessError("create request", err);
      return { request: await this.require(request.id), created: false };
    }
    await this.audit.append({
      at: request.createdAt,
      requestId: request.id,
      subjectUserId: request.requesterUserId,
      actor: { kind: "requester", id: request.requesterUserId },
      action: "request.created",
      to: "PENDING",
      ...(request.reason ? { reason: request.reason } : {}),
      details: { subPrefix: request.subPrefix, permission: request.permission },
    });
    return { request, created: true };
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

  async #update(
    id: string,
    operation: string,
    input: {
      UpdateExpression: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues: Item;
    },
  ): Promise<AccessRequest> {
    try {
      const out = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: requestKey(id),
          ...input,
          ConditionExpression: "attribute_exists(pk)",
          ReturnValues: "ALL_NEW",
        }),
      );
      if (!out.Attributes) throw new NoSuchRequestError(id);
      return toRequest(out.Attributes);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new NoSuchRequestError(id);
      if (err instanceof StoreError) throw err;
      throw new StoreAccessError(operation, err);
    }
  }

  async #query(
    operation: string,
    page: PageOptions,
    input: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
  ): Promise<Page<AccessRequest>> {
    const exclusiveStartKey = decodeCursor(page.cursor);
    try {
      const out = await this.#client.send(
        new QueryCommand({
          ...input,
          TableName: this.#table,
          Limit: page.limit ?? DEFAULT_PAGE_SIZE,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      return { items: (out.Items ?? []).map(toRequest), cursor: encodeCursor(out.LastEvaluatedKey) };
    } catch (err) {
      throw new StoreAccessError(operation, err);
    }
  }
}

function toRequest(item: Item): AccessRequest {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as AccessRequest;
}

function progressDetails(data: object): Record<string, string | number | boolean> {
  const details: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") details[k] = v;
  }
  return details;
}
