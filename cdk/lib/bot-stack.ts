// The bot in AWS, composed of its parts (cdk/lib/constructs/): the request table, the Slack secrets,
// the public API, the four functions with one role each, the stream trigger that provisions approved
// requests, the schedule that expires them, and the alarms on what fails out of Slack's sight. Every
// part keeps the logical IDs it had when this constructor built it all itself (test/cdk/logical-ids.test.ts).
import { Annotations, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { createBotFunctions, type FunctionEntries, type FunctionName } from "./bot-functions.ts";
import { type CytoskelDeployConfig, missingBotSettings } from "./config.ts";
import type { CytoskelFunction } from "./constructs/cytoskel-function.ts";
import { ExpirySchedule } from "./constructs/expiry-schedule.ts";
import { FailureAlarms } from "./constructs/failure-alarms.ts";
import { ProvisionerTrigger } from "./constructs/provisioner-trigger.ts";
import { PublicApi } from "./constructs/public-api.ts";
import { RequestTable, TABLE_READ, TABLE_WRITE } from "./constructs/request-table.ts";
import { BOT_TOKEN_DESCRIPTION, SIGNING_SECRET_DESCRIPTION, SlackSecret } from "./constructs/slack-secret.ts";
import { functionEnvironments } from "./function-environments.ts";
import type { GrantsOutputs } from "./grants-stack.ts";
import { EXPIRY_IDENTITY_WORK, grantIdentityWork, PROVISIONER_IDENTITY_WORK } from "./identity-work.ts";

export interface BotStackProps extends StackProps {
  readonly config: CytoskelDeployConfig;
  readonly grants: GrantsOutputs;
  readonly entries: FunctionEntries;
  readonly projectRoot: string;
}

export class BotStack extends Stack {
  readonly table: RequestTable;
  readonly signingSecret: SlackSecret;
  readonly botToken: SlackSecret;
  readonly api: PublicApi;
  readonly functions: Record<FunctionName, CytoskelFunction>;
  readonly trigger: ProvisionerTrigger;
  readonly expirySchedule: ExpirySchedule;
  readonly alarms: FailureAlarms;

  constructor(scope: Construct, id: string, props: BotStackProps) {
    super(scope, id, props);
    const { config, grants } = props;
    const missing = missingBotSettings(config);
    if (missing.length > 0) {
      Annotations.of(this).addWarningV2(
        "cytoskel:bot-settings-missing",
        `The bot will refuse to start until these are set (cdk.json context or -c key=value), then redeploy: ${missing.join(", ")}`,
      );
    }

    // Construct ids are the ones these resources had as the stack's direct children: keep them.
    this.table = new RequestTable(this, "Table");
    this.signingSecret = new SlackSecret(this, "SlackSigningSecret", {
      existingArn: config.slackSigningSecretArn,
      description: SIGNING_SECRET_DESCRIPTION,
    });
    this.botToken = new SlackSecret(this, "SlackBotToken", {
      existingArn: config.slackBotTokenArn,
      description: BOT_TOKEN_DESCRIPTION,
    });
    // Before the functions: they put its URL in the links they send.
    this.api = new PublicApi(this, "Api", { logRetentionDays: config.logRetentionDays });

    this.functions = createBotFunctions(this, {
      entries: props.entries,
      projectRoot: props.projectRoot,
      logRetentionDays: config.logRetentionDays,
      environments: functionEnvironments({
        config,
        grants,
        account: this.account,
        tableName: this.table.tableName,
        signingSecretArn: this.signingSecret.secretArn,
        botTokenArn: this.botToken.secretArn,
        secretLinkBaseUrl: this.api.secretLinkBaseUrl,
      }),
    });
    const { bot, provisioner, secretLink, expiry } = this.functions;

    // --- permissions: each function gets what it calls, nothing else ---
    // The bot only files and transitions (PutItem / UpdateItem in transactions); it never deletes.
    this.table.grantItems(bot, [...TABLE_READ, "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    // Admins read the audit trail in Slack (`/cytoskel audit`); no other function reads it.
    this.table.grantReadAudit(bot);
    this.table.grantItems(provisioner, [...TABLE_READ, ...TABLE_WRITE]);
    this.table.grantConsumeSecretsAndAppendAudit(secretLink);
    this.table.grantItems(expiry, [...TABLE_READ, ...TABLE_WRITE]);
    this.signingSecret.grantGetValue(bot, "ReadSlackSigningSecret");
    for (const f of [bot, provisioner, secretLink, expiry])
      this.botToken.grantGetValue(f, "ReadSlackBotToken");
    const identityTarget = { iamUserPath: config.iamUserPath, bucketName: config.bucketName, grants };
    grantIdentityWork(provisioner.role, PROVISIONER_IDENTITY_WORK, identityTarget);
    grantIdentityWork(expiry.role, EXPIRY_IDENTITY_WORK, identityTarget);

    this.api.serveSlack(bot.fn);
    this.api.serveSecretLinks(secretLink.fn);
    this.trigger = new ProvisionerTrigger(this, "ProvisionerTrigger", {
      table: this.table.table,
      provisioner: provisioner.fn,
    });
    this.expirySchedule = new ExpirySchedule(this, "ExpirySchedule", {
      job: expiry.fn,
      every: Duration.minutes(config.expiryScheduleMinutes),
    });

    this.alarms = new FailureAlarms(this, "FailureAlarms", {
      provisioner: provisioner.fn,
      expiry: expiry.fn,
      deadLetterQueue: this.trigger.deadLetterQueue,
      alarmEmail: config.alarmEmail,
      alarmTopicArn: config.alarmTopicArn,
    });

    new CfnOutput(this, "SlackRequestUrl", {
      value: this.api.slackRequestUrl,
      description:
        "Slash command, interactivity and event request URL (npm run manifest writes it into manifest.json)",
    });
    new CfnOutput(this, "SecretLinkBaseUrl", {
      value: this.api.secretLinkBaseUrl,
      description: "Base of the one-time secret links (<base>/s/<id>#<key>)",
    });
    new CfnOutput(this, "SlackSigningSecretArn", {
      value: this.signingSecret.secretArn,
      description: "Put the Slack signing secret here",
    });
    new CfnOutput(this, "SlackBotTokenArn", {
      value: this.botToken.secretArn,
      description: "Put the xoxb- bot token here",
    });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "ProvisionerDlqUrl", {
      value: this.trigger.deadLetterQueue.queueUrl,
      description: "Stream records the provisioner gave up on",
    });
  }
}
