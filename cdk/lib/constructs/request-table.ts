// The request table, built from the store's single definition (src/store/table.ts), and the ways a
// function may use it: whole items and the named indexes, or the secret-link function's narrow slice.
import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { auditPartition, requestKey, secretKey } from "../../../src/store/keys.ts";
import { AUDIT_INDEXES, TABLE_SCHEMA } from "../../../src/store/table.ts";

// The store writes with TransactWriteItems. IAM has no action for the transaction itself: each item in it
// is authorized as its own PutItem / UpdateItem / DeleteItem (dynamodb:ConditionCheckItem only for a
// ConditionCheck, which the store does not use), so these lists cover it. No batch calls.
export const TABLE_READ = ["dynamodb:GetItem", "dynamodb:Query"] as const;
export const TABLE_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"] as const;
export type TableItemAction = (typeof TABLE_READ)[number] | (typeof TABLE_WRITE)[number];

/**
 * Requests, audit events, secrets, locks and jobs in one table with a stream (NEW_AND_OLD_IMAGES),
 * retained and deletion-protected. The table is this construct's default child (id "Default"), so it
 * keeps the logical ID it had as the stack's `Table`.
 */
export class RequestTable extends Construct {
  readonly table: dynamodb.Table;
  readonly tableName: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const attr = (a: { name: string; type: "S" | "N" }): dynamodb.Attribute => ({
      name: a.name,
      type: a.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
    });
    this.table = new dynamodb.Table(this, "Default", {
      partitionKey: attr(TABLE_SCHEMA.partitionKey),
      sortKey: attr(TABLE_SCHEMA.sortKey),
      billingMode:
        TABLE_SCHEMA.billingMode === "PAY_PER_REQUEST"
          ? dynamodb.BillingMode.PAY_PER_REQUEST
          : dynamodb.BillingMode.PROVISIONED,
      timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
      stream: dynamodb.StreamViewType[TABLE_SCHEMA.streamViewType],
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Requests and the audit trail outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const gsi of TABLE_SCHEMA.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: attr(gsi.partitionKey),
        sortKey: attr(gsi.sortKey),
        projectionType: dynamodb.ProjectionType[gsi.projectionType],
      });
    }
    this.tableName = this.table.tableName;
  }

  /** These item actions on the table and its named request indexes only (no index wildcard; the audit
   *  indexes are `grantReadAudit`'s). */
  grantItems(grantee: iam.IGrantable, actions: readonly TableItemAction[]): void {
    const indexArns = TABLE_SCHEMA.globalSecondaryIndexes
      .filter((gsi) => !AUDIT_INDEXES.includes(gsi.indexName))
      .map((gsi) => `${this.table.tableArn}/index/${gsi.indexName}`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "RequestTable",
        actions: [...actions],
        resources: [this.table.tableArn, ...indexArns],
      }),
    );
  }

  /** Read the audit trail (by person, by prefix): Query on the two audit indexes, nothing else. */
  grantReadAudit(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ReadAuditTrail",
        actions: ["dynamodb:Query"],
        resources: AUDIT_INDEXES.map((name) => `${this.table.tableArn}/index/${name}`),
      }),
    );
  }

  /**
   * The internet-facing secret-link function: read and consume one-time secrets, append audit events
   * (which never overwrite: the store writes them with attribute_not_exists). Key prefixes come from
   * the store's key builders, so they cannot drift from what it writes.
   */
  grantConsumeSecretsAndAppendAudit(grantee: iam.IGrantable): void {
    const prefix = (pk: string) => `${pk}*`;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ConsumeSecretsOnly",
        actions: ["dynamodb:GetItem", "dynamodb:DeleteItem"],
        resources: [this.table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [prefix(secretKey("").pk)] } },
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "AppendAuditEvents",
        actions: ["dynamodb:PutItem"],
        resources: [this.table.tableArn],
        conditions: {
          "ForAllValues:StringLike": {
            "dynamodb:LeadingKeys": [prefix(requestKey("").pk), prefix(auditPartition(undefined, ""))],
          },
        },
      }),
    );
  }
}
