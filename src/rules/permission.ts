// S3 Access Grants permission levels, parsed from what people type. Pure.

export const PERMISSIONS = ["READ", "WRITE", "READWRITE"] as const;
export type Permission = (typeof PERMISSIONS)[number];

export class InvalidPermissionError extends Error {
  override readonly name = "InvalidPermissionError";
  constructor(readonly input: string) {
    super(`unknown permission "${input}"; allowed: ${PERMISSIONS.join(", ")}`);
  }
}

/** "read", "Write", "READWRITE" … -> Permission, or undefined. */
export function tryParsePermission(text: string): Permission | undefined {
  const upper = text.trim().toUpperCase();
  return (PERMISSIONS as readonly string[]).includes(upper) ? (upper as Permission) : undefined;
}

/** Case-insensitive; throws InvalidPermissionError listing the allowed values. */
export function parsePermission(text: string): Permission {
  const permission = tryParsePermission(text);
  if (!permission) throw new InvalidPermissionError(text);
  return permission;
}

/** Does holding `have` allow `want`? READWRITE covers both; READ and WRITE only themselves. */
export function permissionCovers(have: Permission, want: Permission): boolean {
  return have === "READWRITE" || have === want;
}
