// The bot in AWS: the request table (from the store's single definition), the Slack secrets, the four
// functions with one role each, the HTTPS endpoint, the stream trigger that provisions approved requests
// and the schedule that expires them.
import {
  Annotations,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as eventsTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as eventSources from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { auditPartition, requestKey, secretKey } from "../../src/store/keys.ts";
import { TABLE_SCHEMA } from "../../src/store/table.ts";
import { type CytoskelDeployConfig, missingBotSettings } from "./config.ts";
import { CytoskelFunction } from "./functions.ts";
import { joinUrl, ROBOTS_TXT_PATH, SECRET_LINK_ROUTE, SLACK_EVENTS_PATH, SLASH_COMMAND } from "./routes.ts";

/** Absolute paths of the Lambda entry files (each exports `handler`). */
export interface FunctionEntries {
  readonly bot: string;
  readonly provisioner: string;
  readonly secretLink: string;
  readonly expiry: string;
}

/** What the bot stack needs from the grants stack (cross-stack references). */
export interface GrantsOutputs {
  readonly bucketName: string;
  readonly instanceArn: string;
  readonly locationId: string;
  readonly uploadersGroup: iam.IGroup;
}

export interface BotStackProps extends StackProps {
  readonly config: CytoskelDeployConfig;
  readonly grants: GrantsOutputs;
  readonly entries: FunctionEntries;
  readonly projectRoot: string;
}

/** Request states whose stream records start the provisioner (everything else is filtered out by Lambda). */
export const PROVISIONER_TRIGGER_STATUSES = ["APPROVED"] as const;
/** A denial DMs the requester from the provisioner (src/provisioner/handler.ts deniedRequest). */
export const PROVISIONER_DENY_TRANSITION = { from: "PENDING", to: "DENIED" } as const;
/** Admin jobs (revoke / re-issue) are queued by the bot as items in this state (src/store/jobs.ts). */
export const PROVISIONER_JOB_QUEUED_STATE = "QUEUED";

/** Stream trigger failure handling: retried this often, halving the batch, then parked in the DLQ. */
export const STREAM_RETRY_ATTEMPTS = 5;
export const STREAM_MAX_RECORD_AGE = Duration.hours(6);

/** The s3:AccessGrantScope pattern every grant the functions create must match. */
export function grantScopeInBucket(bucketName: string): string {
  return `s3://${bucketName}/*`;
}

/** Finding a cytoskel user and deleting it completely (src/aws/iam-users.ts listUsers, deleteUserCompletely). */
const USER_TEARDOWN_ACTIONS = [
  // Only on users known to exist (after CreateUser's EntityAlreadyExists, before a deletion): on a
  // missing user AWS judges GetUser on user/NAME, outside this path, and answers AccessDenied.
  "iam:GetUser",
  "iam:ListGroupsForUser",
  "iam:ListAccessKeys",
  "iam:DeleteAccessKey",
  "iam:ListUserPolicies",
  "iam:DeleteUserPolicy",
  "iam:ListAttachedUserPolicies",
  "iam:DetachUserPolicy",
  "iam:ListMFADevices",
  "iam:DeactivateMFADevice",
  "iam:ListSigningCertificates",
  "iam:DeleteSigningCertificate",
  "iam:ListSSHPublicKeys",
  "iam:DeleteSSHPublicKey",
  "iam:DeleteLoginProfile",
  "iam:DeleteUser",
];

// The store writes with TransactWriteItems. IAM has no action for the transaction itself: each item in it
// is authorized as its own PutItem / UpdateItem / DeleteItem (dynamodb:ConditionCheckItem only for a
// ConditionCheck, which the store does not use), so these lists cover it. No batch calls.
const TABLE_READ = ["dynamodb:GetItem", "dynamodb:Query"];
const TABLE_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];

export class BotStack extends Stack {
  readonly table: dynamodb.Table;
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly slackRequestUrl: string;
  readonly secretLinkBaseUrl: string;
  readonly functions: Record<keyof FunctionEntries, CytoskelFunction>;
  readonly streamDlq: sqs.Queue;

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

    this.table = this.createTable();
    const signingSecret = this.slackSecret(
      "SlackSigningSecret",
      config.slackSigningSecretArn,
      "Slack signing secret of the cytoskel app (Basic Information > App Credentials). Replace this generated value: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <signing secret>",
    );
    const botToken = this.slackSecret(
      "SlackBotToken",
      config.slackBotTokenArn,
      "Slack bot token (xoxb-...) of the cytoskel app (OAuth & Permissions). Replace this generated value: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <xoxb-token>",
    );

    // The API is built before the functions that put its URL in the links they send. A function's URL
    // names only the API (not its routes), so the bot can both serve a route and know the URL.
    this.api = new apigwv2.HttpApi(this, "Api", {
      description: "cytoskel: Slack requests and one-time secret links",
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, "ApiAccessLogs", {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      // Modest limits: a team's Slack traffic is a few requests a minute; this caps abuse and cost.
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // The route key, never the raw path: a secret link's id stays out of the logs.
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            time: "$context.requestTime",
            ip: "$context.identity.sourceIp",
            route: "$context.routeKey",
            status: "$context.status",
            latencyMs: "$context.integrationLatency",
            error: "$context.integrationErrorMessage",
          }),
        ),
      },
    });
    const baseUrl = this.stage.url;
    this.slackRequestUrl = joinUrl(baseUrl, SLACK_EVENTS_PATH);
    this.secretLinkBaseUrl = joinUrl(baseUrl, "");

    // Unset settings are left out rather than set empty, so the loaders report them as missing.
    const common = {
      TABLE_NAME: this.table.tableName,
      SLACK_BOT_TOKEN_ARN: botToken.secretArn,
      ...(config.adminChannelId ? { ADMIN_CHANNEL_ID: config.adminChannelId } : {}),
    };
    // What src/service/runtime.ts reads (provisioner, including queued revoke / re-issue, and expiry job).
    const aws = {
      AWS_ACCOUNT_ID: this.account,
      BUCKET: grants.bucketName,
      ACCESS_GRANTS_LOCATION_ID: grants.locationId,
      UPLOADERS_GROUP: grants.uploadersGroup.groupName,
      IAM_PATH: config.iamUserPath,
      SECRET_LINK_BASE_URL: this.secretLinkBaseUrl,
      SECRET_LINK_TTL_HOURS: String(config.secretLinkTtlHours),
    };
    const fnDefaults = { projectRoot: props.projectRoot, logRetentionDays: config.logRetentionDays };

    const bot = new CytoskelFunction(this, "Bot", {
      ...fnDefaults,
      entry: props.entries.bot,
      description: "Slack commands and buttons: validates, records state, answers within Slack's 3 s",
      // More memory is more CPU: the cold start counts against Slack's 3 seconds.
      memorySize: 1024,
      // DynamoDB + one Slack call per event (revoke / re-issue are queued for the provisioner).
      timeout: Duration.seconds(10),
      environment: {
        ...common,
        SLACK_SIGNING_SECRET_ARN: signingSecret.secretArn,
        ...(config.adminUserIds.length > 0 ? { ADMIN_USER_IDS: config.adminUserIds.join(",") } : {}),
        ...(config.adminUserGroupId ? { ADMIN_USERGROUP_ID: config.adminUserGroupId } : {}),
        ALLOW_SELF_APPROVAL: String(config.allowSelfApproval),
        DEFAULT_DURATION_DAYS: String(config.defaultGrantDays),
        MAX_DURATION_DAYS: String(config.maxGrantDays),
        SLACK_COMMAND: SLASH_COMMAND,
        // Shown in messages and accepted in `s3://<bucket>/…` prefixes; the AWS work is the provisioner's.
        BUCKET: grants.bucketName,
        ...(config.slackBotId ? { SLACK_BOT_ID: config.slackBotId } : {}),
        ...(config.slackBotUserId ? { SLACK_BOT_USER_ID: config.slackBotUserId } : {}),
      },
    });
    const provisioner = new CytoskelFunction(this, "Provisioner", {
      ...fnDefaults,
      entry: props.entries.provisioner,
      description:
        "From the table stream: provisions approved requests, runs admins' revoke / re-issue, tells denied requesters",
      memorySize: 512,
      timeout: Duration.minutes(2),
      environment: { ...common, ...aws },
    });
    const secretLink = new CytoskelFunction(this, "SecretLink", {
      ...fnDefaults,
      entry: props.entries.secretLink,
      description: "One-time secret link: GET shows the page, POST consumes the ciphertext once",
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: { ...common },
    });
    const expiry = new CytoskelFunction(this, "Expiry", {
      ...fnDefaults,
      entry: props.entries.expiry,
      description: "Scheduled: revokes expired grants, reminds before expiry, expires stale requests",
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: { ...common, ...aws },
    });
    this.functions = { bot, provisioner, secretLink, expiry };

    // --- permissions: each function gets what it calls, nothing else ---
    // The bot only files and transitions (PutItem / UpdateItem in transactions); it never deletes.
    this.allowTable(bot, [...TABLE_READ, "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    this.allowTable(provisioner, [...TABLE_READ, ...TABLE_WRITE]);
    this.allowSecretLinkTable(secretLink);
    this.allowTable(expiry, [...TABLE_READ, ...TABLE_WRITE]);
    // GetSecretValue only: grantRead would add DescribeSecret, which nothing calls.
    this.allowSecretRead(bot, "ReadSlackSigningSecret", signingSecret);
    for (const f of [bot, provisioner, secretLink, expiry])
      this.allowSecretRead(f, "ReadSlackBotToken", botToken);
    this.allowIdentityWork(provisioner, ["user", "accessKey"], config, grants);
    this.allowIdentityWork(expiry, [], config, grants);

    // --- HTTPS routes ---
    const slackRoutes = this.api.addRoutes({
      path: SLACK_EVENTS_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration("BotIntegration", bot.fn),
    });
    // One integration for every secret-link route (src/secret-link/handler.ts serves them all): HEAD is
    // what link checkers send, and without the robots.txt route API Gateway answers crawlers with its
    // own 404 instead of the function's `Disallow: /`.
    const secretLinkIntegration = new HttpLambdaIntegration("SecretLinkIntegration", secretLink.fn);
    const linkRoutes = this.api.addRoutes({
      path: SECRET_LINK_ROUTE,
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.HEAD, apigwv2.HttpMethod.POST],
      integration: secretLinkIntegration,
    });
    const robotsRoutes = this.api.addRoutes({
      path: ROBOTS_TXT_PATH,
      methods: [apigwv2.HttpMethod.GET],
      integration: secretLinkIntegration,
    });
    for (const route of slackRoutes) {
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "Slack cannot present AWS or OAuth credentials; every request is authenticated in the function by Slack's HMAC-SHA256 request signature (signing secret) with a 5-minute timestamp window, which an API Gateway authorizer cannot check because it needs the raw body.",
      });
    }
    for (const route of linkRoutes) {
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "One-time secret link, public by design: holding the unguessable link id (128+ random bits) is the authorization, the decryption key stays in the URL fragment and never reaches the server, and POST consumes the ciphertext exactly once.",
      });
    }
    for (const route of robotsRoutes) {
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "robots.txt must be readable by any crawler without credentials; it is a fixed `Disallow: /` answered by the secret-link function, which reads and changes nothing for this path.",
      });
    }

    // --- stream trigger: the state change is the queue ---
    this.streamDlq = new sqs.Queue(this, "ProvisionerDlq", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    provisioner.fn.addEventSource(
      new eventSources.DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        maxRecordAge: STREAM_MAX_RECORD_AGE,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new eventSources.SqsDlq(this.streamDlq),
        // Only transitions INTO a trigger state, PENDING -> DENIED, and new admin jobs: progress writes
        // (APPROVED -> APPROVED), job claims, and every other item (audit, locks, secrets) never invoke
        // the provisioner. Filters are OR'ed (Lambda allows 5 per mapping by default).
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual("INSERT"),
            dynamodb: { NewImage: { status: { S: lambda.FilterRule.or(...PROVISIONER_TRIGGER_STATUSES) } } },
          }),
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual("MODIFY"),
            dynamodb: {
              NewImage: { status: { S: lambda.FilterRule.or(...PROVISIONER_TRIGGER_STATUSES) } },
              OldImage: { status: { S: [{ "anything-but": [...PROVISIONER_TRIGGER_STATUSES] }] } },
            },
          }),
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual("MODIFY"),
            dynamodb: {
              NewImage: { status: { S: lambda.FilterRule.isEqual(PROVISIONER_DENY_TRANSITION.to) } },
              OldImage: { status: { S: lambda.FilterRule.isEqual(PROVISIONER_DENY_TRANSITION.from) } },
            },
          }),
          // Only job items carry jobState; claims and finishes are MODIFYs and stay out.
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual("INSERT"),
            dynamodb: {
              NewImage: { jobState: { S: lambda.FilterRule.isEqual(PROVISIONER_JOB_QUEUED_STATE) } },
            },
          }),
        ],
      }),
    );

    // --- schedule ---
    new events.Rule(this, "ExpirySchedule", {
      description: "Runs the cytoskel expiry/reminder job",
      schedule: events.Schedule.rate(Duration.minutes(config.expiryScheduleMinutes)),
      // A failed run is simply redone by the next one (the job is idempotent).
      targets: [new eventsTargets.LambdaFunction(expiry.fn, { retryAttempts: 2 })],
    });

    this.acknowledgeFindings(config);

    new CfnOutput(this, "SlackRequestUrl", {
      value: this.slackRequestUrl,
      description:
        "Slash command, interactivity and event request URL (npm run manifest writes it into manifest.json)",
    });
    new CfnOutput(this, "SecretLinkBaseUrl", {
      value: this.secretLinkBaseUrl,
      description: "Base of the one-time secret links (<base>/s/<id>#<key>)",
    });
    new CfnOutput(this, "SlackSigningSecretArn", {
      value: signingSecret.secretArn,
      description: "Put the Slack signing secret here",
    });
    new CfnOutput(this, "SlackBotTokenArn", {
      value: botToken.secretArn,
      description: "Put the xoxb- bot token here",
    });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "ProvisionerDlqUrl", {
      value: this.streamDlq.queueUrl,
      description: "Stream records the provisioner gave up on",
    });
  }

  private createTable(): dynamodb.Table {
    const attr = (a: { name: string; type: "S" | "N" }): dynamodb.Attribute => ({
      name: a.name,
      type: a.type === "S" ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
    });
    const table = new dynamodb.Table(this, "Table", {
      partitionKey: attr(TABLE_SCHEMA.partitionKey),
      sortKey: attr(TABLE_SCHEMA.sortKey),
      billingMode:
        TABLE_SCHEMA.billingMode === "PAY_PER_REQUEST"
          ? dynamodb.BillingMode.PAY_PER_REQUEST
          : dynamodb.BillingMode.PROVISIONED,
      timeToLiveAttribute: TABLE_SCHEMA.timeToLiveAttribute,
      stream: dynamodb.StreamViewType[TABLE_SCHEMA.streamViewType],
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Requests and the audit trail outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const gsi of TABLE_SCHEMA.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: attr(gsi.partitionKey),
        sortKey: attr(gsi.sortKey),
        projectionType: dynamodb.ProjectionType[gsi.projectionType],
      });
    }
    return table;
  }

  private slackSecret(id: string, arn: string | undefined, description: string): secretsmanager.ISecret {
    if (arn) {
      // A complete ARN ends in the 6-character suffix Secrets Manager adds; a partial one does not.
      return /-[A-Za-z0-9]{6}$/.test(arn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, id, arn)
        : secretsmanager.Secret.fromSecretPartialArn(this, id, arn);
    }
    // Created with a random value (never a real credential in the template); the operator replaces it.
    const secret = new secretsmanager.Secret(this, id, { description });
    Validations.of(secret.node.defaultChild ?? secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Slack issues these credentials; they are rotated in Slack's app settings and then written here, so a Secrets Manager rotation Lambda cannot rotate them.",
    });
    return secret;
  }

  private allowSecretRead(f: CytoskelFunction, sid: string, secret: secretsmanager.ISecret): void {
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ["secretsmanager:GetSecretValue"],
        resources: [secret.secretArn],
      }),
    );
  }

  /** Table items and the named indexes only (no wildcard). */
  private allowTable(f: CytoskelFunction, actions: string[]): void {
    const indexArns = TABLE_SCHEMA.globalSecondaryIndexes.map(
      (gsi) => `${this.table.tableArn}/index/${gsi.indexName}`,
    );
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "RequestTable",
        actions,
        resources: [this.table.tableArn, ...indexArns],
      }),
    );
  }

  /**
   * The internet-facing secret-link function: read and consume one-time secrets, append audit events
   * (which never overwrite: the store writes them with attribute_not_exists). Key prefixes come from
   * the store's key builders, so they cannot drift from what it writes.
   */
  private allowSecretLinkTable(f: CytoskelFunction): void {
    const prefix = (pk: string) => `${pk}*`;
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ConsumeSecretsOnly",
        actions: ["dynamodb:GetItem", "dynamodb:DeleteItem"],
        resources: [this.table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [prefix(secretKey("").pk)] } },
      }),
    );
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "AppendAuditEvents",
        actions: ["dynamodb:PutItem"],
        resources: [this.table.tableArn],
        conditions: {
          "ForAllValues:StringLike": {
            "dynamodb:LeadingKeys": [prefix(requestKey("").pk), prefix(auditPartition(undefined, ""))],
          },
        },
      }),
    );
  }

  /**
   * IAM users under the cytoskel path, the uploaders group, and grants in this Access Grants instance.
   * Every identity role may take access apart and re-grant what stays (revoke and expiry re-create a
   * narrower grant for requests that remain); only the provisioner creates users, puts them in the
   * group and creates access keys (also for an admin's queued re-issue). The bot holds none of this.
   */
  private allowIdentityWork(
    f: CytoskelFunction,
    creates: readonly ("user" | "accessKey")[],
    config: CytoskelDeployConfig,
    grants: GrantsOutputs,
  ): void {
    const usersArn = this.formatArn({
      service: "iam",
      region: "",
      resource: "user",
      resourceName: `${config.iamUserPath.replace(/^\/|\/$/g, "")}/*`,
    });
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "CytoskelUsersOnly",
        actions: [
          ...(creates.includes("user") ? ["iam:CreateUser", "iam:TagUser"] : []),
          ...(creates.includes("accessKey") ? ["iam:CreateAccessKey"] : []),
          ...USER_TEARDOWN_ACTIONS,
        ],
        resources: [usersArn],
      }),
    );
    // ListUsers(PathPrefix=/cytoskel/) decides whether a person's user exists (src/aws/iam-users.ts
    // findUser). The Service Authorization Reference lists no resource type for it (it cannot be scoped to
    // a path: field reports agree), so it is granted on "*" alone; it reads names, nothing else.
    f.role.addToPolicy(
      new iam.PolicyStatement({ sid: "ListUsersAccountWide", actions: ["iam:ListUsers"], resources: ["*"] }),
    );
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "UploadersGroupMembership",
        actions: [...(creates.includes("user") ? ["iam:AddUserToGroup"] : []), "iam:RemoveUserFromGroup"],
        resources: [grants.uploadersGroup.groupArn],
      }),
    );
    const grantsArn = `${grants.instanceArn}/grant/*`;
    // The location is named by ACCESS_GRANTS_LOCATION_ID, so no location is ever listed or read.
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "GrantsInThisInstance",
        actions: ["s3:ListAccessGrants"],
        resources: [grants.instanceArn],
      }),
    );
    // CreateAccessGrant's only resource type is the grant (…/grant/<id>, Service Authorization
    // Reference); the instance and location ARNs are never matched for it. The scope condition keeps
    // new grants inside the bucket this stack serves. How AWS fills s3:AccessGrantScope for
    // CreateAccessGrant (location scope + sub-prefix, e.g. s3://<bucket>/cpg0042/*) is not
    // confirmed offline: check the first grant after a deploy.
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "NewGrantsInTheBucket",
        actions: ["s3:CreateAccessGrant"],
        resources: [grantsArn],
        conditions: { StringLike: { "s3:AccessGrantScope": grantScopeInBucket(config.bucketName) } },
      }),
    );
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ExistingGrantsInThisInstance",
        // GetAccessGrant: only the provisioner re-reads a grant it recorded before a crash.
        actions: [...(creates.includes("user") ? ["s3:GetAccessGrant"] : []), "s3:DeleteAccessGrant"],
        resources: [grantsArn],
      }),
    );
  }

  private acknowledgeFindings(config: CytoskelDeployConfig): void {
    Validations.of(this.streamDlq.node.defaultChild ?? this.streamDlq).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the dead-letter destination of the provisioner's stream trigger.",
    });
    const usersPath = config.iamUserPath.replace(/^\/|\/$/g, "");
    // cdk-nag spells an account-agnostic stack's account as <AWS::AccountId>, but a pinned one
    // (-c account=…) literally, as it appears in the ARN; likewise the region and the partition.
    const pinned = (value: string, token: string) => (Token.isUnresolved(value) ? token : value);
    const partition = pinned(this.partition, "<AWS::Partition>");
    const account = pinned(this.account, "<AWS::AccountId>");
    const region = pinned(this.region, "<AWS::Region>");
    const userReasons = {
      provisioner: `One IAM user per Slack user, named at run time, so names are unknown at deploy time (admins' revoke and re-issue run here too); the path ${config.iamUserPath} confines creating and deleting users and keys to users cytoskel owns, and no action that attaches or writes policies is granted.`,
      expiry: `Expired access is taken apart for users named at run time; the path ${config.iamUserPath} confines deleting keys and users to users cytoskel owns (this role cannot create users or keys).`,
    };
    for (const name of ["provisioner", "expiry"] as const) {
      const policy = this.functions[name].role.node.tryFindChild("DefaultPolicy");
      if (!policy) continue;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${account}:user/${usersPath}/*]`,
        reason: userReasons[name],
      });
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:s3:${region}:${account}:access-grants/default/grant/*]`,
        reason:
          "Grant IDs are generated by S3 Access Grants when a grant is created, so revoking one cannot name it at deploy time; the resource is limited to grants of this account's single Access Grants instance.",
      });
    }
    const accountWide = {
      provisioner:
        "iam:ListUsers and dynamodb:ListStreams (added by the stream event source mapping) support no resource-level permissions; ListUsers only reads user names (cytoskel asks for its own path), and the stream read actions themselves are limited to this table's stream.",
      expiry:
        "iam:ListUsers supports no resource-level permissions; it only reads user names (cytoskel asks for its own path) to tell whether a person's IAM user still exists.",
    };
    for (const name of ["provisioner", "expiry"] as const) {
      const policy = this.functions[name].role.node.tryFindChild("DefaultPolicy");
      if (policy)
        Validations.of(policy).acknowledge({
          id: "AwsSolutions-IAM5[Resource::*]",
          reason: accountWide[name],
        });
    }
  }
}
