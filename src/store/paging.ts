// Opaque cursors over DynamoDB's LastEvaluatedKey, one paged Query, and a helper to walk every page.
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
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
  const exclusiveStartKey = decodeCursor(page.cursor);
  try {
    const out = await target.client.send(
      new QueryCommand({
        ...input,
        TableName: target.tableName,
        Limit: page.limit ?? DEFAULT_PAGE_SIZE,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    return { items: (out.Items ?? []).map(toItem), cursor: encodeCursor(out.LastEvaluatedKey) };
  } catch (err) {
    throw new StoreAccessError(operation, err);
  }
}

/** Fetch every page (for jobs that must see everything, e.g. the expiry sweep). */
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
