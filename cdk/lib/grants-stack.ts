// The grants infrastructure (parity with the original Pulumi program, hardened): the staging bucket,
// the S3 Access Grants instance, the registered location `s3://<bucket>/` with the role Access Grants
// assumes, and the uploaders group whose only permission is s3:GetDataAccess on the instance. In an
// account the original tool set up, the bucket, instance, location and group can each be taken as
// they are (createBucket, createAccessGrantsInstance, existingAccessGrantsLocationId,
// createUploadersGroup; README.md, "Deploy to AWS").
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
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
/** With SSE-KMS under a customer key, S3 needs these on the key for the vended credentials' reads and writes. */
export const LOCATION_KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"] as const;

/** What the bot stack needs from the grants stack (cross-stack references). */
export interface GrantsOutputs {
  readonly bucketName: string;
  readonly instanceArn: string;
  readonly locationId: string;
  readonly uploadersGroup: iam.IGroup;
}

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

export class GrantsStack extends Stack implements GrantsOutputs {
  readonly bucketName: string;
  readonly instanceArn: string;
  readonly locationId: string;
  /** Undefined with existingAccessGrantsLocationId: the existing location keeps the role it has. */
  readonly locationRole: iam.Role | undefined;
  readonly uploadersGroup: iam.IGroup;
  readonly getDataAccessPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: GrantsStackProps) {
    super(scope, id, props);
    const { config } = props;

    const bucketKey = config.bucketKmsKeyArn
      ? kms.Key.fromKeyArn(this, "BucketKey", config.bucketKmsKeyArn)
      : undefined;
    const bucket = config.createBucket
      ? this.createBucket(config.bucketName, bucketKey)
      : s3.Bucket.fromBucketName(this, "Bucket", config.bucketName);
    this.bucketName = bucket.bucketName;

    // One instance per account and region, so its ARN is fixed; building it from parts lets the same
    // policies serve a created or a pre-existing instance.
    this.instanceArn = this.formatArn({ service: "s3", resource: "access-grants", resourceName: "default" });
    const instance = config.createAccessGrantsInstance
      ? new s3.CfnAccessGrantsInstance(this, "AccessGrantsInstance", {})
      : undefined;
    if (instance) instance.applyRemovalPolicy(RemovalPolicy.RETAIN);

    if (config.existingAccessGrantsLocationId) {
      // Registered before (the original tool registered s3://<bucket>/): a second registration of the
      // same scope fails, so the stack takes its ID and leaves the location and its role as they are.
      this.locationId = config.existingAccessGrantsLocationId;
      this.locationRole = undefined;
    } else {
      this.locationRole = this.createLocationRole(config, bucket, bucketKey);
      const location = new s3.CfnAccessGrantsLocation(this, "Location", {
        locationScope: `s3://${config.bucketName}/`,
        iamRoleArn: this.locationRole.roleArn,
      });
      if (instance) location.addResourceDependency(instance);
      // The role's policy must exist before Access Grants validates the location.
      location.node.addDependency(this.locationRole);
      this.locationId = location.attrAccessGrantsLocationId;
    }

    this.getDataAccessPolicy = new iam.ManagedPolicy(this, "GetDataAccessPolicy", {
      // Under cytoskel's path, so the operator policy can read it (the CLI checks the group) by path.
      path: config.iamUserPath,
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
    if (config.createUploadersGroup) {
      this.uploadersGroup = new iam.Group(this, "UploadersGroup", {
        groupName: config.uploadersGroupName,
        managedPolicies: [this.getDataAccessPolicy],
      });
    } else {
      // The existing group (by name; its ARN is taken to have the path "/", as the original tool's
      // group has) gets the same managed policy attached from the policy's side, so the group itself
      // is not changed otherwise. Whatever else it holds stays: check that it grants nothing more.
      this.uploadersGroup = iam.Group.fromGroupName(this, "UploadersGroup", config.uploadersGroupName);
      this.getDataAccessPolicy.attachToGroup(this.uploadersGroup);
    }

    // What `cytoskel cpgstaging create grant USER_ARN LOCATION_ID PREFIX` and the scripts need.
    new CfnOutput(this, "AccessGrantsLocationId", { value: this.locationId });
    new CfnOutput(this, "AccessGrantsInstanceArn", { value: this.instanceArn });
    new CfnOutput(this, "UploadersGroupName", { value: this.uploadersGroup.groupName });
    new CfnOutput(this, "BucketName", { value: this.bucketName });
  }

  /**
   * The role Access Grants assumes to vend credentials for s3://<bucket>/: object and list actions
   * only through this instance, plus the bucket's customer KMS key when it has one.
   */
  private createLocationRole(
    config: CytoskelDeployConfig,
    bucket: s3.IBucket,
    bucketKey: kms.IKey | undefined,
  ): iam.Role {
    const role = new iam.Role(this, "LocationRole", {
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
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ObjectAccessThroughGrants",
        actions: [...LOCATION_OBJECT_ACTIONS],
        resources: [bucket.arnForObjects("*")],
        conditions: onlyViaThisInstance,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ListThroughGrants",
        actions: [...LOCATION_BUCKET_ACTIONS],
        resources: [bucket.bucketArn],
        conditions: onlyViaThisInstance,
      }),
    );
    if (bucketKey) {
      // SSE-KMS: S3 calls KMS with the vended credentials' identity, so without this every upload and
      // download of an encrypted object fails. Only through S3 in this region (kms:ViaService). The key
      // policy must let IAM policies of this account grant use of the key (the default key policy does).
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: "BucketKeyThroughS3",
          actions: [...LOCATION_KMS_ACTIONS],
          resources: [bucketKey.keyArn],
          conditions: { StringEquals: { "kms:ViaService": `s3.${this.region}.amazonaws.com` } },
        }),
      );
    }
    const rolePolicy = role.node.tryFindChild("DefaultPolicy");
    if (rolePolicy) {
      Validations.of(rolePolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${this.nagArn(bucket)}/*]`,
        reason:
          "The location role must reach every object key in the registered location s3://<bucket>/; each grant narrows it to one prefix, and the statement only applies to credentials vended by this Access Grants instance (s3:AccessGrantsInstanceArn).",
      });
    }
    return role;
  }

  /** How cdk-nag spells the bucket ARN in a finding ID (`<LogicalId.Arn>` for a created bucket). */
  private nagArn(bucket: s3.IBucket): string {
    const cfn = bucket.node.defaultChild;
    return cfn instanceof s3.CfnBucket
      ? `<${this.getLogicalId(cfn)}.Arn>`
      : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
  }

  private createBucket(bucketName: string, key: kms.IKey | undefined): s3.Bucket {
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
      // With bucketKmsKeyArn: SSE-KMS under that key (bucket keys cut the KMS calls), else SSE-S3.
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
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
