import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { createDynamoUserLocks, LockBusyError } from "../../src/service/user-lock.ts";

let db: LocalDynamo;
beforeAll(async () => {
  db = await startDynamo();
});
afterAll(async () => {
  await db?.stop();
});

const locks = (extra: Partial<Parameters<typeof createDynamoUserLocks>[0]> = {}) =>
  createDynamoUserLocks({ doc: db.doc, tableName: db.tableName, ...extra });

const lockItem = async (name: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: `LOCK#${name}`, sk: "LOCK" } })))
    .Item;

/** Takes the lock and keeps it until `release`; resolves once it is really held (a fixed pause races a
 *  slow engine). */
async function holdLock(l: ReturnType<typeof locks>, name: string) {
  let release: () => void = () => {};
  let acquired: () => void = () => {};
  const isHeld = new Promise<void>((resolve) => {
    acquired = resolve;
  });
  const held = l.withLock(
    name,
    () =>
      new Promise<void>((resolve) => {
        release = resolve;
        acquired();
      }),
  );
  await isHeld;
  return { release, held };
}

describe("per-person lock", () => {
  it("runs holders of the same name one at a time, and frees the lock afterwards", async () => {
    const l = locks();
    let inside = 0;
    let maxInside = 0;
    const work = () =>
      l.withLock("PERSON#U1", async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inside -= 1;
      });
    await Promise.all([work(), work(), work()]);
    expect(maxInside).toBe(1);
    expect(await lockItem("PERSON#U1")).toBeUndefined();
  });

  it("different names do not wait for each other", async () => {
    const l = locks({ waitMs: 50 });
    await l.withLock("PERSON#A", () => l.withLock("PERSON#B", async () => "both held"));
  });

  it("gives up with LockBusyError while another holder's lease runs", async () => {
    const l = locks();
    const { release, held } = await holdLock(l, "PERSON#U2");
    await expect(locks({ waitMs: 60 }).withLock("PERSON#U2", async () => "never")).rejects.toBeInstanceOf(
      LockBusyError,
    );
    release();
    await held;
  });

  it("stops waiting at the deadline: polls back off 25 ms to 500 ms apart and end within waitMs", async () => {
    const l = locks();
    const { release, held } = await holdLock(l, "PERSON#U5");
    // A fake clock that moves only when the lock sleeps: no real waiting.
    let clock = 0;
    const sleeps: number[] = [];
    const impatient = locks({
      waitMs: 3_000,
      now: () => clock,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    const err = await impatient.withLock("PERSON#U5", async () => "never").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBusyError);
    expect(sleeps.slice(0, 6)).toEqual([25, 50, 100, 200, 400, 500]);
    expect(Math.max(...sleeps)).toBe(500);
    expect(clock).toBeLessThanOrEqual(3_000);
    expect(clock).toBeGreaterThan(3_000 - 500);
    release();
    await held;
  });

  it("takes over a lock whose holder crashed once its lease ran out", async () => {
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: { pk: "LOCK#PERSON#U3", sk: "LOCK", owner: "crashed-holder", leaseUntil: Date.now() - 1 },
      }),
    );
    expect(await locks({ waitMs: 50 }).withLock("PERSON#U3", async () => "ran")).toBe("ran");
  });

  it("a holder whose lease ran out does not delete the lock its successor now holds", async () => {
    let clock = Date.now();
    const slow = locks({ leaseMs: 1_000, now: () => clock });
    const result = await slow.withLock("PERSON#U4", async () => {
      clock += 5_000; // the slow holder overran its lease...
      // ...and a successor (real clock, lease long expired by the slow holder's clock) took over.
      await db.doc.send(
        new PutCommand({
          TableName: db.tableName,
          Item: { pk: "LOCK#PERSON#U4", sk: "LOCK", owner: "successor", leaseUntil: clock + 60_000 },
        }),
      );
      return "done";
    });
    expect(result).toBe("done");
    expect((await lockItem("PERSON#U4"))?.owner).toBe("successor");
  });
});
