/**
 * Limits for the node:http servers that stand in for a Lambda Function URL or a Slack endpoint on this
 * machine (the playground's bot front, the fake Slack, the secret-link server): a bounded body, short
 * header/request/keep-alive timeouts instead of Node's 300 s request default, and a stop that may be
 * called more than once (Ctrl-C while a stop is under way).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";

export interface LocalHttpLimits {
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const LOCAL_HTTP_LIMITS: LocalHttpLimits = {
  // What Slack sends the bot (a slash command form, or a block_actions / view_submission payload that
  // carries its message or view: ≤ 50 blocks in a message, ≤ 100 in a view, ≤ 3,000 characters a text
  // object, ≤ 40,000 characters of message text) and what the bot sends Slack stay well under 1 MiB.
  // Slack documents no cap on the requests it sends; the deployed path's own is Lambda's 6 MB buffered
  // Function URL payload (AWS::Lambda::Url InvokeMode BUFFERED), so nothing real is refused here.
  maxBodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

/** Sets the timeouts on `server` (before it listens) so a slow or idle client is dropped. */
export function limitServer(server: Server, limits: Partial<LocalHttpLimits> = {}): Server {
  const l = { ...LOCAL_HTTP_LIMITS, ...limits };
  // Node requires headersTimeout ≤ requestTimeout (when the latter is set).
  server.requestTimeout = l.requestTimeoutMs;
  server.headersTimeout = Math.min(l.headersTimeoutMs, l.requestTimeoutMs);
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  return server;
}

/**
 * The request body, or undefined once it passed `maxBytes`: then `res` has been answered 413 (naming
 * the limit) and the connection is closed, so the rest is never read. A Content-Length over the limit
 * is refused before any byte is read.
 */
export async function readBodyWithin(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number = LOCAL_HTTP_LIMITS.maxBodyBytes,
): Promise<Buffer | undefined> {
  const refuse = () => {
    res.writeHead(413, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(`Request body over ${maxBytes} bytes: this server accepts at most ${maxBytes}.\n`);
    // Stop reading what is left; the response above has been handed to the socket first.
    res.once("finish", () => req.destroy());
    return undefined;
  };
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return refuse();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return refuse();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Closes `server` and its connections; resolves at once when it is not listening (or already being
 * closed), so a second stop is harmless and never throws ERR_SERVER_NOT_RUNNING.
 */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    server.close((err) => {
      if (err && (err as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") reject(err);
      else resolve();
    });
    server.closeAllConnections();
  });
}

/** `stop` run once: later calls get the first call's promise. */
export function stopOnce<T>(stop: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= stop();
    return running;
  };
}
