// One way to build a cytoskel Lambda function: esbuild-bundled TypeScript (NodejsFunction, local esbuild,
// never Docker), Node 24 on arm64, its own log group with retention, and its own role that starts empty
// (no AWS managed policy): each stack adds exactly what that function calls.
import { type Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { BUNDLE_SETTINGS, bundleAliases } from "../bundling.ts";

export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

export interface CytoskelFunctionProps {
  /** Absolute path of the TypeScript entry file exporting `handler`. */
  readonly entry: string;
  /** Repository root: esbuild runs here and resolves node_modules and tsconfig from it. */
  readonly projectRoot: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
}

/** Grants to it go to its role. */
export class CytoskelFunction extends Construct implements iam.IGrantable {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: CytoskelFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.description} (cytoskel)`,
    });
    this.grantPrincipal = this.role;
    // Only this function's log group; Lambda names the streams, hence the ':*' on the group ARN.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new nodejs.NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: "handler",
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: BUNDLE_SETTINGS.target,
        platform: BUNDLE_SETTINGS.platform,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        minify: BUNDLE_SETTINGS.minify,
        sourceMap: BUNDLE_SETTINGS.sourcemap,
        sourcesContent: BUNDLE_SETTINGS.sourcesContent,
        // Bundle the AWS SDK too: the functions run the exact versions the tests ran.
        bundleAwsSDK: true,
        externalModules: [],
        banner: BUNDLE_SETTINGS.banner,
        // Bolt's unused receivers and the credential chain's dead links out (cdk/lib/bundling.ts); the metafile lets a test check each bundle.
        esbuildArgs: Object.fromEntries(
          Object.entries(bundleAliases()).map(([pkg, to]) => [`--alias:${pkg}`, to]),
        ),
        metafile: true,
      },
    });
  }
}
