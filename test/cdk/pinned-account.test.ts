// Both stacks pinned to an account (`cdk synth -c account=111122223333`, the documented `account`
// setting), in process with Lambda bundling skipped (quick): cdk-nag finding IDs then carry the literal
// account, and every acknowledgement must still match its finding or the synth fails.
import type { App } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import type { CytoskelApp } from "../../cdk/lib/app.ts";
import { buildAppInProcess } from "../../dev/cdk-app.ts";
import { type Json, resources } from "../../dev/template-helpers.ts";

const ACCOUNT = "111122223333";

let app: App;
let built: CytoskelApp;

beforeAll(() => {
  // As `cdk synth -c account=… -c region=…` builds it: cdk.json's context under those two settings.
  ({ app, built } = buildAppInProcess({ account: ACCOUNT, region: "eu-west-1" }));
});

describe("stacks pinned to an account and region", () => {
  it("synthesize with no unacknowledged cdk-nag finding", () => {
    expect(built.bot).toBeDefined();
    for (const stack of [built.grants, built.bot ?? built.grants]) {
      expect(stack.account).toBe(ACCOUNT);
      const report = built.nag.validateScope(stack);
      expect(
        report.violations.map((v) => v.ruleName),
        stack.stackName,
      ).toEqual([]);
    }
    const assembly = app.synth();
    expect(assembly.stacks.map((s) => s.environment.account)).toEqual([ACCOUNT, ACCOUNT]);
  });

  it("acknowledge the wildcard findings by the ARNs as they appear, with the literal account and region", () => {
    const template = app.synth().getStackByName(built.bot?.stackName ?? "").template as Json;
    const ids = resources(template).flatMap((r) => {
      const nag = (r.raw.Metadata as Json | undefined)?.cdk_nag as
        | { rules_to_suppress?: Array<{ id: string }> }
        | undefined;
      return (nag?.rules_to_suppress ?? []).map((rule) => rule.id);
    });
    expect(ids).toContain(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${ACCOUNT}:user/cytoskel/*]`,
    );
    expect(ids).toContain(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:eu-west-1:${ACCOUNT}:access-grants/default/grant/*]`,
    );
    expect(ids.join("\n")).not.toContain("<AWS::AccountId>");
  });
});
