/**
 * A local stand-in for the DynamoDB stream that triggers the provisioner (the local
 * engines have no streams).
 *
 * Choice: capture writes at the client, not by polling. A middleware on the DynamoDBClient (which the
 * store's DocumentClient shares) serialises PutItem/UpdateItem/DeleteItem on the table, reads the item
 * with ConsistentRead just before and just after each successful write, and queues one record with the
 * images in AttributeValue form, like a NEW_AND_OLD_IMAGES stream. Polling would miss intermediate
 * states (FAILED → APPROVED → ACTIVE between two scans) and reorder them; capturing at the client sees
 * every change in commit order. Writes are captured either at a client's middleware (attach every client
 * that writes) or, when DynamoDB is served through the local AWS, at its proxy: there every function's
 * writes are seen, whatever client made them. The price: failed conditional
 * writes produce nothing (as on AWS), and BatchWriteItem is not captured (the store does not use it; a
 * warning says so if one appears). A TransactWriteItems (every store change is one) yields one record
 * per item it wrote on the table, in the order of its TransactItems, as DynamoDB Streams does;
 * ConditionChecks and a cancelled transaction yield nothing.
 *
 * Delivery mimics Lambda's event source mapping: batches of up to `batchSize` records in order, one
 * batch at a time; with ReportBatchItemFailures, a batch is retried from the first failed record
 * (a thrown handler retries the whole batch) up to `maxRetries` times, after which the records are
 * dropped with a warning (Lambda would send them to an on-failure destination).
 */
import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type PutItemCommandInput,
  type TransactWriteItemsCommandInput,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { LocalAws } from "./local-aws/index.ts";

export type StreamHandler = (
  event: DynamoDBStreamEvent,
) => Promise<DynamoDBBatchResponse | undefined> | DynamoDBBatchResponse | undefined;

export interface LocalStreamOptions {
  /**
   * Client whose writes (and those of DocumentClients made from it) become records; it also reads the
   * images, so it should talk to the engine directly.
   */
  client: DynamoDBClient;
  /**
   * Capture at the local AWS too: every write it forwards, whichever function's role signs it and
   * whatever client it comes from (the Lambda entries make their own), as a real stream sees the table.
   */
  localAws?: Pick<LocalAws, "observeDynamoDb">;
  tableName: string;
  /** Receives each batch, like a Lambda function with ReportBatchItemFailures. */
  onRecords: StreamHandler;
  /** Key attribute names (default the store's pk/sk). */
  keyNames?: readonly string[];
  batchSize?: number;
  /** Retries of a failed batch before its records are dropped (Lambda's MaximumRetryAttempts). */
  maxRetries?: number;
  retryDelayMs?: number;
  region?: string;
  accountId?: string;
  /** Called when a batch is dropped or the handler throws (default: console.warn). */
  onWarning?: (message: string, err?: unknown) => void;
}

export interface LocalStream {
  /** Capture writes made through one more client (same table). */
  attach(client: DynamoDBClient): void;
  /** Capture every write a local AWS forwards to the engine. */
  attachLocalAws(local: Pick<LocalAws, "observeDynamoDb">): void;
  /** Every record produced so far, in order. */
  readonly records: readonly DynamoDBRecord[];
  /** Resolves when every queued record was delivered (including retries). */
  drain(): Promise<void>;
  /** Detach from every client; undelivered records are discarded after the current batch. */
  stop(): Promise<void>;
}

type Item = Record<string, AttributeValue>;

const MIDDLEWARE_NAME = "cytoskelLocalStream";
const WRITE_COMMANDS = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand"]);
const TRANSACT_COMMAND = "TransactWriteItemsCommand";
const UNCAPTURED = new Set(["BatchWriteItemCommand", "ExecuteStatementCommand", "ExecuteTransactionCommand"]);

export function startLocalStream(opts: LocalStreamOptions): LocalStream {
  const keyNames = opts.keyNames ?? ["pk", "sk"];
  const region = opts.region ?? "us-east-1";
  const streamArn = `arn:aws:dynamodb:${region}:${opts.accountId ?? "123456789012"}:table/${opts.tableName}/stream/${new Date().toISOString()}`;
  const batchSize = opts.batchSize ?? 10;
  const maxRetries = opts.maxRetries ?? 3;
  const retryDelayMs = opts.retryDelayMs ?? 50;
  const warn = opts.onWarning ?? ((message: string) => console.warn(`[local stream] ${message}`));

  const records: DynamoDBRecord[] = [];
  const queue: { record: DynamoDBRecord; retries: number }[] = [];
  const attached: DynamoDBClient[] = [];
  let sequence = 0;
  let writeChain: Promise<unknown> = Promise.resolve();
  let pumping: Promise<void> | undefined;
  let stopped = false;

  const readItem = async (client: DynamoDBClient, key: Item): Promise<Item | undefined> => {
    const out = await client.send(
      new GetItemCommand({ TableName: opts.tableName, Key: key, ConsistentRead: true }),
    );
    return out.Item;
  };

  const keyOf = (commandName: string, input: Record<string, unknown>): Item | undefined => {
    if (commandName === "PutItemCommand") {
      const item = (input as unknown as PutItemCommandInput).Item ?? {};
      const key: Item = {};
      for (const name of keyNames) {
        const v = item[name];
        if (!v) return undefined;
        key[name] = v;
      }
      return key;
    }
    return (
      ((input as unknown as UpdateItemCommandInput | DeleteItemCommandInput).Key as Item | undefined) ??
      undefined
    );
  };

  /** Keys of the items a transaction writes on this table, in order (ConditionChecks write nothing). */
  const transactKeys = (input: Record<string, unknown>): Item[] => {
    const keys: Item[] = [];
    for (const entry of (input as unknown as TransactWriteItemsCommandInput).TransactItems ?? []) {
      const op = entry.Put ?? entry.Update ?? entry.Delete;
      if (!op || op.TableName !== opts.tableName) continue;
      const key = entry.Put
        ? keyOf("PutItemCommand", entry.Put as unknown as Record<string, unknown>)
        : ((op as { Key?: Item }).Key ?? undefined);
      if (key) keys.push(key);
    }
    return keys;
  };

  const enqueue = (key: Item, oldImage: Item | undefined, newImage: Item | undefined) => {
    if (!oldImage && !newImage) return;
    const eventName = !oldImage ? "INSERT" : !newImage ? "REMOVE" : "MODIFY";
    sequence += 1;
    const record: DynamoDBRecord = {
      eventID: randomUUID().replace(/-/g, ""),
      eventName,
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: region,
      eventSourceARN: streamArn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: key as never,
        ...(newImage ? { NewImage: newImage as never } : {}),
        ...(oldImage ? { OldImage: oldImage as never } : {}),
        SequenceNumber: String(sequence).padStart(21, "0"),
        SizeBytes: Buffer.byteLength(JSON.stringify({ key, newImage, oldImage })),
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    };
    records.push(record);
    queue.push({ record, retries: 0 });
    pump();
  };

  const pump = () => {
    if (pumping || stopped) return;
    pumping = (async () => {
      while (queue.length > 0 && !stopped) {
        const batch = queue.slice(0, batchSize);
        let failedFrom = -1;
        try {
          const res = await opts.onRecords({ Records: batch.map((b) => b.record) });
          const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
          failedFrom = batch.findIndex((b) => failed.has(b.record.dynamodb?.SequenceNumber ?? ""));
        } catch (err) {
          warn("handler threw; retrying the whole batch", err);
          failedFrom = 0;
        }
        if (failedFrom < 0) {
          queue.splice(0, batch.length);
          continue;
        }
        // Done up to the first failure; retry from there (Lambda checkpoints the same way).
        queue.splice(0, failedFrom);
        const head = queue[0];
        if (head && head.retries >= maxRetries) {
          warn(`dropping record ${head.record.dynamodb?.SequenceNumber} after ${maxRetries} retries`);
          queue.shift();
        } else if (head) {
          head.retries += 1;
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
        }
      }
    })().finally(() => {
      pumping = undefined;
      if (queue.length > 0 && !stopped) pump();
    });
  };

  /**
   * One write, captured: serialised with every other, the items it touches read before and after, a
   * record queued per changed item if it `succeeded`. Commands are named as the SDK names them.
   */
  const capture = async <R>(
    commandName: string,
    input: Record<string, unknown>,
    send: () => Promise<R>,
    succeeded: (result: R) => boolean,
  ): Promise<R> => {
    if (UNCAPTURED.has(commandName)) warn(`${commandName} is not captured by the local stream`);
    if (stopped) return send();
    let keys: Item[];
    if (commandName === TRANSACT_COMMAND) keys = transactKeys(input);
    else if (WRITE_COMMANDS.has(commandName) && input.TableName === opts.tableName) {
      const key = keyOf(commandName, input);
      keys = key ? [key] : [];
    } else keys = [];
    if (keys.length === 0) return send();
    // One write at a time, so the images around it are exactly its before and after.
    const run = writeChain.then(async () => {
      const oldImages: (Item | undefined)[] = [];
      for (const key of keys) oldImages.push(await readItem(opts.client, key));
      const result = await send();
      if (!succeeded(result)) return result;
      for (const [i, key] of keys.entries()) {
        const newImage = commandName === "DeleteItemCommand" ? undefined : await readItem(opts.client, key);
        enqueue(key, oldImages[i], newImage);
      }
      return result;
    });
    writeChain = run.catch(() => undefined);
    return run;
  };

  const attach = (client: DynamoDBClient) => {
    attached.push(client);
    client.middlewareStack.add(
      (next, context) => async (args) =>
        capture(
          (context as { commandName?: string }).commandName ?? "",
          args.input as Record<string, unknown>,
          () => next(args),
          () => true, // a failed write throws
        ),
      { step: "build", name: MIDDLEWARE_NAME, override: true },
    );
  };

  const detachers: (() => void)[] = [];
  const attachLocalAws = (local: Pick<LocalAws, "observeDynamoDb">) => {
    detachers.push(
      local.observeDynamoDb((operation, input, send) =>
        capture(`${operation}Command`, input, send, (answer) => answer.status === 200),
      ),
    );
  };

  if (opts.localAws) attachLocalAws(opts.localAws);
  attach(opts.client);

  return {
    attach,
    attachLocalAws,
    get records() {
      return records;
    },
    async drain() {
      for (;;) {
        await writeChain;
        if (pumping) await pumping;
        // A delivery may have written (and so queued) more; settle once things are quiet.
        await new Promise((resolve) => setImmediate(resolve));
        if (!pumping && queue.length === 0) return;
      }
    },
    async stop() {
      stopped = true;
      for (const client of attached) client.middlewareStack.remove(MIDDLEWARE_NAME);
      for (const detach of detachers) detach();
      if (pumping) await pumping;
    },
  };
}
