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
  const [, , date, region, service, signedHeaders, signature] = m as unknown as string[];
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!amzDate.startsWith(date as string)) return false;

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

  const names = (signedHeaders as string).split(";");
  const canonicalHeaders = names
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
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, date as string), region as string), service as string),
    "aws4_request",
  );
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  const given = Buffer.from(signature as string, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
