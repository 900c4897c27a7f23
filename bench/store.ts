// Store bench against DynamoDB Local (the store writes with TransactWriteItems, which dynalite lacks; one
// JVM for the whole bench run, see dev/dynamodb.ts). Figures: requests created per second,
// transitions per second, and DynamoDB calls per operation — counted by a middleware on the real client,
// so they are what the code sends, not what we hope it sends.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startDynamo } from "../dev/dynamodb.ts";
import type { Actor } from "../src/rules/lifecycle.ts";
import { createStores } from "../src/store/index.ts";
import type { BenchFigure, BenchSection } from "./section.ts";

const REQUESTS = 300;
const CONCURRENCY = 8;
const ADMIN: Actor = { kind: "admin", id: "UBENCHADMIN" };

function callCounter(client: DynamoDBClient) {
  const counter = { total: 0, byCommand: new Map<string, number>() };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counter.total++;
      const name = String(context.commandName);
      counter.byCommand.set(name, (counter.byCommand.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "benchCallCounter" },
  );
  return {
    reset() {
      counter.total = 0;
      counter.byCommand.clear();
    },
    get total() {
      return counter.total;
    },
  };
}

/** Runs `task(i)` for i < n with `concurrency` workers; returns operations per second. */
async function throughput(n: number, concurrency: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await task(i);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

export const section: BenchSection = {
  name: "store",
  async run(): Promise<BenchFigure[]> {
    const db = await startDynamo();
    try {
      const calls = callCounter(db.client);
      const { requests } = createStores({ client: db.doc, tableName: db.tableName });
      const newRequest = (i: number) => ({
        requesterUserId: `UBENCH${i}`,
        requesterTeamId: "TBENCH",
        subPrefix: `cpg${i}/*`,
        permission: "READWRITE" as const,
        durationDays: 30,
      });

      // Warm up the client, the engine and the JIT so the first figures are not start-up noise.
      await throughput(50, CONCURRENCY, (i) => requests.create(newRequest(1_000_000 + i)));

      calls.reset();
      const ids: string[] = [];
      const createRate = await throughput(REQUESTS, CONCURRENCY, async (i) => {
        ids[i] = (await requests.create(newRequest(i))).request.id;
      });
      const callsPerCreate = calls.total / REQUESTS;

      calls.reset();
      const approveRate = await throughput(REQUESTS, CONCURRENCY, (i) =>
        requests.transition(ids[i] as string, { from: "PENDING", to: "APPROVED", actor: ADMIN }),
      );
      const callsPerApprove = calls.total / REQUESTS;

      // Single approves on their own, for the exact counts: the caller holds the request (one
      // transaction), or the store reads it first (one read + one transaction).
      const one = (await requests.create(newRequest(2_000_000))).request;
      calls.reset();
      await requests.transition(one.id, { from: "PENDING", to: "APPROVED", actor: ADMIN, current: one });
      const approveWithCopy = calls.total;
      const two = (await requests.create(newRequest(2_000_001))).request;
      calls.reset();
      await requests.transition(two.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
      const approveWithRead = calls.total;

      // The loser of a race: with a (now stale) copy, the cancelled transaction returns the winner
      // (ALL_OLD); without one, the read shows it and nothing is written.
      calls.reset();
      await requests
        .transition(one.id, { from: "PENDING", to: "APPROVED", actor: ADMIN, current: one })
        .catch((err: unknown) => err);
      const losingApprove = calls.total;

      const duplicate = await requests.create(newRequest(0));
      calls.reset();
      await requests.create(newRequest(0));
      const callsPerDuplicate = calls.total;
      if (duplicate.created) throw new Error("bench: a duplicate was filed");

      return [
        { metric: `requests created (${CONCURRENCY} concurrent)`, value: createRate, unit: "req/s" },
        { metric: `approvals (${CONCURRENCY} concurrent)`, value: approveRate, unit: "transitions/s" },
        { metric: "DynamoDB calls per approve (caller's copy)", value: approveWithCopy, unit: "calls" },
        { metric: "DynamoDB calls per approve (store reads)", value: approveWithRead, unit: "calls" },
        { metric: "DynamoDB calls per approve (mean, store reads)", value: callsPerApprove, unit: "calls" },
        { metric: "DynamoDB calls per losing approve", value: losingApprove, unit: "calls" },
        { metric: "DynamoDB calls per create", value: callsPerCreate, unit: "calls" },
        { metric: "DynamoDB calls per duplicate create", value: callsPerDuplicate, unit: "calls" },
      ];
    } finally {
      await db.stop();
    }
  },
};
