/** Property-based: the `/cytoskel` parser over 10,000 generated inputs per property (pure, no I/O). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/bot/commands.ts";
import { PERMISSIONS } from "../../src/rules/permission.ts";
import { parsePrefix } from "../../src/rules/prefix.ts";
import { isRequestId, isSlackId } from "../../src/rules/slack-ids.ts";

const RUNS = { numRuns: 10_000 };
const opts = { defaultDurationDays: 30, maxDurationDays: 90 };
const VERBS = [
  "request",
  "status",
  "cancel",
  "help",
  "revoke",
  "audit",
  "pending",
  "reissue",
  "close",
  "prefix",
  "for",
];
const word = fc.oneof(
  fc.constantFrom(
    ...VERBS,
    "read",
    "write",
    "readwrite",
    "rw",
    "all",
    "cpg0042/*",
    "<@U012AB3CD>",
    "30d",
    "-1d",
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
);
const commandText = fc.array(word, { maxLength: 8 }).map((ws) => ws.join(" "));

describe("parseCommand (property)", () => {
  it("never throws; everything it accepts is within the rules; every refusal says what was wrong and how to write it", () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const r = parseCommand(text, opts);
        if (!r.ok) {
          expect(r.error.length).toBeGreaterThan(10);
          expect(r.usage).toMatch(/\/cytoskel/);
          return;
        }
        const c = r.command;
        if (c.kind === "request") {
          expect(PERMISSIONS).toContain(c.permission);
          expect(c.durationDays).toBeGreaterThanOrEqual(1);
          expect(c.durationDays).toBeLessThanOrEqual(opts.maxDurationDays);
          expect(parsePrefix(c.subPrefix)).toEqual({ ok: true, subPrefix: c.subPrefix });
          expect((c.reason ?? "").length).toBeLessThanOrEqual(500);
        }
        if (c.kind === "revoke" || c.kind === "reissue") expect(isSlackId("user", c.user.id)).toBe(true);
        if (c.kind === "audit" && c.target.kind === "user")
          expect(isSlackId("user", c.target.user.id)).toBe(true);
        if (c.kind === "cancel") expect(isRequestId(c.requestId)).toBe(true);
        if (c.kind === "close") expect(c.subPrefix).not.toBe("*");
      }),
      RUNS,
    );
  });

  it("a word in the permission slot is one of read|write|readwrite, the reason's first word, or refused naming the allowed words — never a silent READWRITE for a permission-like word", () => {
    fc.assert(
      fc.property(
        word.filter((w) => w.trim() !== "" && !/\s/.test(w)),
        (w) => {
          const r = parseCommand(`request prefix cpg0042/* ${w} because`, opts);
          const lower = w.toLowerCase();
          if ((PERMISSIONS as readonly string[]).includes(lower.toUpperCase())) {
            expect(r).toMatchObject({
              ok: true,
              command: { permission: lower.toUpperCase(), reason: "because" },
            });
          } else if (r.ok) {
            // Not a permission: kept as the start of the reason, never dropped.
            expect(r.command).toMatchObject({ kind: "request", permission: "READWRITE" });
            if (r.command.kind === "request") expect(r.command.reason).toBeDefined();
            expect(
              /^(read|write)(only|write|read|andwrite|s)?$|^(rw|ro|wo|r|w|rwx|admin|full|owner)$/.test(
                lower.replace(/[-_/+&.,:]/g, ""),
              ),
            ).toBe(false);
          } else {
            expect(r.error.length).toBeGreaterThan(10);
          }
        },
      ),
      RUNS,
    );
  });

  it("`for <N><unit>` is accepted only as whole days from 1 to the maximum; otherwise refused naming that range", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.constantFrom("d", "D", "days", "day", " d", " days", "x", "w", "", ".5d", "h"),
        (n, unit) => {
          const r = parseCommand(`request prefix cpg0042/* for ${n}${unit} plates`, opts);
          const valid = /^ ?(d|days?)$/i.test(unit) && n >= 1 && n <= opts.maxDurationDays;
          if (valid) expect(r).toMatchObject({ ok: true, command: { durationDays: n, reason: "plates" } });
          else
            expect(r).toMatchObject({
              ok: false,
              kind: "request",
              error: expect.stringContaining("1 to 90"),
            });
        },
      ),
      RUNS,
    );
  });
});
