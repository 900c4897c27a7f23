import { describe, expect, it } from "vitest";
import {
  DecryptError,
  isWellFormedKey,
  isWellFormedLinkId,
  open,
  randomLinkId,
  seal,
} from "../../src/secret-link/crypto.ts";

const plaintext = JSON.stringify({ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t/with+chars=" });

function flipFirstByte(b64: string): string {
  const bytes = Buffer.from(b64, "base64");
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return bytes.toString("base64");
}

describe("secret-link crypto", () => {
  it("round-trips a payload through seal and open", async () => {
    const id = randomLinkId();
    const sealed = await seal(plaintext, id);
    expect(await open(sealed, sealed.key, id)).toBe(plaintext);
  });

  it("produces a 256-bit base64url key, a 96-bit IV and ciphertext that hides the plaintext", async () => {
    const sealed = await seal(plaintext, randomLinkId());
    expect(isWellFormedKey(sealed.key)).toBe(true);
    expect(Buffer.from(sealed.key, "base64url")).toHaveLength(32);
    expect(Buffer.from(sealed.iv, "base64")).toHaveLength(12);
    // GCM adds a 16-byte tag to the plaintext length.
    expect(Buffer.from(sealed.ciphertext, "base64")).toHaveLength(Buffer.byteLength(plaintext) + 16);
    expect(Buffer.from(sealed.ciphertext, "base64").toString("utf8")).not.toContain("s3cr3t");
  });

  it("uses a fresh key and IV every time", async () => {
    const id = randomLinkId();
    const a = await seal(plaintext, id);
    const b = await seal(plaintext, id);
    expect(a.key).not.toBe(b.key);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("rejects tampered ciphertext", async () => {
    const id = randomLinkId();
    const sealed = await seal(plaintext, id);
    await expect(
      open({ ...sealed, ciphertext: flipFirstByte(sealed.ciphertext) }, sealed.key, id),
    ).rejects.toThrow(DecryptError);
  });

  it("rejects a tampered IV", async () => {
    const id = randomLinkId();
    const sealed = await seal(plaintext, id);
    await expect(open({ ...sealed, iv: flipFirstByte(sealed.iv) }, sealed.key, id)).rejects.toThrow(
      DecryptError,
    );
  });

  it("rejects the wrong key", async () => {
    const id = randomLinkId();
    const sealed = await seal(plaintext, id);
    const other = await seal(plaintext, id);
    await expect(open(sealed, other.key, id)).rejects.toThrow(DecryptError);
  });

  it("rejects a ciphertext moved to another link id", async () => {
    const sealed = await seal(plaintext, randomLinkId());
    await expect(open(sealed, sealed.key, randomLinkId())).rejects.toThrow(DecryptError);
  });

  it("rejects a malformed key before trying to decrypt, without echoing it", async () => {
    const id = randomLinkId();
    const sealed = await seal(plaintext, id);
    const err = await open(sealed, "not-a-key", id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptError);
    expect(String(err)).not.toContain("not-a-key");
  });

  it("makes 128-bit base64url link ids that differ every time", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomLinkId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(isWellFormedLinkId(id)).toBe(true);
      expect(Buffer.from(id, "base64url")).toHaveLength(16);
    }
    expect(isWellFormedLinkId("short")).toBe(false);
    expect(isWellFormedLinkId(`${randomLinkId()}x`)).toBe(false);
    expect(isWellFormedLinkId("aaaaaaaaaaaaaaaaaaaaa/")).toBe(false);
  });
});
