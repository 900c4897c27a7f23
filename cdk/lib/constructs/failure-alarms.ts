// CloudWatch alarms for the failures no Slack message can report: the provisioner's function errors,
// stream records parked in its dead-letter queue, and the expiry job's function errors (it fails its
// invocation when it could not run through or could not post its own failures to Slack). Their actions
// go to an SNS topic: one the stack creates with an email subscription (`alarmEmail`), the operator's
// own (`alarmTopicArn`), or none (the alarms still show in the CloudWatch console).
import { Duration, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Every alarm looks at 5-minute windows and fires on the first failure in one. */
export const ALARM_PERIOD = Duration.minutes(5);
export const ALARM_THRESHOLD = 1;

export interface FailureAlarmsProps {
  readonly provisioner: lambda.IFunction;
  readonly expiry: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alarmEmail: string | undefined;
  readonly alarmTopicArn: string | undefined;
}

export class FailureAlarms extends Construct {
  /** Where the alarms notify; undefined when neither setting is given. */
  readonly topic: sns.ITopic | undefined;
  readonly provisionerErrors: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly expiryErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FailureAlarmsProps) {
    super(scope, id);
    this.topic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, "Topic", props.alarmTopicArn)
      : props.alarmEmail
        ? emailTopic(this, props.alarmEmail)
        : undefined;

    const errors = (fn: lambda.IFunction) => fn.metricErrors({ period: ALARM_PERIOD, statistic: "Sum" });
    this.provisionerErrors = this.alarm("ProvisionerErrors", errors(props.provisioner), {
      description:
        "The cytoskel provisioner's invocations failed (not a request marked FAILED: those reach Slack). Its log group has the error.",
    });
    this.deadLetters = this.alarm(
      "ProvisionerDeadLetters",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: "Maximum",
      }),
      {
        description:
          "Stream records the cytoskel provisioner gave up on wait in its dead-letter queue (ProvisionerDlqUrl): an approval, job or denial nobody acted on.",
      },
    );
    this.expiryErrors = this.alarm("ExpiryErrors", errors(props.expiry), {
      description:
        "The cytoskel expiry job failed a run: it could not run through, or could not post its failures to the admin channel. Its log group has the error.",
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, opts: { description: string }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: opts.description,
      threshold: ALARM_THRESHOLD,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No invocations (or an empty queue's gaps) is no failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    return alarm;
  }
}

/** A topic for the operator's address, TLS-only, that only this account's CloudWatch alarms may publish to. */
function emailTopic(scope: Construct, email: string): sns.Topic {
  const topic = new sns.Topic(scope, "Topic", {
    displayName: "cytoskel alarms",
    enforceSSL: true,
  });
  topic.addSubscription(new subscriptions.EmailSubscription(email));
  // The stack's topic policy replaces SNS's default one, so CloudWatch must be allowed by name.
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsOfThisAccount",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: {
        ArnLike: {
          "aws:SourceArn": `arn:${topic.stack.partition}:cloudwatch:${topic.stack.region}:${topic.stack.account}:alarm:*`,
        },
        StringEquals: { "aws:SourceAccount": topic.stack.account },
      },
    }),
  );
  Validations.of(topic.node.defaultChild ?? topic).acknowledge({
    id: "AwsSolutions-SNS2",
    reason:
      "Alarm notifications carry no secret (alarm name, metric, state). CloudWatch cannot publish to a topic encrypted with the AWS managed key (alias/aws/sns), and a customer key for alarm metadata protects nothing.",
  });
  return topic;
}
