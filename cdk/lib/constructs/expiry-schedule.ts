// The schedule that runs the expiry / reminder job.
import type { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as eventsTargets from "aws-cdk-lib/aws-events-targets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";

export interface ExpiryScheduleProps {
  readonly job: lambda.IFunction;
  readonly every: Duration;
}

/** The rule is this construct's default child, so it keeps the logical ID it had as the stack's `ExpirySchedule`. */
export class ExpirySchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ExpiryScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, "Default", {
      description: "Runs the cytoskel expiry/reminder job",
      schedule: events.Schedule.rate(props.every),
      // A failed run is simply redone by the next one (the job is idempotent).
      targets: [new eventsTargets.LambdaFunction(props.job, { retryAttempts: 2 })],
    });
  }
}
