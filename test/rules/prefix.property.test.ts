/** Property-based: the prefix rules over 10,000 generated inputs per property (pure, no I/O). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_PREFIX_LENGTH, parsePrefix } from "../../src/rules/prefix.ts";

const RUNS = { numRuns: 10_000 };
const SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!_.-'()".split("");
const segment = fc
  .array(fc.constantFrom(...SAFE), { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(""))
  .filter((s) => s !== "." && s !== "..");
const validBody = fc.array(segment, { minLength: 1, maxLength: 5 }).map((ss) => ss.join("/"));

describe("parsePrefix (property)", () => {
  it("never throws; what it accepts is a safe, bounded `<body>/*`, and every refusal says why", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: "grapheme", maxLength: 40 })),
        (input) => {
          const r = parsePrefix(input);
          if (!r.ok) {
            expect(r.reason.length).toBeGreaterThan(10);
            return;
          }
          expect(r.subPrefix.endsWith("/*")).toBe(true);
          const body = r.subPrefix.slice(0, -2);
          expect(body.length).toBeLessThanOrEqual(MAX_PREFIX_LENGTH);
          for (const s of body.split("/")) {
            expect(s).not.toBe("");
            expect(s === "." || s === "..").toBe(false);
            for (const ch of s) expect(SAFE).toContain(ch);
          }
        },
      ),
      RUNS,
    );
  });

  it("accepts every safe prefix in each written form (bare, /, /*, s3://bucket/) as the same sub-prefix, idempotently", () => {
    fc.assert(
      fc.property(validBody, fc.constantFrom("", "/", "/*"), fc.boolean(), (body, tail, url) => {
        const text = `${url ? "s3://b/" : ""}${body}${tail}`;
        const r = parsePrefix(text, { bucket: "b" });
        expect(r).toEqual({ ok: true, subPrefix: `${body}/*` });
        expect(parsePrefix(`${body}/*`)).toEqual(r);
      }),
      RUNS,
    );
  });

  it("refuses a prefix with any character outside S3's safe set, naming that character", () => {
    const unsafe = fc
      .string({ unit: "binary", minLength: 1, maxLength: 1 })
      .filter((c) => !SAFE.includes(c) && c !== "/" && c !== "*" && c.trim() === c);
    fc.assert(
      fc.property(segment, unsafe, segment, (a, c, b) => {
        const r = parsePrefix(`${a}${c}${b}`);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toContain(JSON.stringify(c));
      }),
      RUNS,
    );
  });

  it("refuses another bucket, naming it and the allowed one", () => {
    fc.assert(
      fc.property(
        segment.filter((s) => s !== "b"),
        validBody,
        (other, body) => {
          const r = parsePrefix(`s3://${other}/${body}`, { bucket: "b" });
          expect(r).toMatchObject({ ok: false, reason: expect.stringContaining("only s3://b/") });
        },
      ),
      RUNS,
    );
  });
});
