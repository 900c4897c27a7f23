import { describe, expect, it } from "vitest";
import { GrantScope, ScopeOutsideLocationError } from "../../src/rules/grant-scope.ts";

const BUCKET = "staging-cellpainting-gallery";
const at = (prefix: string) => GrantScope.of(BUCKET, prefix);

describe("GrantScope", () => {
  it("is the S3 URI of a bucket-relative prefix, and reads bucket and prefix back from a URI", () => {
    expect(at("cpg0042/*").uri).toBe("s3://staging-cellpainting-gallery/cpg0042/*");
    expect(at("*").uri).toBe("s3://staging-cellpainting-gallery/*");
    expect(`${at("cpg0042/*")}`).toBe("s3://staging-cellpainting-gallery/cpg0042/*");
    const listed = GrantScope.fromUri("s3://other-bucket/incoming/cpg0042/*");
    expect(listed.bucket).toBe("other-bucket");
    expect(listed.prefix).toBe("incoming/cpg0042/*");
    expect(GrantScope.fromUri(at("cpg0042/*").uri)).toEqual(at("cpg0042/*"));
  });

  const covers: Array<[grant: string, wanted: string, covers: boolean]> = [
    ["cpg0042/*", "cpg0042/*", true],
    ["cpg0042/*", "cpg0042/sub/*", true],
    ["cpg0042/*", "cpg0042/file.csv", true],
    ["*", "anything/*", true],
    ["*", "*", true],
    ["cpg0042/sub/*", "cpg0042/*", false],
    ["cpg0042/*", "cpg0043/*", false],
    ["cpg0042/*", "cpg00421/*", false],
    ["cpg0042/*", "*", false],
    ["cpg0042/file.csv", "cpg0042/file.csv", true],
    ["cpg0042/file.csv", "cpg0042/file.csv.bak", false],
    ["cpg0042/file.csv", "cpg0042/*", false],
    // Grants made outside cytoskel follow AWS's raw matching.
    ["cpg0042*", "cpg00420/*", true],
  ];
  it.each(covers)("a grant on %j covers %j: %s", (grant, wanted, expected) => {
    expect(at(grant).covers(at(wanted))).toBe(expected);
  });

  it("covers nothing in another bucket", () => {
    expect(at("*").covers(GrantScope.of("other", "cpg0042/*"))).toBe(false);
    expect(at("*").covers(GrantScope.of(`${BUCKET}-2`, "cpg0042/*"))).toBe(false);
  });

  it("ranks a longer prefix as more specific", () => {
    expect(at("cpg0042/sub/*").specificity).toBeGreaterThan(at("cpg0042/*").specificity);
    expect(at("cpg0042/*").specificity).toBeGreaterThan(at("*").specificity);
  });

  const locations: Array<[location: string, prefix: string, subPrefix: string | undefined]> = [
    ["s3://staging-cellpainting-gallery/", "cpg0042/*", "cpg0042/*"],
    ["s3://staging-cellpainting-gallery", "cpg0042/*", "cpg0042/*"],
    ["s3://staging-cellpainting-gallery/*", "cpg0042/*", "cpg0042/*"],
    ["s3://staging-cellpainting-gallery/", "*", "*"],
    ["s3://", "cpg0042/*", "staging-cellpainting-gallery/cpg0042/*"],
    ["s3://staging-cellpainting-gallery/staging/", "staging/cpg0042/*", "cpg0042/*"],
    ["s3://staging-cellpainting-gallery/cpg0042/", "cpg0042/sub/*", "sub/*"],
    ["s3://staging-cellpainting-gallery/cpg0042/", "cpg0042/*", "*"],
    ["s3://staging-cellpainting-gallery/cpg0042", "cpg0042/*", "*"],
    ["s3://staging-cellpainting-gallery/cpg0042/", "cpg0043/*", undefined],
    ["s3://staging-cellpainting-gallery/cpg0042/", "cpg00421/*", undefined],
    ["s3://staging-cellpainting-gallery/cpg0042/", "*", undefined],
    ["s3://other-bucket/", "cpg0042/*", undefined],
    ["s3://staging-cellpainting-gallery-2/", "cpg0042/*", undefined],
  ];
  it.each(locations)("under location %j, prefix %j has S3SubPrefix %j", (location, prefix, expected) => {
    const scope = at(prefix);
    expect(scope.liesIn(location)).toBe(expected !== undefined);
    if (expected !== undefined) {
      expect(scope.subPrefixIn(location)).toBe(expected);
    } else {
      expect(() => scope.subPrefixIn(location)).toThrow(ScopeOutsideLocationError);
    }
  });

  it("names the scope and the location when it lies outside", () => {
    let caught: unknown;
    try {
      at("cpg0042/*").subPrefixIn("s3://staging-cellpainting-gallery/incoming/");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScopeOutsideLocationError);
    expect(caught).toMatchObject({
      scope: "s3://staging-cellpainting-gallery/cpg0042/*",
      locationScope: "s3://staging-cellpainting-gallery/incoming/",
    });
  });
});
