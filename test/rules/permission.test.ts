import { describe, expect, it } from "vitest";
import {
  InvalidPermissionError,
  type Permission,
  parsePermission,
  permissionCovers,
  tryParsePermission,
} from "../../src/rules/permission.ts";

describe("parsePermission", () => {
  it.each([
    ["READ", "READ"],
    ["read", "READ"],
    ["Write", "WRITE"],
    ["readwrite", "READWRITE"],
    [" READWRITE ", "READWRITE"],
  ])("accepts %j as %s", (text, permission) => {
    expect(parsePermission(text)).toBe(permission);
  });

  it.each(["", "rw", "read-write", "ADMIN", "READ WRITE"])(
    "refuses %j listing the allowed values",
    (text) => {
      expect(() => parsePermission(text)).toThrow(InvalidPermissionError);
      expect(() => parsePermission(text)).toThrow(
        `unknown permission "${text}"; allowed: READ, WRITE, READWRITE`,
      );
      expect(tryParsePermission(text)).toBeUndefined();
    },
  );
});

describe("permissionCovers", () => {
  const cases: Array<[have: Permission, want: Permission, covers: boolean]> = [
    ["READWRITE", "READ", true],
    ["READWRITE", "WRITE", true],
    ["READWRITE", "READWRITE", true],
    ["READ", "READ", true],
    ["READ", "WRITE", false],
    ["READ", "READWRITE", false],
    ["WRITE", "WRITE", true],
    ["WRITE", "READ", false],
    ["WRITE", "READWRITE", false],
  ];
  it.each(cases)("%s covers %s: %s", (have, want, covers) => {
    expect(permissionCovers(have, want)).toBe(covers);
  });
});
