// Pure rules for how S3 Access Grants match a request to a grant (no I/O).

export type GrantPermission = "READ" | "WRITE" | "READWRITE";

/** A location scope ("s3://", "s3://bucket/", "s3://bucket/prefix/") plus a grant sub-prefix -> grant scope. */
export function joinScope(locationScope: string, subPrefix: string): string {
  const base = locationScope.endsWith("/") ? locationScope : `${locationScope}/`;
  // The default location "s3://" takes a sub-prefix that starts with the bucket name.
  if (base === "s3:///" || locationScope === "s3://") return `s3://${subPrefix.replace(/^\/+/, "")}`;
  return `${base}${subPrefix.replace(/^\/+/, "")}`;
}

/**
 * Does a grant scope cover the wanted target? "s3://b/cpg0042/*" covers "s3://b/cpg0042/*",
 * "s3://b/cpg0042/sub/*" and "s3://b/cpg0042/file.csv"; a scope without "*" covers only itself.
 */
export function scopeCovers(grantScope: string, wanted: string): boolean {
  if (grantScope.endsWith("*")) {
    const prefix = grantScope.slice(0, -1);
    const want = wanted.endsWith("*") ? wanted.slice(0, -1) : wanted;
    return want.startsWith(prefix);
  }
  return grantScope === wanted;
}

/** READWRITE satisfies everything; READ and WRITE satisfy only themselves. */
export function permissionSatisfies(have: GrantPermission, want: GrantPermission): boolean {
  return have === "READWRITE" || have === want;
}

/** The grant prefix length decides which of several covering grants is the most specific. */
export function scopeSpecificity(grantScope: string): number {
  return grantScope.endsWith("*") ? grantScope.length - 1 : grantScope.length;
}
