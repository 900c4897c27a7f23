// SigV4 verification for requests signed with keys the stand-in issued (IAM users' access keys), so a
// client holding the wrong secret fails here as it would on AWS. Keys the stand-in never issued (the
// admin's dummy credentials) are not checked: there is no secret to check them against.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return "";
  const pairs = rawQuery
    .split("&")
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf("=");
      const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, "%20"));
      const v = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, "%20"));
      return [rfc3986(k), rfc3986(v)] as const;
    });
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Scope {
  date: string;
  region: string;
  service: string;
  signedHeaders: string;
}

function signatureFor(req: SignedRequest, secretAccessKey: string, scope: Scope): Buffer {
  const { date, region, service, signedHeaders } = scope;
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const q = req.rawUrl.indexOf("?");
  const rawPath = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const rawQuery = q < 0 ? "" : req.rawUrl.slice(q + 1);
  const canonicalUri =
    service === "s3"
      ? rawPath
      : rawPath
          .split("/")
          .map((seg) => rfc3986(seg))
          .join("/");

  const canonicalHeaders = signedHeaders
    .split(";")
    .map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(",") : (value ?? "");
      return `${name}:${String(text).trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? sha256Hex(req.body));

  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery(rawQuery),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const credentialScope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, credentialScope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), "aws4_request");
  return createHmac("sha256", key).update(stringToSign, "utf8").digest();
}

/**
 * Does the request's Authorization header carry a valid signature for `secretAccessKey`?
 * S3 (and S3 Control) sign the path as sent; other services encode it once more.
 */
export function signatureMatches(req: SignedRequest, secretAccessKey: string): boolean {
  const auth = req.headers.authorization ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return false;
  const [, , date = "", region = "", service = "", signedHeaders = "", signature = ""] = m;
  if (!String(req.headers["x-amz-date"] ?? "").startsWith(date)) return false;
  const expected = signatureFor(req, secretAccessKey, { date, region, service, signedHeaders });
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Headers that sign a raw request (for wire-level tests that speak HTTP without an SDK): x-amz-date,
 * x-amz-content-sha256 and Authorization over host and every header given.
 */
export function signedHeaders(
  req: { method: string; url: string; headers?: Record<string, string>; body?: string },
  credentials: { accessKeyId: string; secretAccessKey: string },
  scope: { region: string; service: string },
): Record<string, string> {
  const url = new URL(req.url);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const body = req.body ?? "";
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: url.host,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": sha256Hex(body),
  };
  const names = Object.keys(headers).sort().join(";");
  const date = amzDate.slice(0, 8);
  const signature = signatureFor(
    { method: req.method, rawUrl: `${url.pathname}${url.search}`, headers, body },
    credentials.secretAccessKey,
    { date, ...scope, signedHeaders: names },
  ).toString("hex");
  const { host: _host, ...rest } = headers;
  return {
    ...rest,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${date}/${scope.region}/${scope.service}/aws4_request, SignedHeaders=${names}, Signature=${signature}`,
  };
}
