// Append-only audit trail. Events for a request live in the request's item collection (one Query
// reads them in order); the auditByUser index serves "everything about this person". The request store
// writes its events inside the same transaction as the change they record (`prepare`); events not tied
// to a store change (a consumed secret, a user-level revoke) are single puts (`append`). An event that
// names its `scope` is also in the auditByDataset index, so "everything at or under cpg0042/" is one
// Query of partition "cpg0042" (filtered on `scope` for a deeper prefix), newest first.
import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, PutCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { ForbiddenDataError, isConditionalCheckFailed, StoreAccessError } from "./errors.ts";
import { AUDIT_SK_PREFIX, auditDatasetOf, auditPartition, auditSortKey } from "./keys.ts";
import { DEFAULT_PAGE_SIZE, queryPage } from "./paging.ts";
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
  "scope",
  "details",
] as const;

/** Queries one prefix page may take: a deep prefix filters its dataset's partition, so a page can come
 *  back short; a few more reads fill it, and the bound keeps a Slack answer inside its 3 s. */
const MAX_FILTERED_READS = 5;

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
          ...(event.scope !== undefined ? { auditDataset: auditDatasetOf(event.scope) } : {}),
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

  /**
   * Events about any scope at or under `subPrefix` (normalised, e.g. "cpg0042/*" or "cpg0042/a/*"; not the
   * whole bucket), newest first. "cpg0042/*" matches events for "cpg0042/a/*" but never "cpg00421/*".
   * A page may hold fewer than `limit` events and still carry a cursor (more may follow).
   */
  async listForPrefix(subPrefix: string, page: PageOptions = {}): Promise<Page<AuditEvent>> {
    const body = subPrefix.endsWith("/*") ? subPrefix.slice(0, -2) : subPrefix.replace(/\/$/, "");
    if (body === "" || body === "*")
      throw new RangeError("listForPrefix needs a prefix below the bucket root");
    const deep = body.includes("/");
    const input = {
      IndexName: INDEX.auditByDataset,
      KeyConditionExpression: "auditDataset = :d",
      ExpressionAttributeValues: { ":d": auditDatasetOf(body), ...(deep ? { ":under": `${body}/` } : {}) },
      ...(deep
        ? { FilterExpression: "begins_with(#scope, :under)", ExpressionAttributeNames: { "#scope": "scope" } }
        : {}),
      ScanIndexForward: false,
    };
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const items: AuditEvent[] = [];
    let cursor = page.cursor;
    for (let read = 0; read < MAX_FILTERED_READS; read++) {
      // DynamoDB applies Limit before the filter: ask only for what is missing, so a page never overflows.
      const got = await this.#query(
        "listForPrefix",
        { limit: limit - items.length, ...(cursor ? { cursor } : {}) },
        input,
      );
      items.push(...got.items);
      cursor = got.cursor;
      if (!cursor || items.length >= limit) break;
    }
    return { items, ...(cursor ? { cursor } : {}) };
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
