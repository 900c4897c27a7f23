// The failure alarms in the bot stack, built in process the way `cdk synth` builds it (cdk-nag included):
// each alarm's metric, threshold and actions, under the three ways of setting where they go.
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { ALARM_PERIOD, ALARM_THRESHOLD } from "../../cdk/lib/constructs/failure-alarms.ts";
import { buildAppInProcess } from "../../dev/cdk-app.ts";
import {
  documentStatements,
  functionNamed,
  type Json,
  only,
  type Resource,
  render,
  resources,
} from "../../dev/template-helpers.ts";

const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:ops-alarms";
const EMAIL = "cytoskel-ops@example.org";

function build(context: Record<string, unknown>) {
  const { built } = buildAppInProcess(context);
  if (!built.bot) throw new Error("no bot stack");
  const bot = Template.fromStack(built.bot).toJSON() as Json;
  const violations = [built.grants, built.bot].flatMap((stack) =>
    built.nag.validateScope(stack).violations.map((v) => `${stack.stackName}: ${v.ruleName}`),
  );
  return { bot, violations };
}

/** The alarms by the construct id they were made with (their logical IDs start with it). */
function alarms(bot: Json): Record<"provisioner" | "deadLetters" | "expiry", Resource> {
  const named = (id: string) => {
    const found = resources(bot, "AWS::CloudWatch::Alarm").filter((a) =>
      a.logicalId.startsWith(`FailureAlarms${id}`),
    );
    if (found.length !== 1) throw new Error(`expected one alarm ${id}, found ${found.length}`);
    return found[0] as Resource;
  };
  return {
    provisioner: named("ProvisionerErrors"),
    deadLetters: named("ProvisionerDeadLetters"),
    expiry: named("ExpiryErrors"),
  };
}

const FIRES_ON_THE_FIRST = {
  Threshold: ALARM_THRESHOLD,
  ComparisonOperator: "GreaterThanOrEqualToThreshold",
  EvaluationPeriods: 1,
  Period: ALARM_PERIOD.toSeconds(),
  TreatMissingData: "notBreaching",
};

describe("failure alarms", () => {
  const { bot, violations } = build({});
  const a = alarms(bot);

  it("watch the provisioner's and the expiry job's Lambda errors, each on its own function", () => {
    const provisioner = functionNamed(bot, "Provisioner").logicalId;
    const expiry = functionNamed(bot, "Expiry").logicalId;
    expect(resources(bot, "AWS::CloudWatch::Alarm")).toHaveLength(3);
    for (const [alarm, fn] of [
      [a.provisioner, provisioner],
      [a.expiry, expiry],
    ] as const) {
      expect(alarm.properties).toMatchObject({
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Statistic: "Sum",
        ...FIRES_ON_THE_FIRST,
      });
      expect(alarm.properties.Dimensions).toEqual([{ Name: "FunctionName", Value: { Ref: fn } }]);
    }
  });

  it("watch the depth of the provisioner trigger's dead-letter queue (the queue kept as ProvisionerDlq)", () => {
    const dlq = only(bot, "AWS::SQS::Queue").logicalId;
    expect(dlq).toBe("ProvisionerDlq8DA8DC37");
    expect(a.deadLetters.properties).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Statistic: "Maximum",
      ...FIRES_ON_THE_FIRST,
    });
    expect(a.deadLetters.properties.Dimensions).toEqual([
      { Name: "QueueName", Value: { "Fn::GetAtt": [dlq, "QueueName"] } },
    ]);
  });

  it("with neither alarmEmail nor alarmTopicArn: exist without actions, and no topic is made", () => {
    for (const alarm of Object.values(a)) expect(alarm.properties.AlarmActions).toBeUndefined();
    expect(resources(bot, "AWS::SNS::Topic")).toEqual([]);
    expect(violations).toEqual([]);
  });
});

describe("with alarmTopicArn", () => {
  const { bot, violations } = build({ alarmTopicArn: TOPIC_ARN });

  it("every alarm notifies that topic; the stack makes none of its own", () => {
    for (const alarm of Object.values(alarms(bot)))
      expect(alarm.properties.AlarmActions).toEqual([TOPIC_ARN]);
    expect(resources(bot, "AWS::SNS::Topic")).toEqual([]);
    expect(resources(bot, "AWS::SNS::Subscription")).toEqual([]);
    expect(violations).toEqual([]);
  });
});

describe("with alarmEmail", () => {
  const { bot, violations } = build({ alarmEmail: EMAIL });
  const topic = only(bot, "AWS::SNS::Topic");

  it("makes a topic with an email subscription, and every alarm notifies it", () => {
    expect(only(bot, "AWS::SNS::Subscription").properties).toEqual({
      Protocol: "email",
      Endpoint: EMAIL,
      TopicArn: { Ref: topic.logicalId },
    });
    for (const alarm of Object.values(alarms(bot)))
      expect(alarm.properties.AlarmActions).toEqual([{ Ref: topic.logicalId }]);
  });

  it("lets only this account's CloudWatch alarms publish, over TLS only, and passes cdk-nag", () => {
    const statements = documentStatements(only(bot, "AWS::SNS::TopicPolicy"), "PolicyDocument");
    const publish = statements.find((s) => s.Sid === "CloudWatchAlarmsOfThisAccount");
    expect(publish).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: { Ref: topic.logicalId },
    });
    expect(render(publish?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(
      "arn:<AWS::Partition>:cloudwatch:us-east-1:<AWS::AccountId>:alarm:*",
    );
    expect(publish?.Condition?.StringEquals).toEqual({ "aws:SourceAccount": { Ref: "AWS::AccountId" } });
    expect(statements.filter((s) => s.Effect === "Allow")).toHaveLength(1);
    expect(
      statements.some((s) => s.Effect === "Deny" && JSON.stringify(s).includes("aws:SecureTransport")),
    ).toBe(true);
    expect(violations).toEqual([]);
  });
});

describe("alarm settings", () => {
  it.each([
    [{ alarmEmail: "not-an-address" }, "alarmEmail", "one email address"],
    [{ alarmTopicArn: "ops-alarms" }, "alarmTopicArn", "an SNS topic ARN"],
    [
      { alarmTopicArn: "arn:aws:sns:eu-west-1:111122223333:ops" },
      "alarmTopicArn",
      "in the stacks' region (us-east-1)",
    ],
    [{ alarmTopicArn: TOPIC_ARN, alarmEmail: EMAIL }, "alarmTopicArn", "not both"],
  ])("refuse %j, naming the setting", (context, setting, hint) => {
    expect(() => buildAppInProcess(context)).toThrow(
      expect.objectContaining({ setting, message: expect.stringContaining(hint) }),
    );
  });
});
