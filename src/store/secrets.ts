// One-time secrets (ciphertext only; the key lives in the link fragment). Consume is ONE conditional
// DeleteItem: the item comes back only to the caller whose delete removed it, and only if not expired.
// Expiry is checked in the condition and again in code, because TTL deletion lags by up to days.
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { isConditionalCheckFailed, SecretExistsError, StoreAccessError } from "./errors.ts";
import { secretKey } from "./keys.ts";
import { TABLE_SCHEMA } from "./table.ts";
import type { SecretRecord } from "./types.ts";

export interface SecretStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

// Items use `secretExpiresAt` (a number) and `ownerUserId`: `expiresAt` and `requesterUserId` are GSI keys
// of requests, and a secret must neither clash with their types nor show up in those indexes.
const TTL = TABLE_SCHEMA.timeToLiveAttribute;

/**
 * The conditional Put of one secret (never overwrites), for `put` and for callers that write it inside
 * their own transaction (the request store: the provisioner's link and the progress naming it commit
 * together, src/store/requests.ts `recordProgressSteps`).
 */
export function secretPut(
  tableName: string,
  record: SecretRecord,
): { TableName: string; Item: Record<string, unknown>; ConditionExpression: string } {
  return {
    TableName: tableName,
    Item: {
      ...secretKey(record.id),
      secretId: record.id,
      ciphertext: record.ciphertext,
      iv: record.iv,
      secretExpiresAt: record.expiresAt,
      [TTL]: record.expiresAt,
      requestId: record.requestId,
      ownerUserId: record.requesterUserId,
    },
    ConditionExpression: "attribute_not_exists(pk)",
  };
}

export class SecretStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: SecretStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async put(record: SecretRecord): Promise<void> {
    try {
      await this.#client.send(new PutCommand(secretPut(this.#table, record)));
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new SecretExistsError({ cause: err });
      throw new StoreAccessError("secret put", err);
    }
  }

  /** Returns the record to exactly one caller while unexpired; afterwards (or after expiry) undefined. */
  async consume(id: string, nowEpochSeconds: number): Promise<SecretRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: secretKey(id),
          ConditionExpression: "attribute_exists(pk) AND secretExpiresAt > :now",
          ExpressionAttributeValues: { ":now": nowEpochSeconds },
          ReturnValues: "ALL_OLD",
        }),
      );
      item = out.Attributes;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw new StoreAccessError("secret consume", err);
    }
    if (!item) return undefined;
    const record = toSecretRecord(item);
    // Belt and braces: an engine that ignored the condition must still not hand out an expired secret.
    return record.expiresAt > nowEpochSeconds ? record : undefined;
  }

  /** Whether a consume now would succeed (the GET page uses it; it consumes nothing). */
  async isAvailable(id: string, nowEpochSeconds: number): Promise<boolean> {
    try {
      const out = await this.#client.send(
        new GetCommand({
          TableName: this.#table,
          Key: secretKey(id),
          ConsistentRead: true,
          ProjectionExpression: "secretExpiresAt",
        }),
      );
      const expiresAt = out.Item?.secretExpiresAt;
      return typeof expiresAt === "number" && expiresAt > nowEpochSeconds;
    } catch (err) {
      throw new StoreAccessError("secret lookup", err);
    }
  }
}

function toSecretRecord(item: Record<string, unknown>): SecretRecord {
  return {
    id: String(item.secretId),
    ciphertext: String(item.ciphertext),
    iv: String(item.iv),
    expiresAt: Number(item.secretExpiresAt),
    requestId: String(item.requestId),
    requesterUserId: String(item.ownerUserId),
  };
}
