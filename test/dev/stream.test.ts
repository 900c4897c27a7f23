// The local stream stand-in sees the store's transactions the way DynamoDB Streams would: one record per
// item written, in the transaction's order; a cancelled transaction writes (and records) nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type LocalStream, startLocalStream } from "../../dev/stream.ts";
import { createStores, type Stores } from "../../src/store/index.ts";

describe("local stream stand-in with transactions", () => {
  let db: LocalDynamo;
  let stream: LocalStream;
  let stores: Stores;
  const delivered: string[] = [];

  beforeAll(async () => {
    db = await startDynamo();
    stream = startLocalStream({
      client: db.client,
      tableName: db.tableName,
      onRecords: (event) => {
        for (const r of event.Records) delivered.push(r.dynamodb?.SequenceNumber ?? "");
        return { batchItemFailures: [] };
      },
    });
    stores = createStores({ client: db.doc, tableName: db.tableName });
  });

  afterAll(async () => {
    await stream?.stop();
    await db?.stop();
  });

  const summary = (from: number) =>
    stream.records.slice(from).map((r) => {
      const pk = r.dynamodb?.Keys?.pk?.S ?? "";
      const sk = r.dynamodb?.Keys?.sk?.S ?? "";
      return `${r.eventName} ${pk.split("#")[0]} ${sk.split("#")[0]}`;
    });

  it("records each item of a create and of a transition, in the transaction's order", async () => {
    const { request } = await stores.requests.create({
      requesterUserId: "USTREAM",
      requesterTeamId: "T1",
      subPrefix: "cpg0001/*",
      permission: "READ",
    });
    await stream.drain();
    expect(summary(0)).toEqual(["INSERT OPEN LOCK", "INSERT REQ META", "INSERT REQ AUDIT"]);

    const before = stream.records.length;
    await stores.requests.transition(request.id, {
      from: "PENDING",
      to: "APPROVED",
      actor: { kind: "admin", id: "UADMIN" },
    });
    await stream.drain();
    expect(summary(before)).toEqual(["MODIFY REQ META", "INSERT REQ AUDIT"]);
    const modify = stream.records[before]?.dynamodb;
    expect(modify?.OldImage?.status?.S).toBe("PENDING");
    expect(modify?.NewImage?.status?.S).toBe("APPROVED");
    expect(delivered).toEqual(stream.records.map((r) => r.dynamodb?.SequenceNumber));
  });

  it("records nothing for a cancelled transaction", async () => {
    const { request } = await stores.requests.create({
      requesterUserId: "USTREAM2",
      requesterTeamId: "T1",
      subPrefix: "cpg0002/*",
      permission: "READ",
    });
    await stream.drain();
    const before = stream.records.length;
    await expect(
      stores.requests.transition(request.id, {
        from: "PENDING",
        to: "DENIED",
        actor: { kind: "admin", id: "UADMIN" },
        current: { ...request, status: "PENDING", updatedAt: "stale" },
      }),
    ).resolves.toMatchObject({ status: "DENIED" }); // retried on the fresh copy: one write recorded
    await expect(
      stores.requests.transition(request.id, {
        from: "PENDING",
        to: "APPROVED",
        actor: { kind: "admin", id: "UADMIN" },
        current: request,
      }),
    ).rejects.toMatchObject({ name: "TransitionConflictError" });
    await stream.drain();
    expect(summary(before)).toEqual(["MODIFY REQ META", "INSERT REQ AUDIT"]);
  });
});
