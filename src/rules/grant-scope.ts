// What an access grant covers: the one model of it (pure, no I/O), used by the CLI, the service, the
// messages and the Access Grants adapter.
//
// A GrantScope is an S3 URI ("s3://bucket/cpg0042/*"). People, GetDataAccess and ListAccessGrants'
// GrantScope all speak that URI; requests name it by its bucket-relative prefix ("cpg0042/*"). Only
// CreateAccessGrant speaks differently: its S3SubPrefix is relative to the registered location, whose
// scope AWS puts in front of it (location "s3://bucket/incoming/" + "cpg0042/*" grants
// "s3://bucket/incoming/cpg0042/*"). `subPrefixIn` is that translation, and the only one.

/** The scope lies outside the Access Grants location a grant was to be made under. */
export class ScopeOutsideLocationError extends Error {
  override readonly name = "ScopeOutsideLocationError";
  constructor(
    readonly scope: string,
    readonly locationScope: string,
  ) {
    super(`${scope} is outside the Access Grants location ${locationScope}, so no grant there can cover it`);
  }
}

const S3 = "s3://";

export class GrantScope {
  /** e.g. "s3://staging-cellpainting-gallery/cpg0042/*": shown to people, sent to GetDataAccess. */
  readonly uri: string;

  private constructor(uri: string) {
    this.uri = uri;
  }

  /** A bucket-relative prefix as parsePrefix makes it ("cpg0042/*"; "*" is the whole bucket). */
  static of(bucket: string, prefix: string): GrantScope {
    return new GrantScope(`${S3}${bucket}/${prefix}`);
  }

  /** A scope as AWS reports it (ListAccessGrants' GrantScope). */
  static fromUri(uri: string): GrantScope {
    return new GrantScope(uri);
  }

  get bucket(): string {
    const rest = this.uri.slice(S3.length);
    const slash = rest.indexOf("/");
    return slash === -1 ? rest : rest.slice(0, slash);
  }

  /** Relative to the bucket, as requests store it: "cpg0042/*". */
  get prefix(): string {
    const rest = this.uri.slice(S3.length);
    const slash = rest.indexOf("/");
    return slash === -1 ? "" : rest.slice(slash + 1);
  }

  /**
   * Access Grants' matching: a trailing "*" matches anything after it ("s3://b/cpg0042/*" covers
   * "s3://b/cpg0042/sub/*" and "s3://b/cpg0042/file.csv"); a scope without one covers only itself.
   */
  covers(other: GrantScope): boolean {
    if (!this.uri.endsWith("*")) return this.uri === other.uri;
    const wanted = other.uri.endsWith("*") ? other.uri.slice(0, -1) : other.uri;
    return wanted.startsWith(this.uri.slice(0, -1));
  }

  /** Of several covering grants, the one with the longest prefix is the most specific. */
  get specificity(): number {
    return this.uri.endsWith("*") ? this.uri.length - 1 : this.uri.length;
  }

  /** Can a grant under a location with this scope ("s3://", "s3://b/", "s3://b/incoming/") reach it? */
  liesIn(locationScope: string): boolean {
    const base = locationBase(locationScope);
    return this.uri.startsWith(base) && this.uri.length > base.length;
  }

  /**
   * CreateAccessGrant's S3SubPrefix for this scope under a location: what follows the location's scope
   * ("s3://b/incoming/cpg0042/*" under "s3://b/incoming/" is "cpg0042/*"; under the default location
   * "s3://" it starts with the bucket). Throws ScopeOutsideLocationError when the location cannot reach it.
   */
  subPrefixIn(locationScope: string): string {
    if (!this.liesIn(locationScope)) throw new ScopeOutsideLocationError(this.uri, locationScope);
    return this.uri.slice(locationBase(locationScope).length);
  }

  toString(): string {
    return this.uri;
  }
}

/** "s3://b" and "s3://b/*" are the location "s3://b/"; "s3://" stays as it is. */
function locationBase(locationScope: string): string {
  if (locationScope === S3) return S3;
  const base = locationScope.replace(/\/\*$/, "/");
  return base.endsWith("/") ? base : `${base}/`;
}
