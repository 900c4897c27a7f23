// The logical IDs of what holds state (or cannot be replaced in place) in the deployed stacks. A new
// logical ID makes CloudFormation create a new resource and delete the old one: the table and its
// audit trail (retained, so orphaned), the Slack secrets the operator filled in, the records parked in
// the dead-letter queue, the logs, the stream position, the bucket. Moving a resource into a construct
// must keep its ID (cdk/lib/logical-ids.ts, or the id "Default" for a construct's own resource).
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { stackLevelLogicalId } from "../../cdk/lib/logical-ids.ts";
import { buildAppInProcess } from "../../dev/cdk-app.ts";
import { synthesizedTemplates } from "../../dev/synthesized-policies.ts";
import { type Json, resources } from "../../dev/template-helpers.ts";

/** As deployed; never edit one of these to make a test pass. */
const BOT_STATEFUL: Record<string, string> = {
  TableCD117FA1: "AWS::DynamoDB::Table",
  SlackSigningSecret79196F0B: "AWS::SecretsManager::Secret",
  SlackBotTokenAD332752: "AWS::SecretsManager::Secret",
  ProvisionerDlq8DA8DC37: "AWS::SQS::Queue",
  ProvisionerFunctionDynamoDBEventSourceCytoskelBotTableF804FD487B74B4D3: "AWS::Lambda::EventSourceMapping",
  // Replacing the $default stage fails: the new one's name is taken until the old one is deleted.
  DefaultStageEE28A986: "AWS::ApiGatewayV2::Stage",
  ApiAccessLogsE9DF007D: "AWS::Logs::LogGroup",
  BotLogs115D0439: "AWS::Logs::LogGroup",
  ProvisionerLogs96F6E388: "AWS::Logs::LogGroup",
  SecretLinkLogs94FAF365: "AWS::Logs::LogGroup",
  ExpiryLogs377FB851: "AWS::Logs::LogGroup",
};

/** With createBucket=true (with false the bucket is imported and not in the template). */
const GRANTS_STATEFUL: Record<string, string> = {
  Bucket83908E77: "AWS::S3::Bucket",
  AccessLogsBucket83982689: "AWS::S3::Bucket",
  AccessGrantsInstance: "AWS::S3::AccessGrantsInstance",
  Location: "AWS::S3::AccessGrantsLocation",
  UploadersGroupF479205E: "AWS::IAM::Group",
};

const byType = (template: Json, types: Set<string>) =>
  Object.fromEntries(
    resources(template)
      .filter((r) => types.has(r.type))
      .map((r) => [r.logicalId, r.type]),
  );

describe("logical IDs of stateful resources", () => {
  let bot: Json;
  let grants: Json;

  beforeAll(async () => {
    bot = (await synthesizedTemplates()).bot;
    const { built } = buildAppInProcess({ createBucket: "true" }, { build: { grantsOnly: true } });
    grants = Template.fromStack(built.grants).toJSON() as Json;
  });

  it("stay as deployed in the bot stack", () => {
    expect(byType(bot, new Set(Object.values(BOT_STATEFUL)))).toEqual(BOT_STATEFUL);
  });

  it("stay as deployed in the grants stack", () => {
    expect(byType(grants, new Set(Object.values(GRANTS_STATEFUL)))).toEqual(GRANTS_STATEFUL);
  });

  it("are computed for a moved resource as CDK names a direct child of the stack", () => {
    expect(stackLevelLogicalId(["ProvisionerDlq", "Resource"])).toBe("ProvisionerDlq8DA8DC37");
    expect(stackLevelLogicalId(["ProvisionerDlq", "Policy", "Resource"])).toBe(
      "ProvisionerDlqPolicy471D01F6",
    );
    // "Default" is left out, as CDK leaves it out of the path.
    expect(stackLevelLogicalId(["Table", "Default", "Resource"])).toBe("TableCD117FA1");
  });
});
