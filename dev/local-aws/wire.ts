// Wire-format helpers shared by the IAM/STS (query) and S3 Control (REST-XML) handlers.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { XMLBuilder, XMLParser } from "fast-xml-parser";

/** An AWS error answer: code, HTTP status, message, as AWS sends them. */
export class AwsFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: "Sender" | "Receiver" = status >= 500 ? "Receiver" : "Sender",
  ) {
    super(message);
  }
}

export interface SigV4Info {
  accessKeyId: string | undefined;
  region: string | undefined;
  service: string | undefined;
}

/** Pull the access key id, region and service out of `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`. */
export function parseSigV4(authorization: string | undefined): SigV4Info {
  const m = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? "");
  return { accessKeyId: m?.[1], region: m?.[2], service: m?.[3] };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  suppressEmptyNode: false,
});
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

type XmlValue = string | number | boolean | Date | undefined | null | XmlObject | XmlValue[];
export interface XmlObject {
  [key: string]: XmlValue;
}

/** Drop undefined members and turn Dates into ISO 8601 (the timestamp format both protocols use). */
function normalise(value: XmlValue): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = normalise(v);
    return out;
  }
  return value;
}

export function xmlDocument(root: string, namespace: string, body: XmlObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [root]: { "@_xmlns": namespace, ...(normalise(body) as object) } })}`;
}

/** Parse an XML body and return the root element's children (the root's name carries no data). */
export function parseXmlRoot(body: string): Record<string, unknown> {
  if (!body.trim()) return {};
  const doc = parser.parse(body) as Record<string, unknown>;
  for (const [k, v] of Object.entries(doc)) {
    if (k === "?xml") continue;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
  }
  return {};
}

export function requestId(): string {
  return randomUUID();
}
