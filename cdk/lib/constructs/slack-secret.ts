// One Slack credential in Secrets Manager: the operator's existing secret (by ARN) or one the stack
// creates with a random value for the operator to replace. Functions read it with GetSecretValue only.
import { Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

export interface SlackSecretProps {
  /** An existing secret (complete or partial ARN); when absent the stack creates one. */
  readonly existingArn: string | undefined;
  /** Of a created secret: what it holds and how to put the real value in. */
  readonly description: string;
}

export const SIGNING_SECRET_DESCRIPTION =
  "Slack signing secret of the cytoskel app (Basic Information > App Credentials). Replace this generated value: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <signing secret>";
export const BOT_TOKEN_DESCRIPTION =
  "Slack bot token (xoxb-...) of the cytoskel app (OAuth & Permissions). Replace this generated value: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <xoxb-token>";

/**
 * The secret is this construct's default child (id "Default"), so a created one keeps the logical ID it
 * had as the stack's direct child of the same id (SlackSigningSecret, SlackBotToken).
 */
export class SlackSecret extends Construct {
  readonly secret: secretsmanager.ISecret;
  readonly secretArn: string;

  constructor(scope: Construct, id: string, props: SlackSecretProps) {
    super(scope, id);
    const arn = props.existingArn;
    if (arn) {
      // A complete ARN ends in the 6-character suffix Secrets Manager adds; a partial one does not.
      this.secret = /-[A-Za-z0-9]{6}$/.test(arn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, "Default", arn)
        : secretsmanager.Secret.fromSecretPartialArn(this, "Default", arn);
    } else {
      // Created with a random value (never a real credential in the template); the operator replaces it.
      const secret = new secretsmanager.Secret(this, "Default", { description: props.description });
      Validations.of(secret.node.defaultChild ?? secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "Slack issues these credentials; they are rotated in Slack's app settings and then written here, so a Secrets Manager rotation Lambda cannot rotate them.",
      });
      this.secret = secret;
    }
    this.secretArn = this.secret.secretArn;
  }

  /** GetSecretValue only: the secret's grantRead would add DescribeSecret, which nothing calls. */
  grantGetValue(grantee: iam.IGrantable, sid: string): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ["secretsmanager:GetSecretValue"],
        resources: [this.secretArn],
      }),
    );
  }
}
