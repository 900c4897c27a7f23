// The buckets cytoskel manages. The target word on the command line (`cytoskel cpgstaging …`)
// picks one entry; a second bucket is one more entry here and nothing else.

export interface Target {
  /** S3 bucket whose prefixes are granted. */
  bucket: string;
  /** Region of the bucket and of the account's S3 Access Grants instance. */
  region: string;
  /**
   * Scope of the Access Grants location grants are made under ("s3://bucket/", or a prefix of it).
   * Prefixes stay bucket-relative everywhere; only CreateAccessGrant gets them relative to this.
   */
  locationScope: string;
  /** IAM group whose only permission is s3:GetDataAccess on the Access Grants instance. */
  uploadersGroup: string;
  /** IAM path under which cytoskel creates (and by default lists) its users. */
  iamPath: string;
}

export const TARGETS = {
  cpgstaging: {
    bucket: "staging-cellpainting-gallery",
    region: "us-east-1",
    locationScope: "s3://staging-cellpainting-gallery/",
    uploadersGroup: "staging_cpg_uploaders",
    iamPath: "/cytoskel/",
  },
} as const satisfies Record<string, Target>;

export type TargetName = keyof typeof TARGETS;

export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

export const DEFAULT_TARGET: TargetName = "cpgstaging";

export class UnknownTargetError extends Error {
  override readonly name = "UnknownTargetError";
  constructor(readonly given: string) {
    super(`unknown target "${given}"; allowed targets: ${TARGET_NAMES.join(", ")}`);
  }
}

export function isTargetName(name: string): name is TargetName {
  return Object.hasOwn(TARGETS, name);
}

/** The target's settings, with its name; throws UnknownTargetError listing the allowed names. */
export function getTarget(name: string): Target & { name: TargetName } {
  if (!isTargetName(name)) throw new UnknownTargetError(name);
  return { name, ...TARGETS[name] };
}
