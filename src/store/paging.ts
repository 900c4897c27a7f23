// Opaque cursors over DynamoDB's LastEvaluatedKey, and every Query of the store through the SDK's one
// paginator (paginateQuery of @aws-sdk/lib-dynamodb, which speaks the DocumentClient's plain values):
// `queryPage` takes one page from a cursor, `collectAll` walks the cursors of any paged list.
import { type DynamoDBDocumentClient, paginateQuery, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { InvalidCursorError, StoreAccessError } from "./errors.ts";
import type { Page, PageOptions } from "./types.ts";

export const DEFAULT_PAGE_SIZE = 100;

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString("base64url") : undefined;
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/** One page of a Query, mapped to domain items; failures become StoreAccessError naming `operation`. */
export async function queryPage<T>(
  target: { client: DynamoDBDocumentClient; tableName: string },
  operation: string,
  page: PageOptions,
  input: Omit<QueryCommandInput, "TableName" | "Limit" | "ExclusiveStartKey">,
  toItem: (item: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const startingToken = decodeCursor(page.cursor);
  try {
    const pages = paginateQuery(
      {
        client: target.client,
        pageSize: page.limit ?? DEFAULT_PAGE_SIZE,
        ...(startingToken ? { startingToken } : {}),
      },
      { ...input, TableName: target.tableName },
    );
    // One page per call: the caller holds the cursor (a Slack list, the CLI), so the walk stops here.
    for await (const out of pages) {
      return { items: (out.Items ?? []).map(toItem), cursor: encodeCursor(out.LastEvaluatedKey) };
    }
    return { items: [] };
  } catch (err) {
    throw new StoreAccessError(operation, err);
  }
}

/**
 * Every item of a paged list (for jobs that must see everything, e.g. the expiry sweep). It walks the
 * store's opaque cursors, which the service layer holds, not LastEvaluatedKey: each page is one
 * `queryPage`, i.e. one step of the paginator.
 */
export async function collectAll<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return all;
}
