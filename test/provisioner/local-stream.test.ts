/** The local stream stand-in's delivery rules, which the provisioner tests and the playground rely on. */
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { startLocalStream } from "../../dev/stream.ts";

let db: LocalDynamo;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(async () => {
  await db?.stop();
});

const put = (pk: string, n: number) =>
  db.doc.send(new PutCommand({ TableName: db.tableName, Item: { pk, sk: "X", n } }));

describe("local stream stand-in", () => {
  it("one record per successful write, in commit order; failed conditional writes produce none", async () => {
    const seen: DynamoDBStreamEvent[] = [];
    const stream = startLocalStream({
      client: db.client,
      tableName: db.tableName,
      onRecords: (event) => {
        seen.push(event);
        return { batchItemFailures: [] };
      },
    });
    try {
      await put("A", 1);
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tableName,
          Key: { pk: "A", sk: "X" },
          UpdateExpression: "SET n = :two",
          ExpressionAttributeValues: { ":two": 2 },
        }),
      );
      await expect(
        db.doc.send(
          new PutCommand({
            TableName: db.tableName,
            Item: { pk: "A", sk: "X", n: 9 },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      ).rejects.toThrow();
      await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: { pk: "A", sk: "X" } }));
      await stream.drain();
      const records = seen.flatMap((e) => e.Records);
      expect(records.map((r) => r.eventName)).toEqual(["INSERT", "MODIFY", "REMOVE"]);
      expect(records[1]?.dynamodb?.OldImage?.n).toEqual({ N: "1" });
      expect(records[1]?.dynamodb?.NewImage?.n).toEqual({ N: "2" });
      expect(records[2]?.dynamodb?.NewImage).toBeUndefined();
      expect(records[2]?.dynamodb?.Keys).toEqual({ pk: { S: "A" }, sk: { S: "X" } });
    } finally {
      await stream.stop();
    }
  });

  it("redelivers from the first reported failure, and drops a record after maxRetries with a warning", async () => {
    const deliveries: string[][] = [];
    const warnings: string[] = [];
    let failB = 2;
    const stream = startLocalStream({
      client: db.client,
      tableName: db.tableName,
      batchSize: 10,
      maxRetries: 1,
      retryDelayMs: 1,
      onWarning: (m) => warnings.push(m),
      onRecords: (event) => {
        const keys = event.Records.map((r) => r.dynamodb?.Keys?.pk?.S ?? "");
        deliveries.push(keys);
        const b = event.Records.find((r) => r.dynamodb?.Keys?.pk?.S === "B");
        if (b && failB-- > 0)
          return { batchItemFailures: [{ itemIdentifier: b.dynamodb?.SequenceNumber ?? "" }] };
        return { batchItemFailures: [] };
      },
    });
    try {
      await Promise.all([put("B", 1), put("C", 1)]);
      await stream.drain();
      // B failed twice (once retried, then dropped); C, after it, came again each time until B was dropped.
      expect(deliveries.filter((d) => d.includes("B"))).toHaveLength(2);
      expect(deliveries.at(-1)).toEqual(["C"]);
      expect(warnings.some((w) => w.includes("dropping record"))).toBe(true);
    } finally {
      await stream.stop();
    }
  });
});
