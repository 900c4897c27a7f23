// Creating a one-time link: re-issue calls issueSecretLink (seal + put); the provisioner seals with
// sealSecretLink and stores the record in the transaction that records its progress. Only ciphertext,
// IV, expiry and the request/requester ids are stored; the key exists only in the returned URL.
import type { SecretRecord } from "../store/types.ts";
import { randomLinkId, seal } from "./crypto.ts";

/** What the page decrypts and shows. */
export interface CredentialsPayload {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region: string;
  /** Sub-prefixes the keys can ask for, as on the request, e.g. ["cpg0042/*"]. */
  scopes: string[];
  /** READ | WRITE | READWRITE, when one permission applies to every scope. */
  permission?: string;
  /** Free text shown under the credentials. */
  instructions?: string;
  /** Whom the credentials are for (shown nowhere server-side; only inside the ciphertext). */
  requester?: { userId: string; name?: string };
}

export interface SecretLinkWriter {
  put(record: SecretRecord): Promise<unknown>;
}

export interface IssueSecretLinkInput {
  secrets: SecretLinkWriter;
  /** Public origin of the secret-link service, e.g. "https://abc.lambda-url.us-east-1.on.aws". */
  baseUrl: string;
  payload: CredentialsPayload;
  requestId: string;
  requesterUserId: string;
  /** Default 24 h; must lie within [MIN_TTL_SECONDS, MAX_TTL_SECONDS]. */
  ttlSeconds?: number;
  now?: () => Date;
}

export interface IssuedSecretLink {
  id: string;
  /** `${baseUrl}/s/${id}#${key}`: a secret. Post it with unfurling off; never log it. */
  url: string;
  expiresAt: Date;
}

export const DEFAULT_TTL_SECONDS = 24 * 60 * 60;
export const MIN_TTL_SECONDS = 5 * 60;
export const MAX_TTL_SECONDS = 7 * 24 * 60 * 60;

export class InvalidSecretLinkInputError extends Error {
  override readonly name = "InvalidSecretLinkInputError";
}

export function validateTtlSeconds(ttlSeconds: number): number {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
    throw new InvalidSecretLinkInputError(
      `secret link lifetime must be a whole number of seconds from ${MIN_TTL_SECONDS} (5 minutes) ` +
        `to ${MAX_TTL_SECONDS} (7 days); got ${String(ttlSeconds)}`,
    );
  }
  return ttlSeconds;
}

/** The origin (and optional base path) links are built on, without a trailing slash. */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new InvalidSecretLinkInputError("secret link base URL is not a URL");
  }
  const local = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    throw new InvalidSecretLinkInputError("secret link base URL must be https (http only for localhost)");
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new InvalidSecretLinkInputError(
      "secret link base URL must not carry a query, fragment or credentials",
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export async function issueSecretLink(input: IssueSecretLinkInput): Promise<IssuedSecretLink> {
  const { link, record } = await sealSecretLink(input);
  await input.secrets.put(record);
  return link;
}

/**
 * The link and the record to store, without storing it: for a caller that writes the record in its own
 * transaction (the provisioner: the secret and the progress naming it commit together). The link works
 * only once the record is stored, so it must not be shown before that write succeeded.
 */
export async function sealSecretLink(
  input: Omit<IssueSecretLinkInput, "secrets">,
): Promise<{ link: IssuedSecretLink; record: SecretRecord }> {
  const ttl = validateTtlSeconds(input.ttlSeconds ?? DEFAULT_TTL_SECONDS);
  const base = normalizeBaseUrl(input.baseUrl);
  if (!input.payload.accessKeyId || !input.payload.secretAccessKey) {
    throw new InvalidSecretLinkInputError("secret link payload needs an access key ID and secret access key");
  }
  const now = (input.now ?? (() => new Date()))();
  const expiresAtSeconds = Math.floor(now.getTime() / 1000) + ttl;
  const id = randomLinkId();
  const sealed = await seal(JSON.stringify(input.payload), id);
  const record: SecretRecord = {
    id,
    ciphertext: sealed.ciphertext,
    iv: sealed.iv,
    expiresAt: expiresAtSeconds,
    requestId: input.requestId,
    requesterUserId: input.requesterUserId,
  };
  return {
    link: { id, url: `${base}/s/${id}#${sealed.key}`, expiresAt: new Date(expiresAtSeconds * 1000) },
    record,
  };
}
