// The store suite, run unchanged on every DynamoDB engine present (dynalite always; DynamoDB Local with
// java; moto with moto_server), one *.test.ts per engine so engines run in parallel workers.
// Real SDK clients over HTTP on 127.0.0.1, no mocks.

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLocalDynamoClient,
  createTable,
  type EngineName,
  engineInfo,
  type LocalDynamo,
  type RunningEngine,
  startDynamo,
} from "../../dev/dynamodb.ts";
import {
  type Actor,
  type ActorKind,
  computeExpiresAt,
  IllegalTransitionError,
  REQUEST_STATUSES,
  type RequestStatus,
  TRANSITIONS,
} from "../../src/rules/lifecycle.ts";
import { createDocumentClient } from "../../src/store/client.ts";
import {
  ForbiddenDataError,
  InvalidCursorError,
  NoSuchRequestError,
  SecretExistsError,
  TransitionConflictError,
} from "../../src/store/errors.ts";
import { createStores, type Stores } from "../../src/store/index.ts";
import { openLockKey, requestKey } from "../../src/store/keys.ts";
import { collectAll } from "../../src/store/paging.ts";
import { RequestStore } from "../../src/store/requests.ts";
import type { AccessRequest, NewRequestInput } from "../../src/store/types.ts";

const ADMIN: Actor = { kind: "admin", id: "UADMIN1" };
const ADMIN2: Actor = { kind: "admin", id: "UADMIN2" };
const SYSTEM: Actor = { kind: "system", id: "provisioner" };

let seq = 0;
const newUser = () => `U${Date.now().toString(36)}${++seq}`;

function input(overrides: Partial<NewRequestInput> = {}): NewRequestInput {
  return {
    requesterUserId: newUser(),
    requesterTeamId: "T0001",
    subPrefix: `cpg${String(++seq).padStart(4, "0")}/*`,
    permission: "READWRITE",
    durationDays: 30,
    reason: "upload plate maps",
    ...overrides,
  };
}

/** A clock that moves one second per reading, so times (and index order) are distinct. */
function steppingClock(start = Date.parse("2026-01-01T00:00:00.000Z")) {
  let t = start;
  return () => {
    t += 1000;
    return new Date(t);
  };
}

function actorOf(kind: ActorKind, request: AccessRequest): Actor {
  if (kind === "requester") return { kind, id: request.requesterUserId };
  return kind === "admin" ? ADMIN : SYSTEM;
}

// How to walk a fresh PENDING request into each state.
const PATHS: Record<RequestStatus, RequestStatus[]> = {
  PENDING: [],
  APPROVED: ["APPROVED"],
  ACTIVE: ["APPROVED", "ACTIVE"],
  FAILED: ["APPROVED", "FAILED"],
  DENIED: ["DENIED"],
  CANCELLED: ["CANCELLED"],
  REVOKED: ["APPROVED", "ACTIVE", "REVOKED"],
  EXPIRED: ["APPROVED", "ACTIVE", "EXPIRED"],
  APPLIED: ["APPROVED", "APPLIED"],
};

async function requestIn(stores: Stores, status: RequestStatus, over: Partial<NewRequestInput> = {}) {
  let request = (await stores.requests.create(input(over))).request;
  for (const to of PATHS[status]) {
    const rule = TRANSITIONS.find((t) => t.from === request.status && t.to === to);
    if (!rule) throw new Error(`no rule ${request.status} -> ${to}`);
    request = await stores.requests.transition(request.id, {
      from: request.status,
      to,
      actor: actorOf(rule.actors[0] as ActorKind, request),
      ...(to === "ACTIVE" ? { patch: { expiresAt: "2030-01-01T00:00:00.000Z" } } : {}),
    });
  }
  return request;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

/** Counts the DynamoDB commands a document client sends (a real count, from the middleware stack). */
function countCommands(client: DynamoDBClient): { names: string[] } {
  const seen = { names: [] as string[] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.names.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize", name: `countCommands${++seq}` },
  );
  return seen;
}

/**
 * Makes the next `times` TransactWriteItems on `client` fail as DynamoDB does when another transaction
 * holds one of the items (TransactionCanceledException, reason TransactionConflict) before they reach
 * the engine — the local engines serialise transactions, so the real thing cannot be provoked here.
 */
function injectTransactionConflicts(client: DynamoDBClient, times: number): { injected: number } {
  const state = { injected: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "TransactWriteItemsCommand" && state.injected < times) {
        state.injected++;
        const items = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
        throw Object.assign(new Error("Transaction cancelled [TransactionConflict]"), {
          name: "TransactionCanceledException",
          CancellationReasons: items.map((_, i) =>
            i === 0
              ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" }
              : { Code: "None" },
          ),
        });
      }
      return next(args);
    },
    { step: "initialize", name: `injectConflicts${++seq}` },
  );
  return state;
}

/** Defines the whole store suite for one engine; skips it visibly when the engine is missing. */
export function defineStoreSuite(name: EngineName): void {
  const info = engineInfo(name);
  if (info.missing) console.warn(`[store suite] SKIPPING engine ${name}: ${info.missing}`);
  if (info.racy) console.warn(`[store suite] ${name}: skipping race tests: ${info.racy}`);
  const title = `store on ${name}${info.missing ? ` (skipped: ${info.missing})` : ""}`;
  /** Race tests only mean something where the engine makes conditional writes atomic. */
  const raceIt = (what: string, fn: () => Promise<void>) =>
    it.skipIf(info.racy !== undefined)(`${what}${info.racy ? ` (skipped: ${info.racy})` : ""}`, fn);
  // Every request/audit write of the store is a TransactWriteItems: on an engine without it only the
  // parts that need none run (secrets, queries over bulk-loaded items, standalone audit events).
  const noTx = info.noTransactions;
  if (noTx && !info.missing) console.warn(`[store suite] ${name}: skipping transactional tests: ${noTx}`);
  const txDescribe = (what: string, fn: () => void) =>
    describe.skipIf(noTx !== undefined)(`${what}${noTx ? ` (skipped: ${noTx})` : ""}`, fn);
  const txIt = (what: string, fn: () => Promise<void>) =>
    it.skipIf(noTx !== undefined)(`${what}${noTx ? ` (skipped: ${noTx})` : ""}`, fn);

  describe.skipIf(info.missing !== undefined)(title, () => {
    let engine: RunningEngine;
    let db: LocalDynamo;
    let stores: Stores;

    beforeAll(async () => {
      const started = await info.start();
      if (!started) throw new Error(`${info.name} reported available but did not start`);
      engine = started;
      db = await startDynamo({ engine });
      stores = createStores({ client: db.doc, tableName: db.tableName });
    });

    afterAll(async () => {
      await db?.stop();
      await engine?.stop();
    });

    /** A separate table on the same engine, for tests that read a whole index partition. */
    async function freshStores(clock?: () => Date): Promise<Stores & { tableName: string }> {
      const tableName = `cytoskel-${Math.random().toString(36).slice(2, 10)}`;
      await createTable(db.client, tableName);
      return { ...createStores({ client: db.doc, tableName, ...(clock ? { clock } : {}) }), tableName };
    }

    it.runIf(noTx !== undefined)(
      "fails with a named error, not silently, where the engine has no transactions",
      async () => {
        const err = await rejection(stores.requests.create(input()));
        expect(err).toMatchObject({ name: "StoreAccessError" });
        expect(err.message).toContain("create request");
      },
    );

    txDescribe("create and duplicates", () => {
      it("files a PENDING request with every field and a creation audit event", async () => {
        const req = input();
        const { request, created } = await stores.requests.create(req);
        expect(created).toBe(true);
        expect(request).toMatchObject({ ...req, status: "PENDING", attempts: 0, progress: {} });
        expect(await stores.requests.get(request.id)).toEqual(request);
        const audit = (await stores.audit.listForRequest(request.id)).items;
        expect(audit).toHaveLength(1);
        expect(audit[0]).toMatchObject({
          action: "request.created",
          to: "PENDING",
          actor: { kind: "requester", id: req.requesterUserId },
          subjectUserId: req.requesterUserId,
          reason: req.reason,
        });
      });

      it("records an adopted grant ACTIVE at once (never APPROVED, so no provisioning), with the grant, its end and who recorded it", async () => {
        const req = input({ durationDays: 10 });
        const grant = {
          grantId: "g-adopted",
          grantArn: "arn:aws:s3:us-east-1:1:access-grants/default/grant/g",
        };
        const { request, created } = await stores.requests.create({
          ...req,
          adopted: { actor: ADMIN, grant, days: 10, source: "cli" },
        });
        expect(created).toBe(true);
        expect(request).toMatchObject({
          status: "ACTIVE",
          activeUserId: req.requesterUserId,
          decidedBy: ADMIN.id,
          progress: { grant: { ...grant, at: request.createdAt } },
          expiresAt: computeExpiresAt(new Date(request.createdAt), 10),
        });
        expect(await stores.requests.get(request.id)).toEqual(request);
        const active = (await stores.requests.listActiveByUser(req.requesterUserId)).items;
        expect(active.map((r) => r.id)).toEqual([request.id]);
        const audit = (await stores.audit.listForRequest(request.id)).items;
        expect(audit).toEqual([
          expect.objectContaining({
            action: "request.created",
            to: "ACTIVE",
            actor: ADMIN,
            details: expect.objectContaining({
              source: "cli",
              grantId: "g-adopted",
              expiresAt: request.expiresAt,
            }),
          }),
        ]);
        // The scope is held: a request for it is answered with the adopted one.
        const again = await stores.requests.create({ ...req, id: undefined });
        expect(again).toMatchObject({ created: false, request: { id: request.id } });
      });

      it.each(["PENDING", "APPROVED", "ACTIVE"] as const)(
        "returns the open %s request instead of filing a duplicate for the same requester and scope",
        async (status) => {
          const first = await requestIn(stores, status);
          const again = await stores.requests.create({
            requesterUserId: first.requesterUserId,
            requesterTeamId: first.requesterTeamId,
            subPrefix: first.subPrefix,
            permission: "READ",
            reason: "second try",
          });
          expect(again.created).toBe(false);
          expect(again.request.id).toBe(first.id);
          expect(again.request.status).toBe(status);
          const mine = (await stores.requests.listByRequester(first.requesterUserId)).items;
          expect(mine.map((r) => r.id)).toEqual([first.id]);
        },
      );

      it("files separately for another scope or another person", async () => {
        const first = (await stores.requests.create(input())).request;
        const otherScope = await stores.requests.create(
          input({ requesterUserId: first.requesterUserId, subPrefix: "elsewhere/*" }),
        );
        const otherPerson = await stores.requests.create(input({ subPrefix: first.subPrefix }));
        expect(otherScope.created).toBe(true);
        expect(otherPerson.created).toBe(true);
        expect(new Set([first.id, otherScope.request.id, otherPerson.request.id]).size).toBe(3);
      });

      it.each(["DENIED", "CANCELLED", "REVOKED", "EXPIRED", "FAILED"] as const)(
        "files a new request once the previous one for the scope is %s",
        async (status) => {
          const old = await requestIn(stores, status);
          const again = await stores.requests.create(
            input({ requesterUserId: old.requesterUserId, subPrefix: old.subPrefix }),
          );
          expect(again.created).toBe(true);
          expect(again.request.id).not.toBe(old.id);
          const third = await stores.requests.create(
            input({ requesterUserId: old.requesterUserId, subPrefix: old.subPrefix }),
          );
          expect(third).toMatchObject({ created: false, request: { id: again.request.id } });
        },
      );

      raceIt("lets exactly one of several concurrent identical requests file", async () => {
        const req = input();
        const results = await Promise.all(Array.from({ length: 6 }, () => stores.requests.create(req)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.request.id)).size).toBe(1);
        const mine = (await stores.requests.listByRequester(req.requesterUserId)).items;
        expect(mine).toHaveLength(1);
      });

      raceIt("lets exactly one of several concurrent re-requests take over a closed scope", async () => {
        const old = await requestIn(stores, "DENIED");
        const req = input({ requesterUserId: old.requesterUserId, subPrefix: old.subPrefix });
        const results = await Promise.all(Array.from({ length: 6 }, () => stores.requests.create(req)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const ids = new Set(results.map((r) => r.request.id));
        expect(ids.size).toBe(1);
        expect(ids.has(old.id)).toBe(false);
      });

      it("takes over a scope lock whose request was never written (the old two-write layout's crash)", async () => {
        // Transactions cannot leave this behind; a table written by the earlier layout could.
        const req = input();
        await db.doc.send(
          new PutCommand({
            TableName: db.tableName,
            Item: {
              ...openLockKey(req.requesterTeamId, req.requesterUserId, req.subPrefix),
              requestId: `orphan-${seq}`,
              lockedAt: "2026-01-01T00:00:00.000Z",
            },
          }),
        );
        const filed = await stores.requests.create(req);
        expect(filed.created).toBe(true);
        expect(filed.request.id).not.toBe(`orphan-${seq}`);
        expect(await stores.requests.get(filed.request.id)).toEqual(filed.request);
        const again = await stores.requests.create(req);
        expect(again).toMatchObject({ created: false, request: { id: filed.request.id } });
      });

      it("files a request in ONE transaction; a duplicate costs that cancelled transaction and one read", async () => {
        const client = createLocalDynamoClient(db.endpoint);
        const seen = countCommands(client);
        const counted = createStores({ client: createDocumentClient(client), tableName: db.tableName });
        const req = input();
        const first = await counted.requests.create(req);
        expect(seen.names).toEqual(["TransactWriteItemsCommand"]);
        seen.names.length = 0;
        const dup = await counted.requests.create(req);
        client.destroy();
        expect(dup).toMatchObject({ created: false, request: { id: first.request.id } });
        // The holder's id comes back in the cancellation reason (ALL_OLD); its state needs one read.
        expect(seen.names).toEqual(["TransactWriteItemsCommand", "GetItemCommand"]);
        const audit = (await stores.audit.listForRequest(first.request.id)).items;
        expect(audit.map((e) => e.action)).toEqual(["request.created"]);
      });
    });

    txDescribe("transitions", () => {
      it.each(TRANSITIONS.flatMap((t) => t.actors.map((actor) => ({ ...t, actor }))))(
        "$from -> $to by $actor is one transaction that records it and appends its audit event",
        async ({ from, to, actor: kind, records }) => {
          const before = await requestIn(stores, from);
          const actor = actorOf(kind, before);
          const after = await stores.requests.transition(before.id, {
            from,
            to,
            actor,
            reason: `because ${to}`,
            ...(to === "ACTIVE" ? { patch: { expiresAt: "2031-05-01T00:00:00.000Z" } } : {}),
            ...(to === "FAILED" ? { patch: { failureReason: "grant refused" } } : {}),
          });
          expect(after.status).toBe(to);
          expect(after.lastTransition).toMatchObject({ from, to, actor, reason: `because ${to}` });
          expect(after.updatedAt >= before.updatedAt).toBe(true);
          if (records.includes("decision")) expect(after).toMatchObject({ decidedBy: actor.id });
          if (records.includes("closure")) expect(after).toMatchObject({ closedBy: actor.id });
          if (records.includes("activation")) {
            expect(after).toMatchObject({ activeUserId: before.requesterUserId });
            expect(after.expiresAt).toBe("2031-05-01T00:00:00.000Z");
          }
          if (records.includes("failure")) expect(after.failureReason).toBe("grant refused");
          if (from === "ACTIVE") expect(after.activeUserId).toBeUndefined();
          if (from === "FAILED") expect(after.failureReason).toBeUndefined();
          expect(await stores.requests.get(before.id)).toEqual(after);

          const audit = (await stores.audit.listForRequest(before.id)).items;
          expect(audit.at(-1)).toMatchObject({
            action: "request.transition",
            from,
            to,
            actor,
            reason: `because ${to}`,
            subjectUserId: before.requesterUserId,
          });
        },
      );

      describe("illegal transitions", () => {
        const requests = new Map<RequestStatus, AccessRequest>();
        beforeAll(async () => {
          for (const status of REQUEST_STATUSES) requests.set(status, await requestIn(stores, status));
        });

        it.each(REQUEST_STATUSES)(
          "refuses every illegal move out of %s, naming it, and writes nothing",
          async (from) => {
            const request = requests.get(from) as AccessRequest;
            const targets = REQUEST_STATUSES.filter(
              (to) => !TRANSITIONS.some((t) => t.from === from && t.to === to),
            );
            expect(targets.length).toBeGreaterThan(0);
            for (const to of targets) {
              const err = await rejection(stores.requests.transition(request.id, { from, to, actor: ADMIN }));
              expect(err).toBeInstanceOf(IllegalTransitionError);
              expect(err).toMatchObject({ current: from, attempted: to });
              expect(err.message).toContain(from);
            }
            expect(await stores.requests.get(request.id)).toEqual(request);
          },
        );

        it("refuses a legal move by the wrong kind of actor (a requester approving)", async () => {
          const request = await requestIn(stores, "PENDING");
          const err = await rejection(
            stores.requests.transition(request.id, {
              from: "PENDING",
              to: "APPROVED",
              actor: { kind: "requester", id: request.requesterUserId },
            }),
          );
          expect(err).toMatchObject({ name: "IllegalTransitionError", wrongActor: true, current: "PENDING" });
          expect((await stores.requests.get(request.id))?.status).toBe("PENDING");
        });
      });

      it("tells a caller with a stale state who moved the request and how", async () => {
        const request = await requestIn(stores, "PENDING");
        await stores.requests.transition(request.id, {
          from: "PENDING",
          to: "DENIED",
          actor: ADMIN2,
          reason: "no",
        });
        const err = await rejection(
          stores.requests.transition(request.id, { from: "PENDING", to: "APPROVED", actor: ADMIN }),
        );
        expect(err).toBeInstanceOf(TransitionConflictError);
        expect(err).toMatchObject({
          current: "DENIED",
          expected: "PENDING",
          attempted: "APPROVED",
          winner: { from: "PENDING", to: "DENIED", actor: ADMIN2, reason: "no" },
        });
        expect(err.message).toContain("PENDING → DENIED by admin UADMIN2");
        expect((err as TransitionConflictError).alreadyDone).toBe(false);
      });

      raceIt(
        "lets exactly one of two concurrent approvals win and names the winner to the loser",
        async () => {
          for (let round = 0; round < 5; round++) {
            const request = await requestIn(stores, "PENDING");
            const results = await Promise.allSettled([
              stores.requests.transition(request.id, { from: "PENDING", to: "APPROVED", actor: ADMIN }),
              stores.requests.transition(request.id, { from: "PENDING", to: "APPROVED", actor: ADMIN2 }),
            ]);
            const won = results.filter((r) => r.status === "fulfilled");
            const lost = results.filter((r) => r.status === "rejected");
            expect(won).toHaveLength(1);
            expect(lost).toHaveLength(1);
            const winner = (won[0] as PromiseFulfilledResult<AccessRequest>).value;
            const err = (lost[0] as PromiseRejectedResult).reason as TransitionConflictError;
            expect(err).toBeInstanceOf(TransitionConflictError);
            expect(err.winner?.actor).toEqual(winner.lastTransition?.actor);
            expect(err.message).toContain(`by admin ${winner.decidedBy}`);
            expect(err.alreadyDone).toBe(true);
            const transitions = (await stores.audit.listForRequest(request.id)).items.filter(
              (e) => e.action === "request.transition",
            );
            expect(transitions).toHaveLength(1);
            expect(transitions[0]?.actor.id).toBe(winner.decidedBy);
          }
        },
      );

      raceIt("lets exactly one of a concurrent approve and deny win", async () => {
        const request = await requestIn(stores, "PENDING");
        const results = await Promise.allSettled([
          stores.requests.transition(request.id, { from: "PENDING", to: "APPROVED", actor: ADMIN }),
          stores.requests.transition(request.id, { from: "PENDING", to: "DENIED", actor: ADMIN2 }),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const final = await stores.requests.require(request.id);
        const err = (results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason;
        expect(err).toMatchObject({ name: "TransitionConflictError", current: final.status });
      });

      it("approves in ONE transaction (update + audit event) given the request the caller holds", async () => {
        const request = await requestIn(stores, "PENDING");
        const client = createLocalDynamoClient(db.endpoint);
        const seen = countCommands(client);
        const counted = createStores({ client: createDocumentClient(client), tableName: db.tableName });
        const approved = await counted.requests.transition(request.id, {
          from: "PENDING",
          to: "APPROVED",
          actor: ADMIN,
          current: request,
        });
        expect(seen.names).toEqual(["TransactWriteItemsCommand"]);
        // The returned request (computed from the copy) is exactly what the table now holds.
        expect(await stores.requests.get(request.id)).toEqual(approved);
        const other = await requestIn(stores, "PENDING");
        seen.names.length = 0;
        await counted.requests.transition(other.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
        client.destroy();
        // Without a copy the store reads one first: still a single write.
        expect(seen.names).toEqual(["GetItemCommand", "TransactWriteItemsCommand"]);
        const audit = (await stores.audit.listForRequest(request.id)).items;
        expect(audit.map((e) => e.action)).toEqual(["request.created", "request.transition"]);
      });

      it("reads the winner back from the cancelled transaction itself when the caller's copy is stale", async () => {
        const pending = await requestIn(stores, "PENDING");
        await stores.requests.transition(pending.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
        const client = createLocalDynamoClient(db.endpoint);
        const seen = countCommands(client);
        const counted = createStores({ client: createDocumentClient(client), tableName: db.tableName });
        const err = await rejection(
          counted.requests.transition(pending.id, {
            from: "PENDING",
            to: "DENIED",
            actor: ADMIN2,
            current: pending,
          }),
        );
        expect(err).toMatchObject({
          name: "TransitionConflictError",
          winner: { to: "APPROVED", actor: ADMIN },
        });
        // ALL_OLD on the failed condition: no read. Without a copy: one read, and no write at all.
        expect(seen.names).toEqual(["TransactWriteItemsCommand"]);
        seen.names.length = 0;
        await expect(
          counted.requests.transition(pending.id, { from: "PENDING", to: "DENIED", actor: ADMIN2 }),
        ).rejects.toBeInstanceOf(TransitionConflictError);
        client.destroy();
        expect(seen.names).toEqual(["GetItemCommand"]);
      });

      it("redoes a transition on the fresh item when the caller's copy is stale but the state matches", async () => {
        const request = await requestIn(stores, "PENDING");
        await stores.requests.annotate(request.id, { adminMessage: { channel: "CADMIN", ts: "9.9" } });
        const approved = await stores.requests.transition(request.id, {
          from: "PENDING",
          to: "APPROVED",
          actor: ADMIN,
          current: request,
        });
        // Nothing the annotate wrote is lost or written back stale.
        expect(approved).toMatchObject({
          status: "APPROVED",
          adminMessage: { channel: "CADMIN", ts: "9.9" },
        });
        expect(await stores.requests.get(request.id)).toEqual(approved);
      });

      it("retries a transaction cancelled by TransactionConflict, and gives up with a named error", async () => {
        const request = await requestIn(stores, "PENDING");
        const client = createLocalDynamoClient(db.endpoint);
        const seen = countCommands(client); // before the injector, so it sees the attempts it cancels
        const conflicts = injectTransactionConflicts(client, 2);
        const store = new RequestStore({
          client: createDocumentClient(client),
          tableName: db.tableName,
          conflictBackoffMs: 1,
        });
        const approved = await store.transition(request.id, {
          from: "PENDING",
          to: "APPROVED",
          actor: ADMIN,
          current: request,
        });
        expect(conflicts.injected).toBe(2);
        expect(seen.names).toEqual(Array(3).fill("TransactWriteItemsCommand"));
        expect(approved.status).toBe("APPROVED");
        expect(await stores.requests.get(request.id)).toEqual(approved);

        // A conflict that never clears: a few rounds of retries, then Contention (nothing written).
        const other = await requestIn(stores, "PENDING");
        injectTransactionConflicts(client, Number.POSITIVE_INFINITY);
        const err = await rejection(
          store.transition(other.id, { from: "PENDING", to: "DENIED", actor: ADMIN, current: other }),
        );
        client.destroy();
        expect(err).toMatchObject({ name: "StoreError", code: "Contention" });
        expect(await stores.requests.get(other.id)).toEqual(other);
      });

      raceIt("lets exactly one of many concurrent approvals win and tells every loser who won", async () => {
        const request = await requestIn(stores, "PENDING");
        const admins = Array.from({ length: 8 }, (_, i): Actor => ({ kind: "admin", id: `UADM${i}` }));
        const results = await Promise.allSettled(
          admins.map((actor, i) =>
            stores.requests.transition(request.id, {
              from: "PENDING",
              to: "APPROVED",
              actor,
              // Half hold a copy (one call), half let the store read: both paths race.
              ...(i % 2 ? { current: request } : {}),
            }),
          ),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        expect(won).toHaveLength(1);
        const winner = (won[0] as PromiseFulfilledResult<AccessRequest>).value;
        for (const r of results.filter((x) => x.status === "rejected")) {
          const err = (r as PromiseRejectedResult).reason;
          expect(err).toBeInstanceOf(TransitionConflictError);
          expect((err as TransitionConflictError).winner?.actor).toEqual(winner.lastTransition?.actor);
        }
        const transitions = (await stores.audit.listForRequest(request.id)).items.filter(
          (e) => e.action === "request.transition",
        );
        expect(transitions).toHaveLength(1);
      });

      it("reports a missing request by name", async () => {
        const err = await rejection(
          stores.requests.transition("no-such-id", { from: "PENDING", to: "APPROVED", actor: ADMIN }),
        );
        expect(err).toBeInstanceOf(NoSuchRequestError);
        await expect(stores.requests.require("no-such-id")).rejects.toBeInstanceOf(NoSuchRequestError);
        await expect(stores.requests.recordAttempt("no-such-id")).rejects.toBeInstanceOf(NoSuchRequestError);
      });
    });

    txDescribe("provisioning progress", () => {
      it("records each step with its ids so a retry can resume, and audits it", async () => {
        const request = await requestIn(stores, "APPROVED");
        await stores.requests.recordProgress(request.id, "iamUser", {
          userName: "slack-T0001-U1",
          userArn: "arn:aws:iam::123456789012:user/cytoskel/slack-T0001-U1",
          created: true,
        });
        await stores.requests.recordProgress(request.id, "accessKey", {
          accessKeyId: "AKIAEXAMPLE",
          created: true,
        });
        await stores.requests.recordProgress(request.id, "grant", { grantId: "g-1", created: true });
        await stores.requests.recordProgress(request.id, "secret", {
          linkId: "link-1",
          expiresAt: 1_900_000_000,
        });
        const done = await stores.requests.recordProgress(request.id, "dm", { channel: "D1", ts: "1.2" });
        expect(Object.keys(done.progress).sort()).toEqual(["accessKey", "dm", "grant", "iamUser", "secret"]);
        expect(done.progress.accessKey).toMatchObject({ accessKeyId: "AKIAEXAMPLE", created: true });
        expect(done.progress.grant?.at).toMatch(/^\d{4}-/);
        expect(done.status).toBe("APPROVED");
        expect((await stores.requests.require(request.id)).progress).toEqual(done.progress);
        const actions = (await stores.audit.listForRequest(request.id)).items.map((e) => e.action);
        expect(actions.filter((a) => a.startsWith("progress."))).toEqual([
          "progress.iamUser",
          "progress.accessKey",
          "progress.grant",
          "progress.secret",
          "progress.dm",
        ]);
      });

      it("records several steps and the secret they name in ONE transaction (no read with `current`), one audit event per step", async () => {
        const request = await requestIn(stores, "APPROVED");
        const client = createLocalDynamoClient(db.endpoint);
        const seen = countCommands(client);
        const counted = createStores({ client: createDocumentClient(client), tableName: db.tableName });
        const secret = {
          id: `link-${++seq}`,
          ciphertext: "c",
          iv: "i",
          expiresAt: 1_900_000_000,
          requestId: request.id,
          requesterUserId: request.requesterUserId,
        };
        const written = await counted.requests.recordProgressSteps(
          request.id,
          {
            iamUser: { userName: "u", userArn: "arn:u", created: true },
            accessKey: { accessKeyId: "AKIAEXAMPLE", created: true },
            secret: { linkId: secret.id, expiresAt: secret.expiresAt },
          },
          { current: request, secret },
        );
        expect(seen.names).toEqual(["TransactWriteItemsCommand"]);
        seen.names.length = 0;
        // The returned copy is the next write's `current`: → ACTIVE with the DM, again one transaction.
        const active = await counted.requests.transition(request.id, {
          from: "APPROVED",
          to: "ACTIVE",
          actor: SYSTEM,
          current: written,
          progress: { dm: { channel: "D1", ts: "1.2" } },
        });
        client.destroy();
        expect(seen.names).toEqual(["TransactWriteItemsCommand"]);
        expect(active.status).toBe("ACTIVE");
        expect(Object.keys(active.progress).sort()).toEqual(["accessKey", "dm", "iamUser", "secret"]);
        expect((await stores.requests.require(request.id)).progress).toEqual(active.progress);
        expect(await stores.secrets.consume(secret.id, 1_800_000_000)).toMatchObject({ id: secret.id });
        const actions = (await stores.audit.listForRequest(request.id)).items.map((e) => e.action);
        expect(actions.filter((a) => a.startsWith("progress."))).toEqual([
          "progress.iamUser",
          "progress.accessKey",
          "progress.secret",
          "progress.dm",
        ]);
      });

      it("writes neither the steps nor the secret when the secret's id exists (one transaction)", async () => {
        const request = await requestIn(stores, "APPROVED");
        const secret = {
          id: `link-${++seq}`,
          ciphertext: "c",
          iv: "i",
          expiresAt: 1_900_000_000,
          requestId: request.id,
          requesterUserId: request.requesterUserId,
        };
        await stores.secrets.put(secret);
        await expect(
          stores.requests.recordProgressSteps(
            request.id,
            { secret: { linkId: secret.id, expiresAt: secret.expiresAt } },
            { secret: { ...secret, ciphertext: "other" } },
          ),
        ).rejects.toThrow();
        expect((await stores.requests.require(request.id)).progress).toEqual({});
        expect((await stores.secrets.consume(secret.id, 1_800_000_000))?.ciphertext).toBe("c");
      });

      it("refuses to store a secret access key", async () => {
        const request = await requestIn(stores, "APPROVED");
        const data = { accessKeyId: "AKIAEXAMPLE", created: true, secretAccessKey: "wJalrXUtnFEMI" };
        const err = await rejection(stores.requests.recordProgress(request.id, "accessKey", data));
        expect(err).toBeInstanceOf(ForbiddenDataError);
        expect(err.message).not.toContain("wJalrXUtnFEMI");
        expect((await stores.requests.require(request.id)).progress).toEqual({});
      });

      it("counts attempts, keeps the last error and the admin message, and keeps progress across a retry", async () => {
        const request = await requestIn(stores, "APPROVED");
        await stores.requests.recordProgress(request.id, "iamUser", { userName: "u", userArn: "arn:u" });
        await stores.requests.recordAttempt(request.id, "throttled");
        const second = await stores.requests.recordAttempt(request.id, "grant refused");
        expect(second).toMatchObject({ attempts: 2, lastError: "grant refused" });
        await stores.requests.annotate(request.id, { adminMessage: { channel: "CADMIN", ts: "123.456" } });
        const failed = await stores.requests.transition(request.id, {
          from: "APPROVED",
          to: "FAILED",
          actor: SYSTEM,
          patch: { failureReason: "grant refused" },
        });
        expect(failed).toMatchObject({
          failureReason: "grant refused",
          adminMessage: { channel: "CADMIN", ts: "123.456" },
        });
        const retried = await stores.requests.transition(request.id, {
          from: "FAILED",
          to: "APPROVED",
          actor: ADMIN,
        });
        expect(retried.failureReason).toBeUndefined();
        expect(retried.progress.iamUser).toMatchObject({ userName: "u" });
        expect(retried.attempts).toBe(2);
      });
    });

    describe("index queries", () => {
      txIt("lists pending requests oldest first, and only pending ones", async () => {
        const s = await freshStores(steppingClock());
        const a = (await s.requests.create(input())).request;
        const b = (await s.requests.create(input())).request;
        const c = (await s.requests.create(input())).request;
        await s.requests.transition(b.id, { from: "PENDING", to: "DENIED", actor: ADMIN });
        const d = (await s.requests.create(input())).request;
        expect((await s.requests.listPending()).items.map((r) => r.id)).toEqual([a.id, c.id, d.id]);
        expect((await s.requests.listByStatus("DENIED")).items.map((r) => r.id)).toEqual([b.id]);
      });

      txIt("lists a person's requests newest first, across states, and nobody else's", async () => {
        const s = await freshStores(steppingClock());
        const user = newUser();
        const first = await requestIn(s, "ACTIVE", { requesterUserId: user });
        const second = await requestIn(s, "DENIED", { requesterUserId: user });
        const third = await requestIn(s, "PENDING", { requesterUserId: user });
        await requestIn(s, "PENDING");
        expect((await s.requests.listByRequester(user)).items.map((r) => r.id)).toEqual([
          third.id,
          second.id,
          first.id,
        ]);
        expect(
          (await s.requests.listByRequester(user, { oldestFirst: true })).items.map((r) => r.id),
        ).toEqual([first.id, second.id, third.id]);
      });

      txIt("lists a person's active grants only while they are active", async () => {
        const s = await freshStores(steppingClock());
        const user = newUser();
        const one = await requestIn(s, "ACTIVE", { requesterUserId: user });
        const two = await requestIn(s, "ACTIVE", { requesterUserId: user });
        await requestIn(s, "APPROVED", { requesterUserId: user });
        await requestIn(s, "ACTIVE");
        expect((await s.requests.listActiveByUser(user)).items.map((r) => r.id)).toEqual([one.id, two.id]);
        await s.requests.transition(one.id, { from: "ACTIVE", to: "REVOKED", actor: ADMIN });
        expect((await s.requests.listActiveByUser(user)).items.map((r) => r.id)).toEqual([two.id]);
      });

      txIt("lists active grants expiring before a time, soonest first", async () => {
        const s = await freshStores(steppingClock());
        const activate = async (expiresAt: string) => {
          const r = await requestIn(s, "APPROVED");
          return s.requests.transition(r.id, {
            from: "APPROVED",
            to: "ACTIVE",
            actor: SYSTEM,
            patch: { expiresAt },
          });
        };
        const late = await activate("2026-03-01T00:00:00.000Z");
        const soon = await activate("2026-02-01T00:00:00.000Z");
        await activate("2026-06-01T00:00:00.000Z");
        const ended = await activate("2026-01-15T00:00:00.000Z");
        await s.requests.transition(ended.id, { from: "ACTIVE", to: "EXPIRED", actor: SYSTEM });
        await requestIn(s, "PENDING");
        const due = await s.requests.listActiveExpiringBefore("2026-04-01T00:00:00.000Z");
        expect(due.items.map((r) => r.id)).toEqual([soon.id, late.id]);
      });

      it("pages through 1,000+ requests without loss or repeats", async () => {
        const s = await freshStores();
        const { tableName } = s;
        const user = newUser();
        const total = 1_050;
        const items = Array.from({ length: total }, (_, i) => {
          const createdAt = new Date(Date.parse("2026-01-01T00:00:00.000Z") + i * 1000).toISOString();
          const request: AccessRequest = {
            id: `page-${String(i).padStart(5, "0")}`,
            requesterUserId: user,
            requesterTeamId: "T0001",
            subPrefix: `bulk${i}/*`,
            permission: "READ",
            status: "PENDING",
            createdAt,
            updatedAt: createdAt,
            progress: {},
            attempts: 0,
          };
          return { ...requestKey(request.id), ...request };
        });
        const batches = [];
        for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
        for (let i = 0; i < batches.length; i += 8) {
          await Promise.all(batches.slice(i, i + 8).map((batch) => batchWrite(db.doc, tableName, batch)));
        }

        let pages = 0;
        const pending = await collectAll(async (cursor) => {
          pages++;
          return s.requests.listPending({ limit: 100, ...(cursor ? { cursor } : {}) });
        });
        expect(pending).toHaveLength(total);
        expect(pages).toBeGreaterThanOrEqual(11);
        expect(new Set(pending.map((r) => r.id)).size).toBe(total);
        expect(pending.map((r) => r.id)).toEqual(items.map((i) => i.id));

        const mine = await collectAll((cursor) =>
          s.requests.listByRequester(user, { limit: 250, ...(cursor ? { cursor } : {}) }),
        );
        expect(mine).toHaveLength(total);
        expect(mine[0]?.id).toBe(`page-${String(total - 1).padStart(5, "0")}`);
      });
    });

    it("refuses a page cursor it did not hand out", async () => {
      await expect(stores.requests.listPending({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
      await expect(stores.audit.listForUser("U1", { cursor: "W10" })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    });

    describe("audit", () => {
      txIt("reads events per request in order and per user across requests, in pages", async () => {
        const s = await freshStores(steppingClock());
        const user = newUser();
        const one = await requestIn(s, "ACTIVE", { requesterUserId: user });
        const two = await requestIn(s, "DENIED", { requesterUserId: user });
        await requestIn(s, "PENDING");
        const forOne = (await s.audit.listForRequest(one.id)).items;
        expect(forOne.map((e) => e.to)).toEqual(["PENDING", "APPROVED", "ACTIVE"]);
        expect(forOne.map((e) => e.actor.kind)).toEqual(["requester", "admin", "system"]);
        const forUser = await collectAll((cursor) =>
          s.audit.listForUser(user, { limit: 2, ...(cursor ? { cursor } : {}) }),
        );
        expect(forUser.map((e) => `${e.requestId}:${e.to}`)).toEqual([
          `${one.id}:PENDING`,
          `${one.id}:APPROVED`,
          `${one.id}:ACTIVE`,
          `${two.id}:PENDING`,
          `${two.id}:DENIED`,
        ]);
        const newest = await s.audit.listForUser(user, { newestFirst: true, limit: 1 });
        expect(newest.items[0]).toMatchObject({ requestId: two.id, to: "DENIED" });
        expect(newest.cursor).toBeDefined();
      });

      txIt(
        "finds the events at or under a prefix, newest first, in pages (cpg0042/ is not cpg00421/)",
        async () => {
          const s = await freshStores(steppingClock());
          const top = await requestIn(s, "ACTIVE", { subPrefix: "cpg0042/*" });
          const below = await requestIn(s, "DENIED", { subPrefix: "cpg0042/a/*" });
          await requestIn(s, "ACTIVE", { subPrefix: "cpg00421/*" });
          await requestIn(s, "PENDING", { subPrefix: "cpg0043/*" });
          const all = (await s.audit.listForPrefix("cpg0042/*")).items;
          expect(all.map((e) => `${e.scope}:${e.to}`)).toEqual([
            "cpg0042/a/*:DENIED",
            "cpg0042/a/*:PENDING",
            "cpg0042/*:ACTIVE",
            "cpg0042/*:APPROVED",
            "cpg0042/*:PENDING",
          ]);
          expect(new Set(all.map((e) => e.requestId))).toEqual(new Set([top.id, below.id]));
          const paged = await collectAll((cursor) =>
            s.audit.listForPrefix("cpg0042/*", { limit: 2, ...(cursor ? { cursor } : {}) }),
          );
          expect(paged).toEqual(all);
        },
      );

      txIt("filters a deeper prefix within its dataset, filling each page past other scopes", async () => {
        const s = await freshStores(steppingClock());
        const wanted = await requestIn(s, "PENDING", { subPrefix: "cpg0042/a/*" });
        await requestIn(s, "ACTIVE", { subPrefix: "cpg0042/ab/*" });
        const deeper = await requestIn(s, "PENDING", { subPrefix: "cpg0042/a/plate1/*" });
        await requestIn(s, "ACTIVE", { subPrefix: "cpg0042/b/*" });
        const first = await s.audit.listForPrefix("cpg0042/a/*", { limit: 1 });
        expect(first.items.map((e) => e.requestId)).toEqual([deeper.id]);
        expect(first.cursor).toBeDefined();
        const rest = await collectAll((cursor) =>
          s.audit.listForPrefix("cpg0042/a/*", { limit: 1, cursor: cursor ?? (first.cursor as string) }),
        );
        expect(rest.map((e) => e.requestId)).toEqual([wanted.id]);
        await expect(s.audit.listForPrefix("*")).rejects.toBeInstanceOf(RangeError);
      });

      it("appends events that are not tied to a request (e.g. a revoke of a user)", async () => {
        const user = newUser();
        const event = await stores.audit.append({
          subjectUserId: user,
          actor: ADMIN,
          action: "user.revoked",
          reason: "left the project",
        });
        const events = (await stores.audit.listForUser(user)).items;
        expect(events).toEqual([event]);
      });
    });

    describe("one-time secrets", () => {
      const now = 1_800_000_000;
      const secret = (id: string, expiresAt = now + 600) => ({
        id,
        ciphertext: "Y2lwaGVydGV4dA",
        iv: "aXYxMjM0NTY3ODkw",
        expiresAt,
        requestId: "req-1",
        requesterUserId: "U1",
      });

      it("hands the ciphertext out once, then nothing", async () => {
        await stores.secrets.put(secret("s-once"));
        expect(await stores.secrets.isAvailable("s-once", now)).toBe(true);
        expect(await stores.secrets.consume("s-once", now)).toEqual(secret("s-once"));
        expect(await stores.secrets.consume("s-once", now)).toBeUndefined();
        expect(await stores.secrets.isAvailable("s-once", now)).toBe(false);
      });

      raceIt("gives the secret to exactly one of several concurrent consumers", async () => {
        await stores.secrets.put(secret("s-race"));
        const results = await Promise.all(
          Array.from({ length: 5 }, () => stores.secrets.consume("s-race", now)),
        );
        expect(results.filter((r) => r !== undefined)).toEqual([secret("s-race")]);
      });

      it("gives nothing for an expired secret that TTL has not deleted yet", async () => {
        await stores.secrets.put(secret("s-expired", now - 1));
        expect(await stores.secrets.isAvailable("s-expired", now)).toBe(false);
        expect(await stores.secrets.consume("s-expired", now)).toBeUndefined();
        // Exactly at expiry counts as expired too.
        await stores.secrets.put(secret("s-boundary", now));
        expect(await stores.secrets.consume("s-boundary", now)).toBeUndefined();
      });

      it("gives nothing for an unknown id and refuses to overwrite an existing one", async () => {
        expect(await stores.secrets.consume("s-unknown", now)).toBeUndefined();
        await stores.secrets.put(secret("s-dup"));
        const err = await rejection(stores.secrets.put({ ...secret("s-dup"), ciphertext: "b3RoZXI" }));
        expect(err).toBeInstanceOf(SecretExistsError);
        expect(err.message).not.toContain("Y2lwaGVydGV4dA");
        expect(await stores.secrets.consume("s-dup", now)).toEqual(secret("s-dup"));
      });
    });
  });
}

/** BatchWrite with the unprocessed-items retry the API requires. */
async function batchWrite(doc: DynamoDBDocumentClient, tableName: string, items: Record<string, unknown>[]) {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 10) throw new Error("BatchWrite kept leaving items unprocessed");
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
    requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    if (requests.length) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
  }
}
