import { describe, expect, it } from "vitest";
import { type Grant, pickCoveringGrant } from "../../src/aws/access-grants.ts";
import { joinScope, permissionSatisfies, scopeCovers } from "../../src/aws/grant-scope.ts";

describe("scopeCovers", () => {
  it.each([
    ["s3://b/cpg0042/*", "s3://b/cpg0042/*", true],
    ["s3://b/cpg0042/*", "s3://b/cpg0042/sub/*", true],
    ["s3://b/cpg0042/*", "s3://b/cpg0042/file.csv", true],
    ["s3://b/*", "s3://b/anything/*", true],
    ["s3://b/cpg0042/*", "s3://b/cpg0043/*", false],
    ["s3://b/cpg0042/*", "s3://b/cpg00421/*", false],
    ["s3://b/cpg0042/*", "s3://other/cpg0042/*", false],
    ["s3://b/cpg0042/file.csv", "s3://b/cpg0042/file.csv", true],
    ["s3://b/cpg0042/file.csv", "s3://b/cpg0042/file.csv.bak", false],
  ])("%s covers %s: %s", (grant, wanted, expected) => {
    expect(scopeCovers(grant, wanted)).toBe(expected);
  });
});

describe("permissionSatisfies", () => {
  it("lets READWRITE satisfy all, READ and WRITE only themselves", () => {
    expect(permissionSatisfies("READWRITE", "READ")).toBe(true);
    expect(permissionSatisfies("READWRITE", "WRITE")).toBe(true);
    expect(permissionSatisfies("READ", "READ")).toBe(true);
    expect(permissionSatisfies("READ", "WRITE")).toBe(false);
    expect(permissionSatisfies("WRITE", "READWRITE")).toBe(false);
  });
});

describe("joinScope", () => {
  it("joins a bucket location and a sub-prefix, and the default location s3:// with bucket/prefix", () => {
    expect(joinScope("s3://b/", "cpg0042/*")).toBe("s3://b/cpg0042/*");
    expect(joinScope("s3://b", "cpg0042/*")).toBe("s3://b/cpg0042/*");
    expect(joinScope("s3://", "b/cpg0042/*")).toBe("s3://b/cpg0042/*");
  });
});

describe("pickCoveringGrant", () => {
  const grant = (
    id: string,
    scope: string,
    permission: Grant["permission"],
    granteeArn = "arn:u",
  ): Grant => ({
    id,
    arn: `arn:g/${id}`,
    granteeType: "IAM",
    granteeArn,
    locationId: "loc",
    scope,
    subPrefix: scope.replace("s3://b/", ""),
    permission,
  });
  const grants = [
    grant("broad", "s3://b/cpg0042/*", "READWRITE"),
    grant("narrow", "s3://b/cpg0042/sub/*", "READ"),
    grant("someone-else", "s3://b/cpg0042/sub/deeper/*", "READWRITE", "arn:other"),
  ];

  it("picks the most specific grant of that grantee with enough permission", () => {
    expect(
      pickCoveringGrant(grants, {
        granteeArn: "arn:u",
        scope: "s3://b/cpg0042/sub/deeper/*",
        permission: "READ",
      })?.id,
    ).toBe("narrow");
    expect(
      pickCoveringGrant(grants, { granteeArn: "arn:u", scope: "s3://b/cpg0042/sub/*", permission: "WRITE" })
        ?.id,
    ).toBe("broad");
    expect(
      pickCoveringGrant(grants, { granteeArn: "arn:u", scope: "s3://b/cpg0099/*", permission: "READ" }),
    ).toBeUndefined();
  });
});
