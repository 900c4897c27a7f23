// The grants stack alone, in process (no Lambda bundling, so it is quick), for the real staging account:
// the bucket and the Access Grants instance exist already and are imported, not created.
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCytoskelApp, type CytoskelApp } from "../../cdk/lib/app.ts";
import { readDeployConfig } from "../../cdk/lib/config.ts";
import {
  actionsOf,
  type Json,
  only,
  resources,
  resourcesOf,
  roleStatements,
} from "../../dev/template-helpers.ts";

const CONTEXT: Record<string, unknown> = {
  createBucket: false,
  createAccessGrantsInstance: false,
  bucketName: "staging-cellpainting-gallery",
};

let built: CytoskelApp;
let template: Json;

beforeAll(() => {
  const app = new App({ context: CONTEXT });
  built = buildCytoskelApp(
    app,
    readDeployConfig((key) => app.node.tryGetContext(key)),
    { grantsOnly: true },
  );
  template = Template.fromStack(built.grants).toJSON();
});

describe("grants stack importing the existing bucket and instance", () => {
  it("creates neither a bucket nor an Access Grants instance, but registers the bucket's location", () => {
    expect(resources(template, "AWS::S3::Bucket")).toEqual([]);
    expect(resources(template, "AWS::S3::BucketPolicy")).toEqual([]);
    expect(resources(template, "AWS::S3::AccessGrantsInstance")).toEqual([]);
    expect(only(template, "AWS::S3::AccessGrantsLocation").properties.LocationScope).toBe(
      "s3://staging-cellpainting-gallery/",
    );
  });

  it("scopes the location role to the imported bucket by name", () => {
    const role = resources(template, "AWS::IAM::Role").find((r) => r.logicalId.startsWith("LocationRole"));
    const statements = roleStatements(template, role?.logicalId ?? "");
    expect(statements.flatMap(resourcesOf).sort()).toEqual([
      "arn:<AWS::Partition>:s3:::staging-cellpainting-gallery",
      "arn:<AWS::Partition>:s3:::staging-cellpainting-gallery/*",
    ]);
    expect(statements.flatMap(actionsOf)).toContain("s3:ListBucket");
  });

  it("passes cdk-nag, and the same checks flag an unacknowledged wildcard", () => {
    expect(built.nag.validateScope(built.grants).violations).toEqual([]);
    new iam.ManagedPolicy(built.grants, "DeliberatelyTooBroad", {
      statements: [new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: ["*"] })],
    });
    const report = built.nag.validateScope(built.grants);
    expect(report.violations.map((v) => v.ruleName)).toContain("AwsSolutions-IAM5[Resource::*]");
  });
});
