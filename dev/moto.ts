// Start moto_server (when installed) on a free 127.0.0.1 port, so adapter tests can also run against an
// AWS imitation we did not write. Returns null when moto_server is not on PATH: callers skip visibly.
// Where the Python that has moto can be found, moto runs through dev/moto-server.py, which
// relaxes one check of moto's IAM policy validator so that it accepts S3 Access Grants ARNs (they carry
// a region) in policies, as IAM does; everything else is moto's own server.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readSync } from "node:fs";
import { delimiter, join } from "node:path";
import { freePort } from "./ports.ts";

const LAUNCHER = join(import.meta.dirname, "moto-server.py");

export interface Moto {
  url: string;
  port: number;
  /** Started through moto-server.py: IAM policies may name arn:aws:s3:<region>:<account>:access-grants/…. */
  acceptsAccessGrantsArns: boolean;
  /** Forget all state (moto's /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Path of the moto_server executable, or undefined. */
export function findMotoServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "moto_server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const MOTO_MISSING_REASON =
  "moto_server is not on PATH (pip install 'moto[server]'); moto variants skipped";

export const MOTO_PYTHON_MISSING_REASON =
  "no Python that imports moto.server was found (moto_server's interpreter, python3), so moto runs " +
  "unpatched and refuses S3 Access Grants ARNs in IAM policies";

/** The interpreter named by a script's #! line when it is a Python, e.g. ["/usr/bin/env", "python3"]. */
function pythonShebang(script: string): string[] | undefined {
  let head = "";
  try {
    const fd = openSync(script, "r");
    try {
      const buf = Buffer.alloc(256);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const line = /^#!(.*)/.exec(head)?.[1]?.trim();
  return line && /python/.test(line) ? line.split(/\s+/) : undefined;
}

let motoPython: string[] | null | undefined;

/**
 * The command that runs a Python with moto importable: moto_server's own interpreter (its #! line), else
 * python3 (e.g. a pyenv shim, whose moto_server is a shell script). Looked up once; undefined when none.
 */
export function findMotoPython(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (motoPython !== undefined) return motoPython ?? undefined;
  const executable = findMotoServer(env);
  const candidates = [executable ? pythonShebang(executable) : undefined, ["python3"]];
  motoPython = null;
  for (const candidate of candidates) {
    if (!candidate?.[0]) continue;
    const probe = spawnSync(candidate[0], [...candidate.slice(1), "-c", "import moto.server"], {
      stdio: "ignore",
      timeout: 30_000,
      env,
    });
    if (probe.status === 0) {
      motoPython = candidate;
      break;
    }
  }
  return motoPython ?? undefined;
}

async function waitUntilAnswering(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`moto_server did not answer on ${url} within ${timeoutMs} ms`);
}

export async function startMoto(opts: { timeoutMs?: number } = {}): Promise<Moto | null> {
  const executable = findMotoServer();
  if (!executable) return null;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverArgs = ["-H", "127.0.0.1", "-p", String(port)];
  const python = findMotoPython();
  const [command, ...args] = python ? [...python, LAUNCHER, ...serverArgs] : [executable, ...serverArgs];
  const child = spawn(command as string, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_CALL_RESET_API: "true" },
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    // Keep only the tail for error messages; moto logs every request.
    stderr = (stderr + d.toString()).slice(-2000);
  });
  try {
    await waitUntilAnswering(url, child, opts.timeoutMs ?? 30_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    url,
    port,
    acceptsAccessGrantsArns: python !== undefined,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
      await res.arrayBuffer();
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        // moto's werkzeug server normally exits at once; do not let a stuck one hold the suite.
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      });
    },
  };
}
