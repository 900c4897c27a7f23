// The grants infrastructure (parity with the original Pulumi program, hardened): the staging bucket,
// the S3 Access Grants instance, the registered location `s3://<bucket>/` with the role Access Grants
// assumes, and the uploaders group whose only permission is s3:GetDataAccess on the instance.
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import type { CytoskelDeployConfig } from "./config.ts";

export const ACCESS_GRANTS_SERVICE = "access-grants.s3.amazonaws.com";

/**
 * Object actions the location role holds. Grants can only narrow this set, so it is the ceiling of what a
 * contributor's temporary credentials can do: read, write and delete current objects and manage their own
 * multipart uploads. No ACL actions (the created bucket has ACLs disabled) and no s3:DeleteObjectVersion,
 * so a contributor can never destroy the versions that protect against mistakes.
 */
export const LOCATION_OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
] as const;
export const LOCATION_BUCKET_ACTIONS = ["s3:ListBucket"] as const;

export interface GrantsStackProps extends StackProps {
  readonly config: CytoskelDeployConfig;
}

/**
 * Role trust for Access Grants: one statement allowing sts:AssumeRole and sts:SetSourceIdentity (the
 * service sets the grantee as the source identity, so CloudTrail names who used the credentials), under
 * the conditions this principal carries.
 */
class AccessGrantsTrust extends iam.PrincipalWithConditions {
  override addToAssumeRolePolicy(doc: iam.PolicyDocument): void {
    doc.addStatements(
      new iam.PolicyStatement({ actions: ["sts:AssumeRole", "sts:SetSourceIdentity"], principals: [this] }),
    );
  }
}

export class GrantsStack extends Stack {
  readonly bucketName: string;
  readonly instanceArn: string;
  readonly locationId: string;
  readonly locationRole: iam.Role;
  readonly uploadersGroup: iam.Group;
  readonly getDataAccessPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: GrantsStackProps) {
    super(scope, id, props);
    const { config } = props;

    const bucket = config.createBucket
      ? this.createBucket(config.bucketName)
      : s3.Bucket.fromBucketName(this, "Bucket", config.bucketName);
    this.bucketName = bucket.bucketName;

    // One instance per account and region, so its ARN is fixed; building it from parts lets the same
    // policies serve a created or a pre-existing instance.
    this.instanceArn = this.formatArn({ service: "s3", resource: "access-grants", resourceName: "default" });
    const instance = config.createAccessGrantsInstance
      ? new s3.CfnAccessGrantsInstance(this, "AccessGrantsInstance", {})
      : undefined;
    if (instance) instance.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.locationRole = new iam.Role(this, "LocationRole", {
      description: `Assumed by S3 Access Grants to vend scoped credentials for s3://${config.bucketName}/`,
      assumedBy: new AccessGrantsTrust(new iam.ServicePrincipal(ACCESS_GRANTS_SERVICE), {
        StringEquals: { "aws:SourceAccount": this.account },
        ArnEquals: { "aws:SourceArn": this.instanceArn },
      }),
      // Contributors may ask GetDataAccess for up to 12-hour credentials; the role caps that.
      maxSessionDuration: Duration.hours(12),
    });
    const onlyViaThisInstance = {
      StringEquals: { "aws:ResourceAccount": this.account },
      ArnEquals: { "s3:AccessGrantsInstanceArn": this.instanceArn },
    };
    this.locationRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ObjectAccessThroughGrants",
        actions: [...LOCATION_OBJECT_ACTIONS],
        resources: [bucket.arnForObjects("*")],
        conditions: onlyViaThisInstance,
      }),
    );
    this.locationRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ListThroughGrants",
        actions: [...LOCATION_BUCKET_ACTIONS],
        resources: [bucket.bucketArn],
        conditions: onlyViaThisInstance,
      }),
    );
    const rolePolicy = this.locationRole.node.tryFindChild("DefaultPolicy");
    if (rolePolicy) {
      Validations.of(rolePolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${this.nagArn(bucket)}/*]`,
        reason:
          "The location role must reach every object key in the registered location s3://<bucket>/; each grant narrows it to one prefix, and the statement only applies to credentials vended by this Access Grants instance (s3:AccessGrantsInstanceArn).",
      });
    }

    const location = new s3.CfnAccessGrantsLocation(this, "Location", {
      locationScope: `s3://${config.bucketName}/`,
      iamRoleArn: this.locationRole.roleArn,
    });
    if (instance) location.addResourceDependency(instance);
    // The role's policy must exist before Access Grants validates the location.
    location.node.addDependency(this.locationRole);
    this.locationId = location.attrAccessGrantsLocationId;

    this.getDataAccessPolicy = new iam.ManagedPolicy(this, "GetDataAccessPolicy", {
      description:
        "Lets cytoskel users exchange their keys for grant-scoped temporary credentials, nothing else.",
      statements: [
        new iam.PolicyStatement({
          sid: "GetDataAccessOnly",
          actions: ["s3:GetDataAccess"],
          resources: [this.instanceArn],
        }),
      ],
    });
    this.uploadersGroup = new iam.Group(this, "UploadersGroup", {
      groupName: config.uploadersGroupName,
      managedPolicies: [this.getDataAccessPolicy],
    });

    // What `cytoskel cpgstaging create grant USER_ARN LOCATION_ID PREFIX` and the scripts need.
    new CfnOutput(this, "AccessGrantsLocationId", { value: this.locationId });
    new CfnOutput(this, "AccessGrantsInstanceArn", { value: this.instanceArn });
    new CfnOutput(this, "UploadersGroupName", { value: this.uploadersGroup.groupName });
    new CfnOutput(this, "BucketName", { value: this.bucketName });
  }

  /** How cdk-nag spells the bucket ARN in a finding ID (`<LogicalId.Arn>` for a created bucket). */
  private nagArn(bucket: s3.IBucket): string {
    const cfn = bucket.node.defaultChild;
    return cfn instanceof s3.CfnBucket
      ? `<${this.getLogicalId(cfn)}.Arn>`
      : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
  }

  private createBucket(bucketName: string): s3.Bucket {
    const accessLogs = new s3.Bucket(this, "AccessLogsBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs.node.defaultChild ?? accessLogs).acknowledge({
      id: "AwsSolutions-S1",
      reason: "This is the server access log bucket of the staging bucket; logging it to itself would loop.",
    });
    return new s3.Bucket(this, "Bucket", {
      bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "staging/",
      // Contributors' data: never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
