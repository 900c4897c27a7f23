import { describe, expect, it } from "vitest";
import {
  InvalidPrefixError,
  MAX_PREFIX_LENGTH,
  normalizePrefix,
  parsePrefix,
} from "../../src/rules/prefix.ts";

const accepted: Array<[input: string, subPrefix: string, opts?: { allowRoot?: boolean; bucket?: string }]> = [
  ["cpg0042", "cpg0042/*"],
  ["cpg0042/", "cpg0042/*"],
  ["cpg0042/*", "cpg0042/*"],
  ["  cpg0042/*  ", "cpg0042/*"],
  ["cpg0016-jump/source_2/workspace/segmentation", "cpg0016-jump/source_2/workspace/segmentation/*"],
  ["cpg0016-jump/source_2/workspace/segmentation/", "cpg0016-jump/source_2/workspace/segmentation/*"],
  ["cpg0016-jump/source_2/*", "cpg0016-jump/source_2/*"],
  ["s3://staging-cellpainting-gallery/cpg0042/", "cpg0042/*"],
  ["s3://staging-cellpainting-gallery/cpg0042", "cpg0042/*"],
  ["S3://staging-cellpainting-gallery/cpg0042/*", "cpg0042/*"],
  ["Mixed.Case_name-1/(v2)/it's!", "Mixed.Case_name-1/(v2)/it's!/*"],
  [".hidden/...", ".hidden/.../*"],
  ["a".repeat(MAX_PREFIX_LENGTH), `${"a".repeat(MAX_PREFIX_LENGTH)}/*`],
  ["*", "*", { allowRoot: true }],
  ["s3://staging-cellpainting-gallery/", "*", { allowRoot: true }],
  ["s3://staging-cellpainting-gallery", "*", { allowRoot: true }],
  ["s3://staging-cellpainting-gallery/*", "*", { allowRoot: true }],
  ["s3://other-bucket/data/", "data/*", { bucket: "other-bucket" }],
];

const refused: Array<[input: string, reason: string, opts?: { allowRoot?: boolean; bucket?: string }]> = [
  ["", "the prefix is empty; give one like cpg0042/*"],
  ["   ", "the prefix is empty; give one like cpg0042/*"],
  [
    "a".repeat(MAX_PREFIX_LENGTH + 1),
    `the prefix is ${MAX_PREFIX_LENGTH + 1} characters long; at most ${MAX_PREFIX_LENGTH} are allowed`,
  ],
  ["*", "the whole bucket (*) is not allowed; name a prefix like cpg0042/*"],
  ["s3://staging-cellpainting-gallery/", "the whole bucket (*) is not allowed; name a prefix like cpg0042/*"],
  ["s3://staging-cellpainting-gallery", "the whole bucket (*) is not allowed; name a prefix like cpg0042/*"],
  [
    "s3://staging-cellpainting-gallery/*",
    "the whole bucket (*) is not allowed; name a prefix like cpg0042/*",
  ],
  [
    "s3://cellpainting-gallery/cpg0042/",
    'it points at bucket "cellpainting-gallery"; only s3://staging-cellpainting-gallery/ is allowed',
  ],
  ["s3://", 'it points at bucket ""; only s3://staging-cellpainting-gallery/ is allowed'],
  ["/cpg0042", 'it starts with "/"; write it relative to the bucket, like cpg0042/*'],
  ["/*", 'it starts with "/"; write it relative to the bucket, like cpg0042/*'],
  ["/", 'it starts with "/"; write it relative to the bucket, like cpg0042/*'],
  [
    "s3://staging-cellpainting-gallery//x",
    'it starts with "/"; write it relative to the bucket, like cpg0042/*',
  ],
  ["cpg0042/../cpg0043", 'it has a ".." segment'],
  ["..", 'it has a ".." segment'],
  ["cpg0042/..", 'it has a ".." segment'],
  ["./cpg0042", 'it has a "." segment'],
  ["cpg0042/./x", 'it has a "." segment'],
  ["cpg0042//x", 'it has an empty segment ("//"); write cpg0042/*'],
  ["cpg0042//", 'it has an empty segment ("//"); write cpg0042/*'],
  ["cpg0042//*", 'it has an empty segment ("//"); write cpg0042/*'],
  ["cpg 0042", 'it contains " "; allowed are letters, digits, / and ! - _ . \' ( )'],
  ["cpg0042/a&b", 'it contains "&"; allowed are letters, digits, / and ! - _ . \' ( )'],
  ["cpg0042\\x", 'it contains "\\\\"; allowed are letters, digits, / and ! - _ . \' ( )'],
  ["cpg0042/é", 'it contains "é"; allowed are letters, digits, / and ! - _ . \' ( )'],
  ["cpg0042/x?y", 'it contains "?"; allowed are letters, digits, / and ! - _ . \' ( )'],
  ["cpg0042/\u0000", 'it contains "\\u0000"; allowed are letters, digits, / and ! - _ . \' ( )'],
  ["cpg*/x", "a * is only allowed at the very end, as in cpg0042/*"],
  ["*/cpg0042", "a * is only allowed at the very end, as in cpg0042/*"],
  ["cpg0042/**", "a * is only allowed at the very end, as in cpg0042/*"],
  ["cpg0042/*/", "a * is only allowed at the very end, as in cpg0042/*"],
  ["cpg0042*", 'a * must follow a "/" (write cpg0042/*, not cpg0042*)'],
  ["cpg0042/sub*", 'a * must follow a "/" (write cpg0042/*, not cpg0042*)'],
  // allowRoot only opens the root, not the other rules.
  ["../*", 'it has a ".." segment', { allowRoot: true }],
];

describe("parsePrefix", () => {
  it.each(accepted)("accepts %j as %j", (input, subPrefix, opts) => {
    expect(parsePrefix(input, opts)).toEqual({ ok: true, subPrefix });
  });

  it.each(refused)("refuses %j: %s", (input, reason, opts) => {
    expect(parsePrefix(input, opts)).toEqual({ ok: false, reason });
  });
});

describe("normalizePrefix", () => {
  it("returns the sub-prefix for accepted input", () => {
    expect(normalizePrefix("cpg0042")).toBe("cpg0042/*");
  });

  it("throws InvalidPrefixError naming the input and the reason", () => {
    let caught: unknown;
    try {
      normalizePrefix("cpg0042/../x");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidPrefixError);
    expect((caught as InvalidPrefixError).reason).toBe('it has a ".." segment');
    expect((caught as Error).message).toBe('refused prefix "cpg0042/../x": it has a ".." segment');
  });
});
