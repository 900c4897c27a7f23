// Start moto_server (when installed) on a free 127.0.0.1 port, so adapter tests can also run against an
// AWS imitation we did not write. Returns null when moto_server is not on PATH: callers skip visibly.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

export interface Moto {
  url: string;
  port: number;
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
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
  const child = spawn(executable, ["-H", "127.0.0.1", "-p", String(port)], {
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
