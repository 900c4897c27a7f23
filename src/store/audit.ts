// Append-only audit trail. Events for a request live in the request's item collection (one Query
// reads them in order); the auditByUser index serves "everything about this person". The request store
// writes its events inside the same transaction as the change they record (`prepare`); events not tied
// to a store change (a consumed secret, a user-level revoke) are single puts (`append`).
import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, PutCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { ForbiddenDataError, isConditionalCheckFailed, StoreAccessError } from "./errors.ts";
import { AUDIT_SK_PREFIX, auditPartition, auditSortKey } from "./keys.ts";
import { queryPage } from "./paging.ts";
import { INDEX } from "./table.ts";
import type { AuditEvent, NewAuditEvent, Page, PageOptions } from "./types.ts";

/** A conditional Put of one audit event (plain values; the DocumentClient marshals them). */
export interface AuditPut {
  TableName: string;
  Item: Record<string, unknown>;
  ConditionExpression: string;
}

export interface AuditLogOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: () => Date;
  newId?: () => string;
}

const AUDIT_FIELDS = [
  "id",
  "at",
  "requestId",
  "subjectUserId",
  "actor",
  "action",
  "from",
  "to",
  "reason",
  "details",
] as const;

export class AuditLog {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: () => Date;
  readonly #newId: () => string;

  constructor(options: AuditLogOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
  }

  /** Writes one event on its own; never overwrites (conditional put on a fresh key). */
  async append(input: NewAuditEvent): Promise<AuditEvent> {
    const { event, put } = this.prepare(input);
    try {
      await this.#client.send(new PutCommand(put));
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new StoreAccessError("audit append (id collision)", err);
      throw new StoreAccessError("audit append", err);
    }
    return event;
  }

  /** The event and its conditional Put, for callers that write it inside their own transaction
   *  (the request store: a change and its audit event commit together or not at all). */
  prepare(input: NewAuditEvent): { event: AuditEvent; put: AuditPut } {
    return this.#prepare(input, this.#newId());
  }

  #prepare(input: NewAuditEvent, id: string): { event: AuditEvent; put: AuditPut } {
    for (const key of Object.keys(input.details ?? {})) {
      if (/secret|password|token/i.test(key)) throw new ForbiddenDataError(`details.${key}`);
    }
    const event: AuditEvent = { ...input, id, at: input.at ?? this.#clock().toISOString() };
    return {
      event,
      put: {
        TableName: this.#table,
        Item: {
          pk: auditPartition(event.requestId, event.subjectUserId),
          sk: auditSortKey(event.at, event.id),
          ...event,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    };
  }

  /**
   * Several events written in one transaction, in the order given. They share their `at` (one commit),
   * and the sort key orders by time then id, so their ids share one random part and end in their
   * position: a request's events still read back in the order they were recorded.
   */
  prepareAll(inputs: readonly NewAuditEvent[]): { event: AuditEvent; put: AuditPut }[] {
    if (inputs.length <= 1) return inputs.map((input) => this.prepare(input));
    const base = this.#newId();
    const width = String(inputs.length - 1).length;
    return inputs.map((input, i) => this.#prepare(input, `${base}-${String(i).padStart(width, "0")}`));
  }

  /** Events for one request, oldest first. */
  async listForRequest(requestId: string, page: PageOptions = {}): Promise<Page<AuditEvent>> {
    return this.#query("listForRequest", page, {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
      ExpressionAttributeValues: { ":pk": auditPartition(requestId, ""), ":audit": AUDIT_SK_PREFIX },
      ConsistentRead: true,
    });
  }

  /** Events about one person (as the requester/subject), oldest first unless `newestFirst`. */
  async listForUser(
    userId: string,
    page: PageOptions & { newestFirst?: boolean } = {},
  ): Promise<Page<AuditEvent>> {
    return this.#query("listForUser", page, {
      IndexName: INDEX.auditByUser,
      KeyConditionExpression: "subjectUserId = :u",
      ExpressionAttributeValues: { ":u": userId },
      ScanIndexForward: !page.newestFirst,
    });
  }

  #query(
    operation: string,
    page: PageOptions,
    input: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
  ): Promise<Page<AuditEvent>> {
    return queryPage(
      { client: this.#client, tableName: this.#table },
      `audit ${operation}`,
      page,
      input,
      toAuditEvent,
    );
  }
}

function toAuditEvent(item: Record<string, unknown>): AuditEvent {
  const event: Record<string, unknown> = {};
  for (const field of AUDIT_FIELDS) if (item[field] !== undefined) event[field] = item[field];
  return event as unknown as AuditEvent;
}
