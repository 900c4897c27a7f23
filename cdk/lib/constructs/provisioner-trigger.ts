// The table's stream into the provisioner: the state change is the queue. Lambda filters the records
// by the states the handler acts on (src/provisioner/trigger-states.ts), retries, halves failing
// batches, and parks what still fails in an SQS dead-letter queue.
import { Duration, Validations } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as eventSources from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import {
  DENY_NOTICE_TRANSITION,
  PROVISION_TRIGGER_STATUSES,
  QUEUED_JOB_STATE,
  REDRIVE_ATTRIBUTE,
} from "../../../src/provisioner/trigger-states.ts";
import { keepStackLevelLogicalIds } from "../logical-ids.ts";

/** Stream trigger failure handling: retried this often, halving the batch, then parked in the DLQ. */
export const STREAM_RETRY_ATTEMPTS = 5;
export const STREAM_MAX_RECORD_AGE = Duration.hours(6);

export interface ProvisionerTriggerProps {
  /** The table whose stream (NEW_AND_OLD_IMAGES) carries the state changes. */
  readonly table: dynamodb.ITable;
  readonly provisioner: lambda.Function;
}

/**
 * Only transitions INTO a trigger state, PENDING -> DENIED, and new admin jobs: progress writes
 * (APPROVED -> APPROVED), job claims, and every other item (audit, locks, secrets) never invoke the
 * provisioner. Filters are OR'ed (Lambda allows 5 per mapping by default: these are 5).
 */
export function provisionerStreamFilters(): Array<Record<string, unknown>> {
  const triggers = lambda.FilterRule.or(...PROVISION_TRIGGER_STATUSES);
  return [
    lambda.FilterCriteria.filter({
      eventName: lambda.FilterRule.isEqual("INSERT"),
      dynamodb: { NewImage: { status: { S: triggers } } },
    }),
    lambda.FilterCriteria.filter({
      eventName: lambda.FilterRule.isEqual("MODIFY"),
      dynamodb: {
        NewImage: { status: { S: triggers } },
        OldImage: { status: { S: [{ "anything-but": [...PROVISION_TRIGGER_STATUSES] }] } },
      },
    }),
    lambda.FilterCriteria.filter({
      eventName: lambda.FilterRule.isEqual("MODIFY"),
      dynamodb: {
        NewImage: { status: { S: lambda.FilterRule.isEqual(DENY_NOTICE_TRANSITION.to) } },
        OldImage: { status: { S: lambda.FilterRule.isEqual(DENY_NOTICE_TRANSITION.from) } },
      },
    }),
    // Only job items carry jobState; claims and finishes are MODIFYs and stay out.
    lambda.FilterCriteria.filter({
      eventName: lambda.FilterRule.isEqual("INSERT"),
      dynamodb: { NewImage: { jobState: { S: lambda.FilterRule.isEqual(QUEUED_JOB_STATE) } } },
    }),
    // The reconciler's redrive of a stuck request or job. A filter cannot compare the two images, so the
    // later writes of a redriven item pass too; the handler acts only on a changed redriveAt (isRedrive).
    lambda.FilterCriteria.filter({
      eventName: lambda.FilterRule.isEqual("MODIFY"),
      dynamodb: { NewImage: { [REDRIVE_ATTRIBUTE]: { S: lambda.FilterRule.exists() } } },
    }),
  ];
}

export class ProvisionerTrigger extends Construct {
  /** Stream records the provisioner gave up on. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ProvisionerTriggerProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // It was the stack's ProvisionerDlq: a new logical ID would delete the queue with the records in it.
    keepStackLevelLogicalIds(this.deadLetterQueue, "ProvisionerDlq");
    Validations.of(this.deadLetterQueue.node.defaultChild ?? this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the dead-letter destination of the provisioner's stream trigger.",
    });

    // The mapping is the function's child (Lambda's API), so its logical ID follows the function's path.
    props.provisioner.addEventSource(
      new eventSources.DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        maxRecordAge: STREAM_MAX_RECORD_AGE,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new eventSources.SqsDlq(this.deadLetterQueue),
        filters: provisionerStreamFilters(),
      }),
    );
  }
}
