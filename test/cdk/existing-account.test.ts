import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import type { CytoskelApp } from "../../cdk/lib/app.ts";
import { LOCATION_KMS_ACTIONS } from "../../cdk/lib/grants-stack.ts";
import { buildAppInProcess } from "../../dev/cdk-app.ts";
import {
  actionsOf,
  documentStatements,
  functionNamed,
  type Json,
  only,
  render,
  resources,
  resourcesOf,
  roleOfFunction,
  roleStatements,
  type Statement,
} from "../../dev/template-helpers.ts";

const LOCATION_ID = "635f1139-1af2-4e43-8131-a4de006eb456";
const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const INSTANCE_ARN = "arn:<AWS::Partition>:s3:us-east-1:<AWS::AccountId>:access-grants/default";

function build(context: Record<string, unknown>, opts: { grantsOnly?: boolean } = {}) {
  const { built } = buildAppInProcess(context, { build: opts });
  const grants = Template.fromStack(built.grants).toJSON() as Json;
  const bot = built.bot ? (Template.fromStack(built.bot).toJSON() as Json) : undefined;
  return { built, grants, bot };
}

const violations = (built: CytoskelApp) =>
  [built.grants, ...(built.bot ? [built.bot] : [])].flatMap((stack) =>
    built.nag.validateScope(stack).violations.map((v) => `${stack.stackName}: ${v.ruleName}`),
  );

describe("deploying into the account the original tool set up", () => {
  const { built, grants, bot } = build({
    createAccessGrantsInstance: "false",
    existingAccessGrantsLocationId: LOCATION_ID,
    createUploadersGroup: "false",
  });

  it("creates no bucket, instance, location, location role or group", () => {
    for (const type of [
      "AWS::S3::Bucket",
      "AWS::S3::AccessGrantsInstance",
      "AWS::S3::AccessGrantsLocation",
      "AWS::IAM::Role",
      "AWS::IAM::Group",
    ]) {
      expect(resources(grants, type), type).toEqual([]);
    }
    expect(built.grants.locationRole).toBeUndefined();
    expect((grants.Outputs as Json).AccessGrantsLocationId).toMatchObject({ Value: LOCATION_ID });
  });

  it("attaches the GetDataAccess-only managed policy to the existing group, by name", () => {
    const policy = only(grants, "AWS::IAM::ManagedPolicy");
    expect(policy.properties.Groups).toEqual(["staging_cpg_uploaders"]);
    const statements = documentStatements(policy, "PolicyDocument");
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0] as Statement)).toEqual(["s3:GetDataAccess"]);
    expect(resourcesOf(statements[0] as Statement)).toEqual([INSTANCE_ARN]);
    expect((grants.Outputs as Json).UploadersGroupName).toMatchObject({ Value: "staging_cpg_uploaders" });
  });

  it("points the provisioner and expiry at the existing location and group", () => {
    for (const name of ["Provisioner", "Expiry"] as const) {
      const fn = functionNamed(bot ?? {}, name);
      const env = (fn.properties.Environment as { Variables: Json }).Variables;
      expect(env.ACCESS_GRANTS_LOCATION_ID, name).toBe(LOCATION_ID);
      expect(env.UPLOADERS_GROUP, name).toBe("staging_cpg_uploaders");
      const statements = roleStatements(bot ?? {}, roleOfFunction(fn));
      const group = statements.find((s) => actionsOf(s).includes("iam:RemoveUserFromGroup"));
      expect(resourcesOf(group as Statement), name).toEqual([
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:group/staging_cpg_uploaders",
      ]);
    }
  });

  it("passes cdk-nag", () => {
    expect(violations(built)).toEqual([]);
  });
});

describe("a bucket encrypted with a customer KMS key", () => {
  const locationRoleStatements = (template: Json) => {
    const location = only(template, "AWS::S3::AccessGrantsLocation");
    const roleId = (location.properties.IamRoleArn as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0] ?? "";
    return roleStatements(template, roleId);
  };

  it("lets the location role decrypt and generate data keys with that key, only through S3", () => {
    const { built, grants } = build({ bucketKmsKeyArn: KEY_ARN }, { grantsOnly: true });
    const kms = locationRoleStatements(grants).filter((s) => actionsOf(s).some((a) => a.startsWith("kms:")));
    expect(kms).toHaveLength(1);
    const [statement] = kms as [Statement];
    expect(actionsOf(statement).sort()).toEqual([...LOCATION_KMS_ACTIONS].sort());
    expect(resourcesOf(statement)).toEqual([KEY_ARN]);
    expect(render(statement.Condition?.StringEquals?.["kms:ViaService"])).toBe("s3.us-east-1.amazonaws.com");
    expect(violations(built)).toEqual([]);
  });

  it("gives the location role no KMS permission without it", () => {
    const { grants } = build({}, { grantsOnly: true });
    expect(
      locationRoleStatements(grants)
        .flatMap(actionsOf)
        .filter((a) => a.startsWith("kms:")),
    ).toEqual([]);
  });

  it("encrypts a bucket the stack creates with that key", () => {
    const { built, grants } = build({ createBucket: "true", bucketKmsKeyArn: KEY_ARN }, { grantsOnly: true });
    const bucket = resources(grants, "AWS::S3::Bucket").find(
      (b) => b.properties.BucketName === "staging-cellpainting-gallery",
    );
    expect(bucket?.properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY_ARN },
        },
      ],
    });
    expect(violations(built)).toEqual([]);
  });
});
