// THE table definition: the tests create the table from `createTableInput`, the CDK stack reads
// `TABLE_SCHEMA` (plain constants; AttributeType "S" equals CDK's AttributeType.STRING), so they cannot drift.
//
// Single table, items told apart by their key prefixes (see src/store/keys.ts):
//   request      pk=REQ#<id>                         sk=META
//   audit event  pk=REQ#<id> (or USER#<userId>)      sk=AUDIT#<at>#<eventId>   (same collection as its request)
//   open lock    pk=OPEN#<team>#<user>#<subPrefix>   sk=LOCK   (one per requester+scope: refuses duplicates)
//   secret       pk=SECRET#<id>                      sk=SECRET (TTL attribute `ttl`)
//   sweep failure pk=SWEEP#failures                  sk=KIND#<kind>   (src/store/sweep-failures.ts)
// The GSIs key on plain attributes that only the right items carry, so each index is sparse:
//   byStatus        status / createdAt        pending requests oldest first (any status, in fact)
//   byStatusExpiry  status / expiresAt        ACTIVE requests expiring before a time
//   byRequester     requesterUserId / createdAt   a person's requests
//   activeByUser    activeUserId / createdAt  set only while ACTIVE: a person's active grants
//   auditByUser     subjectUserId / at        audit events about a person
//   openJobs        openJob / requestedAt     admin jobs not finished (QUEUED, RUNNING): the reconciler's list
//   auditByDataset  auditDataset / at         audit events about a scope, by its first segment ("cpg0042");
//                                             a deeper prefix filters on `scope` within that partition
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export type KeyType = "S" | "N";

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly projectionType: "ALL";
}

export const INDEX = {
  byStatus: "byStatus",
  byStatusExpiry: "byStatusExpiry",
  byRequester: "byRequester",
  activeByUser: "activeByUser",
  auditByUser: "auditByUser",
  auditByDataset: "auditByDataset",
  openJobs: "openJobs",
} as const;

/** The indexes that read the audit trail (granted apart from the request indexes: only readers of the
 *  trail get them). */
export const AUDIT_INDEXES: readonly string[] = [INDEX.auditByUser, INDEX.auditByDataset];

export const TABLE_SCHEMA = {
  partitionKey: { name: "pk", type: "S" },
  sortKey: { name: "sk", type: "S" },
  globalSecondaryIndexes: [
    {
      indexName: INDEX.byStatus,
      partitionKey: { name: "status", type: "S" },
      sortKey: { name: "createdAt", type: "S" },
      projectionType: "ALL",
    },
    {
      indexName: INDEX.byStatusExpiry,
      partitionKey: { name: "status", type: "S" },
      sortKey: { name: "expiresAt", type: "S" },
      projectionType: "ALL",
    },
    {
      indexName: INDEX.byRequester,
      partitionKey: { name: "requesterUserId", type: "S" },
      sortKey: { name: "createdAt", type: "S" },
      projectionType: "ALL",
    },
    {
      indexName: INDEX.activeByUser,
      partitionKey: { name: "activeUserId", type: "S" },
      sortKey: { name: "createdAt", type: "S" },
      projectionType: "ALL",
    },
    {
      indexName: INDEX.auditByUser,
      partitionKey: { name: "subjectUserId", type: "S" },
      sortKey: { name: "at", type: "S" },
      projectionType: "ALL",
    },
    {
      indexName: INDEX.auditByDataset,
      partitionKey: { name: "auditDataset", type: "S" },
      sortKey: { name: "at", type: "S" },
      projectionType: "ALL",
    },
    {
      indexName: INDEX.openJobs,
      partitionKey: { name: "openJob", type: "S" },
      sortKey: { name: "requestedAt", type: "S" },
      projectionType: "ALL",
    },
  ],
  /** Epoch seconds; only secrets carry it. TTL deletion lags, so expiry is always also checked in code. */
  timeToLiveAttribute: "ttl",
  /** The provisioner is driven by the stream and needs the old status to see a transition. */
  streamViewType: "NEW_AND_OLD_IMAGES",
  billingMode: "PAY_PER_REQUEST",
} as const satisfies {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  globalSecondaryIndexes: readonly IndexDefinition[];
  timeToLiveAttribute: string;
  streamViewType: "NEW_AND_OLD_IMAGES";
  billingMode: "PAY_PER_REQUEST";
};

/** CreateTable input for tests and local playgrounds. TTL is a separate call (UpdateTimeToLive). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, KeyType>();
  const add = (a: KeyAttribute) => attributes.set(a.name, a.type);
  add(TABLE_SCHEMA.partitionKey);
  add(TABLE_SCHEMA.sortKey);
  for (const gsi of TABLE_SCHEMA.globalSecondaryIndexes) {
    add(gsi.partitionKey);
    add(gsi.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: TABLE_SCHEMA.billingMode,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey.name, KeyType: "HASH" },
      { AttributeName: TABLE_SCHEMA.sortKey.name, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: TABLE_SCHEMA.globalSecondaryIndexes.map((gsi) => ({
      IndexName: gsi.indexName,
      KeySchema: [
        { AttributeName: gsi.partitionKey.name, KeyType: "HASH" },
        { AttributeName: gsi.sortKey.name, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: gsi.projectionType },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_SCHEMA.streamViewType },
  };
}
