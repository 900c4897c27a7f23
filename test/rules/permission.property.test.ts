/** Property-based: permission words over 10,000 generated inputs per property (pure). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  InvalidPermissionError,
  PERMISSIONS,
  parsePermission,
  permissionCovers,
  tryParsePermission,
} from "../../src/rules/permission.ts";

const RUNS = { numRuns: 10_000 };

describe("permissions (property)", () => {
  it("accepts exactly read, write and readwrite in any case; anything else is refused naming the input and the allowed values", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("rw", "admin", "full", "Read", " write ")),
        (text) => {
          const p = tryParsePermission(text);
          const meant = PERMISSIONS.find((x) => x === text.trim().toUpperCase());
          expect(p).toBe(meant);
          if (meant) {
            expect(parsePermission(text)).toBe(meant);
            return;
          }
          let err: unknown;
          try {
            parsePermission(text);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(InvalidPermissionError);
          expect((err as Error).message).toContain(`"${text}"`);
          expect((err as Error).message).toContain("READ, WRITE, READWRITE");
        },
      ),
      RUNS,
    );
  });

  it("READWRITE covers everything; READ and WRITE only themselves", () => {
    fc.assert(
      fc.property(fc.constantFrom(...PERMISSIONS), fc.constantFrom(...PERMISSIONS), (have, want) => {
        expect(permissionCovers(have, want)).toBe(have === "READWRITE" || have === want);
      }),
      RUNS,
    );
  });
});
