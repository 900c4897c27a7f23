// AES-256-GCM through WebCrypto, so the server side and the page (page.ts) share one algorithm
// and one wire format: key = 32 raw bytes as base64url (it travels in the URL fragment),
// iv = 12 random bytes as base64, ciphertext = GCM output (tag appended) as base64.
// The ciphertext is bound to the link id through GCM's additional data, so a stored
// ciphertext cannot be replayed under another link.
import { webcrypto } from "node:crypto";

const subtle = webcrypto.subtle;

export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const ID_BYTES = 16;

/** 32 bytes in unpadded base64url is always 43 characters. */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** 16 bytes (128 bits) in unpadded base64url is always 22 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** Additional authenticated data: versioned, and names the link the ciphertext belongs to. */
export function additionalData(id: string): Uint8Array {
  return new TextEncoder().encode(`cytoskel-secret-link:v1:${id}`);
}

export interface SealedSecret {
  /** base64 */
  ciphertext: string;
  /** base64, 12 bytes */
  iv: string;
}

export interface SealResult extends SealedSecret {
  /** base64url, 32 bytes. Goes in the link's fragment only; never stored or logged. */
  key: string;
}

/** The key or ciphertext did not authenticate (wrong key, tampered data, wrong link id). */
export class DecryptError extends Error {
  override readonly name = "DecryptError";
}

export function randomLinkId(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(ID_BYTES))).toString("base64url");
}

export function isWellFormedLinkId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function isWellFormedKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** Encrypts `plaintext` under a fresh random 256-bit key bound to link `id`. */
export async function seal(plaintext: string, id: string): Promise<SealResult> {
  const rawKey = webcrypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const iv = webcrypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await subtle.importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt"]);
  const ciphertext = await subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(id), tagLength: 128 },
    key,
    new TextEncoder().encode(plaintext),
  );
  return {
    key: Buffer.from(rawKey).toString("base64url"),
    iv: Buffer.from(iv).toString("base64"),
    ciphertext: Buffer.from(ciphertext).toString("base64"),
  };
}

/** The inverse of `seal`; the page does the same in the browser. Throws DecryptError. */
export async function open(sealed: SealedSecret, keyB64url: string, id: string): Promise<string> {
  if (!isWellFormedKey(keyB64url)) throw new DecryptError("The key is not 32 bytes of base64url.");
  const iv = Buffer.from(sealed.iv, "base64");
  if (iv.length !== IV_BYTES) throw new DecryptError("The IV is not 12 bytes.");
  const key = await subtle.importKey("raw", Buffer.from(keyB64url, "base64url"), { name: "AES-GCM" }, false, [
    "decrypt",
  ]);
  try {
    const plaintext = await subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(id), tagLength: 128 },
      key,
      Buffer.from(sealed.ciphertext, "base64"),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch (cause) {
    throw new DecryptError("The secret did not decrypt with this key.", { cause });
  }
}
