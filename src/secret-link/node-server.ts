// node:http adapter for the handler: the browser test and local runs serve links with it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer, limitServer, stopOnce } from "../runtime/local-http.ts";
import type { HttpRequest, HttpResponse } from "./handler.ts";

export type Handle = (req: HttpRequest) => Promise<HttpResponse>;

export function toHttpRequest(req: IncomingMessage): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  return { method: req.method ?? "GET", path, headers };
}

export function nodeListener(handle: Handle): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // The handler never needs a request body; drain it so the socket can be reused.
    req.resume();
    handle(toHttpRequest(req)).then(
      (out) => {
        res.writeHead(out.status, out.headers);
        res.end(out.body);
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end("Internal error\n");
      },
    );
  };
}

export interface RunningSecretLinkServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 and a free port unless told otherwise. */
export async function startSecretLinkServer(
  handle: Handle,
  opts: { host?: string; port?: number } = {},
): Promise<RunningSecretLinkServer> {
  const host = opts.host ?? "127.0.0.1";
  const server = limitServer(createServer(nodeListener(handle)));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: stopOnce(() => closeServer(server)),
  };
}
