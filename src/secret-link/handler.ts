// The secret-link HTTP handler, independent of transport (lambda.ts adapts Lambda events,
// node-server.ts adapts node:http for tests and local runs).
//
//   GET|HEAD /s/<id>  the page (Reveal button) or the "gone" page. Reads, never consumes:
//                     Slack, mail and chat link scanners fetch links before people do.
//   POST /s/<id>      the one atomic consume; 200 {ciphertext, iv} exactly once, then 410.
//
// Every miss (consumed, expired, unknown, malformed id) gets the same 410 answer, byte for byte,
// so the responses reveal nothing about which ids ever existed. 410 rather than 404 because
// "gone, and not coming back" is what the person needs to hear, and it is what a consumed link is.
//
// POST must carry `X-Requested-With: cytoskel-reveal` (the page's fetch sets it) and, when the
// browser sends Sec-Fetch-Site, come from the same origin. A cross-site HTML form cannot set
// custom headers, and a cross-origin fetch that sets one must pass a CORS preflight, which this
// handler never grants (OPTIONS gets 405, and no Access-Control-* header is ever sent), so
// another site cannot burn somebody's link. Refused POSTs consume nothing.
import { type Logger as BaseLogger, silentLogger } from "../log.ts";
import { isWellFormedLinkId } from "./crypto.ts";
import {
  CONTENT_SECURITY_POLICY,
  gonePage,
  notFoundPage,
  REVEAL_HEADER,
  REVEAL_HEADER_VALUE,
  revealPage,
} from "./page.ts";

export interface HttpRequest {
  method: string;
  /** Path without query string, e.g. "/s/abc". */
  path: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the handler needs from the store (SecretStore provides it). */
export interface SecretLinkStore {
  /** Non-consuming read: whether a consume at `nowEpochSeconds` would succeed. */
  isAvailable(id: string, nowEpochSeconds: number): Promise<boolean>;
  /** One conditional delete that also checks expiry; undefined when there was nothing to consume. */
  consume(
    id: string,
    nowEpochSeconds: number,
  ): Promise<
    | { ciphertext: string; iv: string; expiresAt: number; requestId: string; requesterUserId: string }
    | undefined
  >;
}

export interface ConsumedEvent {
  id: string;
  requestId: string;
  requesterUserId: string;
  consumedAt: Date;
}

/** Runs after a successful consume (DM the requester, audit). Its failure never fails the reveal. */
export type ConsumedHook = (event: ConsumedEvent) => Promise<void>;

export type Logger = Pick<BaseLogger, "info" | "error">;

export interface SecretLinkHandlerOptions {
  secrets: SecretLinkStore;
  onConsumed?: ConsumedHook;
  /** Who the page says sent the link. */
  senderName?: string;
  now?: () => Date;
  logger?: Logger;
}

export const DEFAULT_SENDER_NAME = "the Cell Painting Gallery admins";

/** Sent on every response, whatever the status. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-robots-tag": "noindex, nofollow",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  "strict-transport-security": "max-age=31536000",
};

const HTML = "text/html; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";
const GONE_JSON = JSON.stringify({
  error: "gone",
  message: "This link has already been opened or has expired. Ask an admin to re-issue your credentials.",
});
const FORBIDDEN_JSON = JSON.stringify({
  error: "forbidden",
  message: "Open the link in a browser and use its Reveal button.",
});

const LINK_PATH = /^\/s\/(.*)$/;

function respond(
  status: number,
  contentType: string,
  body: string,
  extra: Record<string, string> = {},
): HttpResponse {
  return { status, headers: { ...SECURITY_HEADERS, "content-type": contentType, ...extra }, body };
}

/** True when the request carries the page's signal and nothing says it is cross-site. */
export function isSameOriginReveal(headers: HttpRequest["headers"]): boolean {
  if (headers[REVEAL_HEADER]?.trim() !== REVEAL_HEADER_VALUE) return false;
  const site = headers["sec-fetch-site"];
  return site === undefined || site === "same-origin";
}

export function createSecretLinkHandler(
  options: SecretLinkHandlerOptions,
): (req: HttpRequest) => Promise<HttpResponse> {
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? silentLogger;
  const senderName = options.senderName ?? DEFAULT_SENDER_NAME;
  const gone = gonePage({ senderName });
  const notFound = notFoundPage();

  async function page(id: string): Promise<HttpResponse> {
    if (!isWellFormedLinkId(id)) return respond(410, HTML, gone);
    const live = await options.secrets.isAvailable(id, Math.floor(now().getTime() / 1000));
    if (!live) return respond(410, HTML, gone);
    return respond(200, HTML, revealPage({ id, senderName }));
  }

  async function reveal(id: string, req: HttpRequest): Promise<HttpResponse> {
    if (!isSameOriginReveal(req.headers)) return respond(403, JSON_TYPE, FORBIDDEN_JSON);
    if (!isWellFormedLinkId(id)) return respond(410, JSON_TYPE, GONE_JSON);
    const consumedAt = now();
    const record = await options.secrets.consume(id, Math.floor(consumedAt.getTime() / 1000));
    if (!record) return respond(410, JSON_TYPE, GONE_JSON);
    // Log the request id only: the link id is half of what opens a secret.
    logger.info("secret link consumed", { requestId: record.requestId });
    if (options.onConsumed) {
      // Awaited, because Lambda freezes once the response is returned; but a failed DM must not
      // cost the person their only chance to see the credentials.
      try {
        await options.onConsumed({
          id,
          requestId: record.requestId,
          requesterUserId: record.requesterUserId,
          consumedAt,
        });
      } catch (err) {
        logger.error("onConsumed hook failed", { requestId: record.requestId, error: err });
      }
    }
    return respond(200, JSON_TYPE, JSON.stringify({ ciphertext: record.ciphertext, iv: record.iv }));
  }

  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    const method = req.method.toUpperCase();
    const match = LINK_PATH.exec(req.path);
    if (!match) {
      if (req.path === "/robots.txt" && (method === "GET" || method === "HEAD")) {
        return withoutBodyFor(
          method,
          respond(200, "text/plain; charset=utf-8", "User-agent: *\nDisallow: /\n"),
        );
      }
      return withoutBodyFor(method, respond(404, HTML, notFound));
    }
    const id = match[1] ?? "";
    try {
      if (method === "GET" || method === "HEAD") return withoutBodyFor(method, await page(id));
      if (method === "POST") return await reveal(id, req);
      return respond(405, "text/plain; charset=utf-8", "Method not allowed\n", { allow: "GET, HEAD, POST" });
    } catch (err) {
      logger.error("secret link request failed", { method, error: err });
      return respond(
        503,
        method === "POST" ? JSON_TYPE : "text/plain; charset=utf-8",
        method === "POST"
          ? JSON.stringify({ error: "unavailable", message: "Try again in a minute." })
          : "Temporarily unavailable. Try again in a minute.\n",
      );
    }
  };
}

function withoutBodyFor(method: string, res: HttpResponse): HttpResponse {
  return method === "HEAD" ? { ...res, body: "" } : res;
}
