// What IAM checks for a DynamoDB (JSON 1.0) request: the action per item, the table or index ARN, and
// dynamodb:LeadingKeys (the partition key values the request touches). TransactWriteItems and
// TransactGetItems have no IAM action of their own: each item is authorized as the item action it
// performs (Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck ->
// ConditionCheckItem, Get -> GetItem), with dynamodb:EnclosingOperation naming the transaction.
import type { Check } from "./evaluate.ts";

export interface KeySchema {
  /** Partition key attribute of the table. */
  partitionKey: string;
  /** Partition key attribute of each index, by index name. */
  indexes: Record<string, string>;
}

type AttributeValue = Record<string, unknown>;
type Json = Record<string, unknown>;

/** The key value as IAM compares it: the scalar's text. */
function scalar(value: unknown): string | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as AttributeValue;
  for (const t of ["S", "N", "B"]) if (typeof v[t] === "string") return v[t] as string;
  return undefined;
}

function leadingKey(item: unknown, attribute: string | undefined): string[] {
  if (!attribute || !item || typeof item !== "object") return [];
  const v = scalar((item as Json)[attribute]);
  return v === undefined ? [] : [v];
}

/** The partition key value a Query names: `<pk> = :v` in KeyConditionExpression (or KeyConditions). */
function queryLeadingKeys(body: Json, attribute: string | undefined): string[] {
  if (!attribute) return [];
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (body.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const expression = typeof body.KeyConditionExpression === "string" ? body.KeyConditionExpression : "";
  for (const m of expression.matchAll(/([#\w.]+)\s*=\s*(:\w+)/g)) {
    const name = m[1]?.startsWith("#") ? names[m[1]] : m[1];
    if (name === attribute) {
      const v = scalar(values[m[2] ?? ""]);
      return v === undefined ? [] : [v];
    }
  }
  const legacy = (body.KeyConditions ?? {}) as Record<string, { AttributeValueList?: unknown[] }>;
  const v = scalar(legacy[attribute]?.AttributeValueList?.[0]);
  return v === undefined ? [] : [v];
}

function itemContext(body: Json, keys: string[], enclosing?: string): Record<string, string | string[]> {
  const ctx: Record<string, string | string[]> = { "dynamodb:LeadingKeys": keys };
  if (typeof body.ReturnValues === "string") ctx["dynamodb:ReturnValues"] = body.ReturnValues;
  if (typeof body.Select === "string") ctx["dynamodb:Select"] = body.Select;
  if (enclosing) ctx["dynamodb:EnclosingOperation"] = enclosing;
  return ctx;
}

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: "dynamodb:PutItem",
  Update: "dynamodb:UpdateItem",
  Delete: "dynamodb:DeleteItem",
  ConditionCheck: "dynamodb:ConditionCheckItem",
};

/**
 * The checks for one DynamoDB request. `schemaOf` gives a table's key attributes (undefined when the
 * table is unknown: the request is still judged on its ARN, without LeadingKeys).
 */
export function dynamoDbChecks(
  operation: string,
  body: Json,
  schemaOf: (table: string) => KeySchema | undefined,
): Check[] {
  const table = typeof body.TableName === "string" ? body.TableName : undefined;
  const pk = table ? schemaOf(table)?.partitionKey : undefined;
  switch (operation) {
    case "GetItem":
    case "DeleteItem":
    case "UpdateItem":
      return [
        {
          action: `dynamodb:${operation}`,
          vars: { TableName: table },
          context: itemContext(body, leadingKey(body.Key, pk)),
        },
      ];
    case "PutItem":
      return [
        {
          action: "dynamodb:PutItem",
          vars: { TableName: table },
          context: itemContext(body, leadingKey(body.Item, pk)),
        },
      ];
    case "Query":
    case "Scan": {
      const index = typeof body.IndexName === "string" ? body.IndexName : undefined;
      const schema = table ? schemaOf(table) : undefined;
      const keyAttribute = index ? schema?.indexes[index] : schema?.partitionKey;
      const keys = operation === "Query" ? queryLeadingKeys(body, keyAttribute) : [];
      return [
        {
          action: `dynamodb:${operation}`,
          vars: { TableName: table, IndexName: index },
          context: itemContext(body, keys),
        },
      ];
    }
    case "TransactWriteItems": {
      const items = (Array.isArray(body.TransactItems) ? body.TransactItems : []) as Json[];
      return items.flatMap((entry) =>
        Object.entries(entry).map(([kind, op]) => {
          const o = op as Json;
          const t = typeof o.TableName === "string" ? o.TableName : undefined;
          const attr = t ? schemaOf(t)?.partitionKey : undefined;
          return {
            action: TRANSACT_WRITE_ACTIONS[kind] ?? `dynamodb:${kind}`,
            vars: { TableName: t },
            context: itemContext(o, leadingKey(kind === "Put" ? o.Item : o.Key, attr), "TransactWriteItems"),
          };
        }),
      );
    }
    case "TransactGetItems": {
      const items = (Array.isArray(body.TransactItems) ? body.TransactItems : []) as Json[];
      return items.map((entry) => {
        const o = (entry.Get ?? {}) as Json;
        const t = typeof o.TableName === "string" ? o.TableName : undefined;
        const attr = t ? schemaOf(t)?.partitionKey : undefined;
        return {
          action: "dynamodb:GetItem",
          vars: { TableName: t },
          context: itemContext(o, leadingKey(o.Key, attr), "TransactGetItems"),
        };
      });
    }
    case "BatchGetItem":
    case "BatchWriteItem": {
      const perTable = (body.RequestItems ?? {}) as Record<string, unknown>;
      return Object.entries(perTable).map(([t, spec]) => {
        const attr = schemaOf(t)?.partitionKey;
        const keys =
          operation === "BatchGetItem"
            ? (((spec as Json).Keys ?? []) as unknown[]).flatMap((k) => leadingKey(k, attr))
            : ((spec ?? []) as Json[]).flatMap((r) =>
                leadingKey(
                  ((r.PutRequest as Json | undefined)?.Item ??
                    (r.DeleteRequest as Json | undefined)?.Key) as unknown,
                  attr,
                ),
              );
        return {
          action: `dynamodb:${operation}`,
          vars: { TableName: t },
          context: { "dynamodb:LeadingKeys": keys },
        };
      });
    }
    default:
      // Table-level calls (DescribeTable, CreateTable, UpdateTimeToLive, …) and ListTables ("*").
      return [{ action: `dynamodb:${operation}`, vars: { TableName: table } }];
  }
}
