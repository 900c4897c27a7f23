import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  describeChange,
  permissionChange,
  planChange,
  shortenChange,
  shorterChoices,
} from "../../src/rules/change.ts";
import { PERMISSIONS, type Permission } from "../../src/rules/permission.ts";

const NOW = new Date("2026-12-01T12:00:00.000Z");
const inDays = (d: number) => new Date(NOW.getTime() + d * DAY_MS).toISOString();
const held = (permission: Permission, endInDays?: number) => ({
  subPrefix: "cpg0042/*",
  permission,
  ...(endInDays === undefined ? {} : { expiresAt: inDays(endInDays) }),
});

describe("permissionChange: held × asked", () => {
  const expected: Record<Permission, Record<Permission, string | undefined>> = {
    READ: { READ: undefined, WRITE: "replace", READWRITE: "widen" },
    WRITE: { READ: "replace", WRITE: undefined, READWRITE: "widen" },
    READWRITE: { READ: undefined, WRITE: undefined, READWRITE: undefined },
  };
  for (const h of PERMISSIONS)
    for (const a of PERMISSIONS)
      it(`held ${h}, asked ${a}: ${expected[h][a] ?? "no change"}`, () => {
        expect(permissionChange(h, a)).toBe(expected[h][a]);
      });
});

describe("planChange over held permission × asked permission × asked duration", () => {
  // Held ends in 20 days; asking 30 ends in 30 (an extension), asking 20 ends the same day (none).
  const durations = [
    { days: 30, extends: true },
    { days: 20, extends: false },
    { days: 5, extends: false },
  ];
  for (const h of PERMISSIONS)
    for (const a of PERMISSIONS)
      for (const { days, extends: ext } of durations) {
        const perm = permissionChange(h, a);
        const title = `held ${h} (20 d left), asked ${a} for ${days}d`;
        it(`${title}: ${ext || perm ? "a change" : "nothing new"}`, () => {
          const v = planChange(held(h, 20), { permission: a, durationDays: days, askedAt: NOW }, 90);
          if (!ext && !perm) {
            expect(v).toMatchObject({ ok: false, reason: "nothing-new" });
            return;
          }
          if (!v.ok) throw new Error(v.message);
          expect(v.change.extends).toBe(ext);
          expect(v.change.permissionChange).toBe(perm);
          expect(v.change.from).toEqual({ permission: h, expiresAt: inDays(20) });
          expect(v.change.to).toEqual({
            permission: perm ? a : h,
            expiresAt: ext ? inDays(days) : inDays(20),
          });
        });
      }
});

describe("planChange refusals", () => {
  it("nothing new names what is held and until when", () => {
    const v = planChange(held("READWRITE", 35), { permission: "READ", durationDays: 30, askedAt: NOW }, 90);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.message).toContain(
      "You already hold READWRITE on `cpg0042/*` until 2027-01-05; nothing new to ask.",
    );
    expect(v.message).toContain("at most 90");
  });

  it("an end less than a day later is no extension (a repeat right after approval)", () => {
    const h = { ...held("WRITE"), expiresAt: new Date(NOW.getTime() + 30 * DAY_MS - 60_000).toISOString() };
    expect(planChange(h, { permission: "WRITE", durationDays: 30, askedAt: NOW }, 90)).toMatchObject({
      ok: false,
      reason: "nothing-new",
    });
  });

  it("a held grant with no end date cannot be extended, only widened", () => {
    expect(planChange(held("READ"), { permission: "READ", durationDays: 90, askedAt: NOW }, 90).ok).toBe(
      false,
    );
    const v = planChange(held("READ"), { permission: "READWRITE", durationDays: 90, askedAt: NOW }, 90);
    expect(v).toMatchObject({ ok: true, change: { extends: false, to: { permission: "READWRITE" } } });
    if (v.ok) expect(v.change.to.expiresAt).toBeUndefined();
  });

  it.each([0, 91, 2.5])("%s days is refused with the allowed range", (days) => {
    const v = planChange(held("READ", 3), { permission: "READ", durationDays: days, askedAt: NOW }, 90);
    expect(v).toMatchObject({
      ok: false,
      reason: "too-long",
      message: expect.stringContaining("1 to 90 days"),
    });
  });

  it("60 days within a maximum of 90 is honoured as 60", () => {
    const v = planChange(held("WRITE", 10), { permission: "WRITE", durationDays: 60, askedAt: NOW }, 90);
    expect(v).toMatchObject({ ok: true, change: { to: { expiresAt: inDays(60) } } });
  });
});

describe("shortenChange and shorterChoices (an admin approving for less)", () => {
  const ask = { askedAt: NOW, durationDays: 60 };
  const plan = (permission: Permission) => {
    const v = planChange(held("WRITE", 10), { permission, durationDays: 60, askedAt: NOW }, 90);
    if (!v.ok) throw new Error(v.message);
    return v.change;
  };

  it("a shorter duration moves the new end, counted from the ask", () => {
    const v = shortenChange(plan("WRITE"), ask, 30);
    expect(v).toMatchObject({
      ok: true,
      durationDays: 30,
      change: { extends: true, to: { expiresAt: inDays(30) } },
    });
  });

  it("not longer than asked, nor the same", () => {
    expect(shortenChange(plan("WRITE"), ask, 60)).toMatchObject({
      ok: false,
      message: expect.stringContaining("1 to 59"),
    });
    expect(shortenChange(plan("WRITE"), ask, 90).ok).toBe(false);
  });

  it("shortened to before the held end: refused for a pure extension, permission only for an upgrade", () => {
    expect(shortenChange(plan("WRITE"), ask, 7)).toMatchObject({
      ok: false,
      message: expect.stringContaining("no extension"),
    });
    const v = shortenChange(plan("READWRITE"), ask, 7);
    expect(v).toMatchObject({
      ok: true,
      change: {
        extends: false,
        permissionChange: "widen",
        to: { permission: "READWRITE", expiresAt: inDays(10) },
      },
    });
  });

  it("offers only choices that still change something", () => {
    expect(shorterChoices(plan("WRITE"), ask)).toEqual([14, 30]);
    expect(shorterChoices(plan("READWRITE"), ask)).toEqual([1, 3, 7, 14, 30]);
  });
});

describe("describeChange", () => {
  it("says old → new for each part that changes", () => {
    const v = planChange(
      { subPrefix: "cpg0042/*", permission: "WRITE", expiresAt: "2026-12-20T12:00:00.000Z" },
      { permission: "READWRITE", durationDays: 49, askedAt: NOW },
      90,
    );
    if (!v.ok) throw new Error(v.message);
    expect(describeChange(v.change)).toBe("end 2026-12-20 → 2027-01-19; WRITE → READWRITE");
  });
});
