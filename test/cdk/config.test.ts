import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigKey, missingBotSettings, readDeployConfig } from "../../cdk/lib/config.ts";
import { TARGETS } from "../../src/config/targets.ts";

const read = (context: Partial<Record<ConfigKey, unknown>>) => readDeployConfig((key) => context[key]);

function errorOf(context: Partial<Record<ConfigKey, unknown>>): ConfigError {
  try {
    read(context);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("deploy config from CDK context", () => {
  it("defaults to the cpgstaging target: us-east-1, the staging bucket imported, the uploaders group, /cytoskel/", () => {
    const config = read({});
    expect(config).toMatchObject({
      account: undefined,
      region: TARGETS.cpgstaging.region,
      bucketName: TARGETS.cpgstaging.bucket,
      createBucket: false,
      createAccessGrantsInstance: true,
      uploadersGroupName: TARGETS.cpgstaging.uploadersGroup,
      iamUserPath: TARGETS.cpgstaging.iamPath,
      adminUserIds: [],
      secretLinkTtlHours: 24,
      defaultGrantDays: 30,
      maxGrantDays: 90,
      logRetentionDays: 90,
    });
  });

  it("takes helpUrl as an https address and stops the synth on one the bot would refuse", () => {
    expect(read({}).helpUrl).toBeUndefined();
    expect(read({ helpUrl: "https://example.org/guide" }).helpUrl).toBe("https://example.org/guide");
    expect(errorOf({ helpUrl: "http://example.org/guide" }).message).toBe(
      'Invalid CDK context setting "helpUrl": expected an https URL without spaces, <, > or |',
    );
  });

  it("accepts -c strings and cdk.json typed values alike", () => {
    const fromCli = read({ createBucket: "true", adminUserIds: "U0AAA1, U0BBB2", maxGrantDays: "120" });
    const fromJson = read({ createBucket: true, adminUserIds: ["U0AAA1", "U0BBB2"], maxGrantDays: 120 });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli.adminUserIds).toEqual(["U0AAA1", "U0BBB2"]);
  });

  it.each([
    [{ account: "12345" }, "account"],
    [{ region: "mars" }, "region"],
    [{ bucketName: "Not_A_Bucket" }, "bucketName"],
    [{ createBucket: "yes" }, "createBucket"],
    [{ adminUserIds: "U0AAA1,alice" }, "adminUserIds"],
    [{ adminChannelId: "#admins" }, "adminChannelId"],
    [{ secretLinkTtlHours: "0" }, "secretLinkTtlHours"],
    [{ maxGrantDays: "ninety" }, "maxGrantDays"],
    [{ defaultGrantDays: 100, maxGrantDays: 90 }, "defaultGrantDays"],
    [{ logRetentionDays: 42 }, "logRetentionDays"],
    [{ iamUserPath: "cytoskel" }, "iamUserPath"],
    [{ slackBotTokenArn: "arn:aws:s3:::bucket" }, "slackBotTokenArn"],
    [
      { createAccessGrantsInstance: false, existingAccessGrantsLocationId: "loc/1" },
      "existingAccessGrantsLocationId",
    ],
    [{ createUploadersGroup: "no" }, "createUploadersGroup"],
    [{ bucketKmsKeyArn: "arn:aws:kms:us-east-1:111122223333:alias/staging" }, "bucketKmsKeyArn"],
    [{ bucketKmsKeyArn: "1234abcd-12ab-34cd-56ef-1234567890ab" }, "bucketKmsKeyArn"],
  ] as const)("names the malformed setting: %o", (context, setting) => {
    const err = errorOf(context);
    expect(err.setting).toBe(setting);
    expect(err.message).toContain(`"${setting}"`);
  });

  it("lists the settings the bot cannot start without, and none once they are given", () => {
    expect(missingBotSettings(read({}))).toEqual([
      "adminUserIds",
      "adminChannelId",
      "slackBotId",
      "slackBotUserId",
    ]);
    expect(
      missingBotSettings(
        read({
          adminUserIds: "U0AAA1",
          adminChannelId: "C0ADMIN",
          slackBotId: "B0BOT",
          slackBotUserId: "U0BOT",
        }),
      ),
    ).toEqual([]);
  });

  it("takes the existing instance, location and group of an account the original tool set up", () => {
    const config = read({
      createAccessGrantsInstance: "false",
      existingAccessGrantsLocationId: "635f1139-1af2-4e43-8131-a4de006eb456",
      createUploadersGroup: "false",
    });
    expect(config).toMatchObject({
      createAccessGrantsInstance: false,
      existingAccessGrantsLocationId: "635f1139-1af2-4e43-8131-a4de006eb456",
      createUploadersGroup: false,
      uploadersGroupName: "staging_cpg_uploaders",
      bucketKmsKeyArn: undefined,
    });
    // Defaults: the stacks create the location and the group, and assume no customer key.
    expect(read({})).toMatchObject({
      existingAccessGrantsLocationId: undefined,
      createUploadersGroup: true,
      bucketKmsKeyArn: undefined,
    });
  });

  it.each([
    [
      "an existing location without the existing instance",
      { existingAccessGrantsLocationId: "default" },
      "existingAccessGrantsLocationId",
      "set createAccessGrantsInstance=false too",
    ],
    [
      "an existing location for a bucket the stack would create",
      { createAccessGrantsInstance: false, existingAccessGrantsLocationId: "default", createBucket: true },
      "existingAccessGrantsLocationId",
      "cannot be combined with createBucket=true",
    ],
    [
      "a key in another region than the bucket",
      { bucketKmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      "bucketKmsKeyArn",
      "must be in the bucket's region (us-east-1)",
    ],
    [
      "a key for a location role the stack does not create",
      {
        createAccessGrantsInstance: false,
        existingAccessGrantsLocationId: "default",
        bucketKmsKeyArn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      },
      "bucketKmsKeyArn",
      "the existing location's role instead",
    ],
    [
      "an alias instead of a key ARN",
      { bucketKmsKeyArn: "arn:aws:kms:us-east-1:111122223333:alias/staging" },
      "bucketKmsKeyArn",
      "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), not an alias",
    ],
  ] as const)("refuses %s, saying what to do", (_what, context, setting, hint) => {
    const err = errorOf(context);
    expect(err.setting).toBe(setting);
    expect(err.message).toContain(hint);
  });
});
