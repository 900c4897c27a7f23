// Which failure kinds the scheduled job has already reported to the admin channel, so its runs (every
// few minutes) post each kind once, not every run. One item per kind, all in one partition:
//
//   sweep failure   pk=SWEEP#failures   sk=KIND#<kind>   (kind, reportedAt)
//
// A kind is claimed with a conditional put before it is posted (two overlapping runs post it once) and
// deleted when a run no longer meets it, so the next time it fails it is posted again. Attribute names
// avoid every GSI key, so these items appear in no index; they carry neither `status` nor `jobState`, so
// the provisioner's stream filters never deliver them. Calls: list = 1 Query, claim = 1 PutItem,
// clear = 1 DeleteItem.
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { isConditionalCheckFailed, StoreAccessError } from "./errors.ts";
import { SWEEP_FAILURES_PK, sweepFailureKey } from "./keys.ts";

export interface SweepFailureRecord {
  kind: string;
  /** ISO time it was posted. */
  reportedAt: string;
}

export class SweepFailureStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  /** Every kind reported and not yet cleared (a handful: one partition, one page). */
  async list(): Promise<SweepFailureRecord[]> {
    try {
      const out = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": SWEEP_FAILURES_PK },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((i) => ({ kind: String(i.kind), reportedAt: String(i.reportedAt) }));
    } catch (err) {
      throw new StoreAccessError("list sweep failures", err);
    }
  }

  /** Records `kind` as reported; false when it already was (another run got there first). */
  async claim(kind: string, reportedAt: string): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...sweepFailureKey(kind), kind, reportedAt },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new StoreAccessError("claim sweep failure", err);
    }
  }

  /** Forgets `kind`: it worked again (or its post failed), so its next failure is reported. */
  async clear(kind: string): Promise<void> {
    try {
      await this.#client.send(new DeleteCommand({ TableName: this.#table, Key: sweepFailureKey(kind) }));
    } catch (err) {
      throw new StoreAccessError("clear sweep failure", err);
    }
  }
}
