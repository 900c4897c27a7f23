// DynamoDB through the stand-in: DynamoDB Local (and dynalite, moto) evaluate no IAM at all, so the
// stand-in judges each DynamoDB request against the caller's policies and only then forwards it, byte
// for byte, to the real engine. The SDK points at the stand-in with AWS_ENDPOINT_URL_DYNAMODB.

import { type IncomingMessage, request } from "node:http";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoDbChecks, type KeySchema } from "./authz/dynamodb-checks.ts";
import type { Check } from "./authz/evaluate.ts";
import { AwsFault } from "./wire.ts";

const DYNAMODB_TARGET = /^DynamoDB_20120810\./;

export function isDynamoDbTarget(target: string): boolean {
  return DYNAMODB_TARGET.test(target);
}

export interface ForwardedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sees each authorized request on its way to the engine (e.g. dev/stream.ts, which reads the items
 * around a write): `send` forwards it; the observer returns the engine's answer.
 */
export type DynamoDbObserver = (
  operation: string,
  input: Record<string, unknown>,
  send: () => Promise<ForwardedAnswer>,
) => Promise<ForwardedAnswer>;

export interface DynamoDbProxy {
  forward(
    req: IncomingMessage,
    body: string,
    authorize: (checks: Check[]) => Promise<void>,
  ): Promise<ForwardedAnswer>;
  /** Observe every request from now on, whoever signs it; returns a function that stops observing. */
  observe(observer: DynamoDbObserver): () => void;
}

// Headers that describe the hop, not the message.
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "content-length"]);

export function createDynamoDbProxy(endpoint: string): DynamoDbProxy {
  const upstream = new URL(endpoint);
  // The engine accepts any credentials; these only read key schemas.
  const describer = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const schemas = new Map<string, KeySchema>();
  const observers = new Set<DynamoDbObserver>();

  async function schemaFor(table: string): Promise<void> {
    if (schemas.has(table)) return;
    try {
      const { Table } = await describer.send(new DescribeTableCommand({ TableName: table }));
      const hash = (keys: { AttributeName?: string; KeyType?: string }[] | undefined) =>
        keys?.find((k) => k.KeyType === "HASH")?.AttributeName ?? "";
      schemas.set(table, {
        partitionKey: hash(Table?.KeySchema),
        indexes: Object.fromEntries(
          [...(Table?.GlobalSecondaryIndexes ?? []), ...(Table?.LocalSecondaryIndexes ?? [])].map((i) => [
            i.IndexName ?? "",
            hash(i.KeySchema),
          ]),
        ),
      });
    } catch {
      // No such table (yet): judged on its ARN alone; the engine answers ResourceNotFoundException.
    }
  }

  return {
    observe(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
    async forward(req, body, authorize) {
      const target = String(req.headers["x-amz-target"]);
      const operation = target.slice(target.indexOf(".") + 1);
      let input: Record<string, unknown>;
      try {
        input = body.trim() ? (JSON.parse(body) as Record<string, unknown>) : {};
      } catch {
        throw new AwsFault(
          "SerializationException",
          400,
          "Start of structure or map found where not expected",
        );
      }
      const tables = new Set<string>();
      if (typeof input.TableName === "string") tables.add(input.TableName);
      for (const t of Object.keys((input.RequestItems ?? {}) as object)) tables.add(t);
      for (const item of (Array.isArray(input.TransactItems) ? input.TransactItems : []) as object[]) {
        for (const op of Object.values(item) as { TableName?: unknown }[]) {
          if (typeof op.TableName === "string") tables.add(op.TableName);
        }
      }
      await Promise.all([...tables].map(schemaFor));
      await authorize(dynamoDbChecks(operation, input, (t) => schemas.get(t)));
      if (operation === "DeleteTable" && typeof input.TableName === "string") schemas.delete(input.TableName);

      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (!HOP.has(k) && typeof v === "string") headers[k] = v;
      }
      const send = () =>
        new Promise<ForwardedAnswer>((resolve, reject) => {
          const out = request(
            {
              host: upstream.hostname,
              port: upstream.port,
              path: req.url?.replace(/^https?:\/\/[^/]*/i, "") || "/",
              method: req.method ?? "POST",
              headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
            },
            (answer) => {
              const chunks: Buffer[] = [];
              answer.on("data", (c: Buffer) => chunks.push(c));
              answer.on("error", reject);
              answer.on("end", () => {
                const h: Record<string, string> = {};
                for (const [k, v] of Object.entries(answer.headers)) {
                  if (!HOP.has(k) && typeof v === "string") h[k] = v;
                }
                resolve({ status: answer.statusCode ?? 500, headers: h, body: Buffer.concat(chunks) });
              });
            },
          );
          out.on("error", reject);
          out.end(body);
        });
      const observed = [...observers].reduce<() => Promise<ForwardedAnswer>>(
        (next, observer) => () => observer(operation, input, next),
        send,
      );
      return observed();
    },
  };
}
