// Local AWS stand-in: one node:http server on 127.0.0.1 answering IAM and STS (query protocol) and
// S3 Control Access Grants (REST-XML) in the wire formats the AWS SDK v3 clients (and the AWS CLI) use.
//
// IAM: Create/Get/List/Delete User (ListUsers pages with MaxItems/Marker), Tag/Untag/ListUserTags,
//   Create/List/Update/DeleteAccessKey (2 per user), Create/Get/List/DeleteGroup, Add/RemoveUserFromGroup,
//   ListGroupsForUser, Put/Get/List/DeleteGroupPolicy, Attach/Detach/ListAttachedGroupPolicies,
//   Put/Get/List/DeleteUserPolicy, Attach/Detach/ListAttachedUserPolicies, Create/DeletePolicy,
//   Create/Get/DeleteLoginProfile, ListMFADevices/DeactivateMFADevice, List/DeleteSigningCertificate(s),
//   List/DeleteSSHPublicKey(s). DeleteUser answers DeleteConflict while anything is attached, like AWS.
// STS: GetCallerIdentity (the caller is the IAM user owning the request's access key, else the root).
// S3 Control: Create/Get/Delete/ListAccessGrantsInstance(s), Create/Get/List/DeleteAccessGrantsLocation,
//   Create/Get/List/DeleteAccessGrant (NextToken/MaxResults, grantee/permission/scope filters),
//   GetDataAccess (caller from the SigV4 key; needs s3:GetDataAccess in the caller's IAM policies).
// Secrets Manager (JSON 1.1): GetSecretValue (by name, ARN or partial ARN; VersionId/VersionStage);
//   secrets are seeded with putSecret(name, value). ResourceNotFoundException 400 like AWS.
// Requests signed with keys issued here are SigV4-verified; unknown keys act as the account's admin.
// Error codes, messages and statuses follow AWS's documentation (e.g. NoSuchEntity 404,
// EntityAlreadyExists 409, DeleteConflict 409, AccessGrantsInstanceNotExistsError 404,
// NoSuchAccessGrantError 404, AccessGrantAlreadyExists 409, InvalidAccessGrant 400, AccessDenied 403).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Caller, handleIam, IAM_NS, iamErrorXml } from "./iam.ts";
import { handleS3Control, isS3ControlPath, s3ControlErrorXml } from "./s3control.ts";
import {
  handleSecretsManager,
  JSON_11,
  putSecret,
  SECRETS_MANAGER_TARGET_PREFIX,
  secretsManagerErrorJson,
} from "./secretsmanager.ts";
import { signatureMatches } from "./sigv4.ts";
import { createState, type LocalAwsState, type RequestRecord, userForAccessKey } from "./state.ts";
import { AwsFault, parseSigV4, readBody, requestId, xmlDocument } from "./wire.ts";

export { SECRET_NOT_FOUND } from "./secretsmanager.ts";
export type * from "./state.ts";
export { allGrants, userForAccessKey } from "./state.ts";

export const DEFAULT_ACCOUNT_ID = "123456789012";
/** Dummy credentials for the stand-in's administrator (any unknown key is treated as the account root). */
export const LOCAL_ADMIN_CREDENTIALS = {
  accessKeyId: "AKIALOCALADMIN000000",
  secretAccessKey: "local-admin-secret-not-a-real-key",
} as const;

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

export interface LocalAws {
  url: string;
  port: number;
  accountId: string;
  state: LocalAwsState;
  /** Environment that points the AWS SDK/CLI at this server with the admin's dummy credentials. */
  env: Record<string, string>;
  /**
   * Answer the next `times` (default 1) requests for `operation` with an AWS error instead of doing
   * them, e.g. failNext("CreateAccessGrant", { code: "ThrottlingException", status: 400 }).
   */
  failNext(
    operation: string,
    fault: { code: string; status: number; message?: string; times?: number },
  ): void;
  /**
   * Seed (or add a new AWSCURRENT version of) a Secrets Manager secret; returns its ARN, which ends in
   * "-" and 6 random characters like AWS's.
   */
  putSecret(name: string, value: string, opts?: { region?: string }): string;
  stop(): Promise<void>;
}

export interface LocalAwsOptions {
  accountId?: string;
  /** Region reported in env (requests may use any region; Access Grants state is per region). */
  region?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Check SigV4 signatures made with keys the stand-in issued (default true). */
  verifySignatures?: boolean;
}

function callerFor(state: LocalAwsState, accessKeyId: string | undefined): Caller {
  const user = userForAccessKey(state, accessKeyId);
  return { accessKeyId, user, arn: user ? user.arn : `arn:aws:iam::${state.accountId}:root` };
}

/**
 * The path and query of a request target. Used as an HTTP proxy (HTTP_PROXY), the server receives the
 * absolute form "http://123456789012.127.0.0.1:port/v20180820/..." — which is how the AWS CLI, whose
 * S3 Control endpoint rules put the account ID in front of any custom host, can still reach it.
 */
function originForm(target: string | undefined): string {
  const t = target ?? "/";
  return /^https?:\/\//i.test(t) ? t.replace(/^https?:\/\/[^/]*/i, "") || "/" : t;
}

function send(res: ServerResponse, status: number, body: string, contentType = "text/xml"): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": requestId(),
    "x-amz-request-id": requestId(),
  });
  res.end(body);
}

async function handle(
  state: LocalAwsState,
  req: IncomingMessage,
  res: ServerResponse,
  verifySignatures: boolean,
): Promise<void> {
  const url = new URL(originForm(req.url), "http://localhost");
  const sig = parseSigV4(req.headers.authorization);
  const region = sig.region ?? "us-east-1";
  const body = await readBody(req);
  const record: RequestRecord = {
    service: "unknown",
    operation: "",
    status: 200,
    accessKeyId: sig.accessKeyId,
    host: req.headers.host,
  };
  state.requests.push(record);

  const user = userForAccessKey(state, sig.accessKeyId);
  const revoked =
    (sig.accessKeyId !== undefined && state.iam.deletedAccessKeyIds.has(sig.accessKeyId)) ||
    user?.accessKeys.some((k) => k.accessKeyId === sig.accessKeyId && k.status === "Inactive") === true;
  const key = user?.accessKeys.find((k) => k.accessKeyId === sig.accessKeyId);
  const badSignature =
    verifySignatures &&
    key !== undefined &&
    !signatureMatches(
      { method: req.method ?? "GET", rawUrl: originForm(req.url), headers: req.headers, body },
      key.secretAccessKey,
    );
  const signatureFault = new AwsFault(
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  );

  if (isS3ControlPath(url.pathname)) {
    record.service = "s3control";
    try {
      if (revoked) {
        throw new AwsFault(
          "InvalidAccessKeyId",
          403,
          "The AWS Access Key Id you provided does not exist in our records.",
        );
      }
      if (badSignature) throw signatureFault;
      const answer = handleS3Control(state, {
        method: req.method ?? "GET",
        url,
        headers: req.headers,
        body,
        region,
        caller: callerFor(state, sig.accessKeyId),
      });
      record.operation = answer.operation;
      send(res, 200, answer.xml, "application/xml");
    } catch (err) {
      const fault =
        err instanceof AwsFault
          ? err
          : new AwsFault("InternalError", 500, "We encountered an internal error.");
      record.operation ||= (err as { operation?: string }).operation ?? "";
      record.status = fault.status;
      record.errorCode = fault.code;
      send(res, fault.status, s3ControlErrorXml(fault), "application/xml");
    }
    return;
  }

  const target = req.headers["x-amz-target"];
  if (typeof target === "string" && target.startsWith(SECRETS_MANAGER_TARGET_PREFIX)) {
    record.service = "secretsmanager";
    record.operation = target.slice(SECRETS_MANAGER_TARGET_PREFIX.length);
    try {
      if (revoked)
        throw new AwsFault(
          "UnrecognizedClientException",
          400,
          "The security token included in the request is invalid.",
        );
      if (badSignature) throw new AwsFault("InvalidSignatureException", 400, signatureFault.message);
      const answer = handleSecretsManager(state, target, body, callerFor(state, sig.accessKeyId));
      send(res, 200, answer.json, JSON_11);
    } catch (err) {
      const fault =
        err instanceof AwsFault
          ? err
          : new AwsFault("InternalServiceError", 500, "An error occurred on the server side.");
      record.status = fault.status;
      record.errorCode = fault.code;
      send(res, fault.status, secretsManagerErrorJson(fault), JSON_11);
    }
    return;
  }

  // Query protocol: IAM or STS, told apart by the SigV4 scope (or by the action for unsigned calls).
  const params = new URLSearchParams(body || url.search);
  const action = params.get("Action") ?? "";
  record.operation = action;
  const isSts = sig.service === "sts" || (sig.service === undefined && action === "GetCallerIdentity");
  record.service = isSts ? "sts" : "iam";
  try {
    if (req.method !== "POST" && req.method !== "GET")
      throw new AwsFault("InvalidAction", 400, "Unsupported method");
    if (revoked)
      throw new AwsFault(
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
      );
    if (badSignature) throw signatureFault;
    const caller = callerFor(state, sig.accessKeyId);
    if (isSts) {
      if (action !== "GetCallerIdentity") {
        throw new AwsFault("InvalidAction", 400, `Could not find operation ${action} for version 2011-06-15`);
      }
      send(
        res,
        200,
        xmlDocument("GetCallerIdentityResponse", STS_NS, {
          GetCallerIdentityResult: {
            Arn: caller.arn,
            UserId: caller.user ? caller.user.userId : state.accountId,
            Account: state.accountId,
          },
          ResponseMetadata: { RequestId: requestId() },
        }),
      );
      return;
    }
    send(res, 200, handleIam(state, params, caller));
  } catch (err) {
    const fault =
      err instanceof AwsFault
        ? err
        : new AwsFault("ServiceFailure", 500, "An internal error occurred.", "Receiver");
    record.status = fault.status;
    record.errorCode = fault.code;
    const xml = isSts
      ? xmlDocument("ErrorResponse", STS_NS, {
          Error: { Type: fault.type, Code: fault.code, Message: fault.message },
          RequestId: requestId(),
        })
      : iamErrorXml(fault);
    send(res, fault.status, xml);
  }
}

export async function startLocalAws(opts: LocalAwsOptions = {}): Promise<LocalAws> {
  const accountId = opts.accountId ?? DEFAULT_ACCOUNT_ID;
  const state = createState(accountId);
  const server = createServer((req, res) => {
    handle(state, req, res, opts.verifySignatures ?? true).catch((err: unknown) => {
      // Never leave a client hanging; the stand-in's own bugs surface as 500s.
      if (!res.headersSent)
        send(
          res,
          500,
          xmlDocument("ErrorResponse", IAM_NS, { Error: { Code: "InternalError", Message: String(err) } }),
        );
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ENDPOINT_URL_IAM: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_S3_CONTROL: url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_REGION: opts.region ?? "us-east-1",
    // The AWS CLI v1 (botocore) reads only AWS_DEFAULT_REGION.
    AWS_DEFAULT_REGION: opts.region ?? "us-east-1",
    AWS_ACCESS_KEY_ID: LOCAL_ADMIN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_ADMIN_CREDENTIALS.secretAccessKey,
  };
  return {
    url,
    port,
    accountId,
    state,
    env,
    failNext(operation, fault) {
      state.injectedFaults.push({
        operation,
        code: fault.code,
        status: fault.status,
        message: fault.message ?? `Injected ${fault.code} for ${operation}`,
        remaining: fault.times ?? 1,
      });
    },
    putSecret: (name, value, putOpts = {}) =>
      putSecret(state, name, value, putOpts.region ?? opts.region ?? "us-east-1").arn,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Seed what the grants CDK stack would create: the Access Grants instance (if missing) and a registered
 * location. Returns the location; tests use its id for CreateAccessGrant.
 */
export function seedAccessGrantsLocation(
  local: Pick<LocalAws, "state" | "accountId">,
  opts: { scope?: string; iamRoleArn?: string; region?: string } = {},
): { locationId: string; instanceArn: string; scope: string } {
  const region = opts.region ?? "us-east-1";
  const scope = opts.scope ?? "s3://staging-cellpainting-gallery/";
  let instance = local.state.accessGrants.get(region);
  if (!instance) {
    instance = {
      id: "default",
      arn: `arn:aws:s3:${region}:${local.accountId}:access-grants/default`,
      region,
      createdAt: new Date(),
      locations: new Map(),
      grants: new Map(),
    };
    local.state.accessGrants.set(region, instance);
  }
  const existing = [...instance.locations.values()].find((l) => l.scope === scope);
  if (existing) return { locationId: existing.id, instanceArn: instance.arn, scope };
  const id = scope === "s3://" ? "default" : randomUUID();
  instance.locations.set(id, {
    id,
    arn: `${instance.arn}/location/${id}`,
    scope,
    iamRoleArn: opts.iamRoleArn ?? `arn:aws:iam::${local.accountId}:role/cytoskel-access-grants-location`,
    createdAt: new Date(),
  });
  return { locationId: id, instanceArn: instance.arn, scope };
}
