// Local AWS stand-in: one node:http server on 127.0.0.1 answering IAM and STS (query protocol), S3
// Control Access Grants (REST-XML), Secrets Manager (JSON 1.1) and — forwarded to a DynamoDB engine —
// DynamoDB, in the wire formats the AWS SDK v3 clients (and the AWS CLI) use.
//
// IAM: Create/Get/List/Delete User (ListUsers pages with MaxItems/Marker), Tag/Untag/ListUserTags,
//   Create/List/Update/DeleteAccessKey (2 per user), Create/Get/List/DeleteGroup, Add/RemoveUserFromGroup,
//   ListGroupsForUser, Put/Get/List/DeleteGroupPolicy, Attach/Detach/ListAttachedGroupPolicies,
//   Put/Get/List/DeleteUserPolicy, Attach/Detach/ListAttachedUserPolicies, Create/Get/DeletePolicy,
//   GetPolicyVersion, Create/Get/DeleteLoginProfile, ListMFADevices/DeactivateMFADevice, List/DeleteSigningCertificate(s),
//   List/DeleteSSHPublicKey(s). DeleteUser answers DeleteConflict while anything is attached, like AWS.
// STS: GetCallerIdentity (the IAM user, the assumed role session, or the root behind the key).
// S3 Control: Create/Get/Delete/ListAccessGrantsInstance(s), Create/Get/List/DeleteAccessGrantsLocation,
//   Create/Get/List/DeleteAccessGrant (NextToken/MaxResults, grantee/permission/scope filters),
//   GetDataAccess (caller from the SigV4 key; needs s3:GetDataAccess in the caller's IAM policies).
// Secrets Manager (JSON 1.1): GetSecretValue (by name, ARN or partial ARN; VersionId/VersionStage);
//   secrets are seeded with putSecret(name, value). ResourceNotFoundException 400 like AWS.
// Authorization as AWS does it (authz/): every request's principal comes from its SigV4 key (IAM users
// made here, role sessions seeded with addRole or vended by GetDataAccess, the admin key as the root;
// unknown, deleted, inactive or expired keys are refused), signatures are verified, and each call is
// judged by the principal's identity policies before anything is done.
// Error codes, messages and statuses follow AWS's documentation (e.g. NoSuchEntity 404,
// EntityAlreadyExists 409, DeleteConflict 409, AccessGrantsInstanceNotExistsError 404,
// NoSuchAccessGrantError 404, AccessGrantAlreadyExists 409, InvalidAccessGrant 400, AccessDenied 403).
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer, limitServer, stopOnce } from "../../src/runtime/local-http.ts";
import { noted } from "../secrets-seen.ts";
import { accessDeniedMessage, authorize, type Check } from "./authz/evaluate.ts";
import { iamChecks } from "./authz/iam-checks.ts";
import { type PolicyDocument, type Principal, rolePrincipal, userPolicies } from "./authz/principals.ts";
import {
  createDynamoDbProxy,
  type DynamoDbObserver,
  type DynamoDbProxy,
  isDynamoDbTarget,
} from "./dynamodb-proxy.ts";
import { type Caller, handleIam, IAM_NS, iamErrorXml, isIamOperation } from "./iam.ts";
import { handleS3Control, isS3ControlPath, s3ControlErrorXml } from "./s3control.ts";
import {
  handleSecretsManager,
  JSON_11,
  putSecret,
  SECRETS_MANAGER_TARGET_PREFIX,
  secretsManagerChecks,
  secretsManagerErrorJson,
} from "./secretsmanager.ts";
import { signatureMatches } from "./sigv4.ts";
import {
  createState,
  iamId,
  type LocalAwsState,
  type RequestRecord,
  secretAccessKey,
  takeInjectedFault,
  userForAccessKey,
} from "./state.ts";
import { AwsFault, parseSigV4, readBody, requestId, xmlDocument } from "./wire.ts";

export type { PolicyDocument } from "./authz/principals.ts";
export { SECRET_NOT_FOUND } from "./secretsmanager.ts";
export type * from "./state.ts";
export { allGrants, userForAccessKey } from "./state.ts";

export const DEFAULT_ACCOUNT_ID = "123456789012";
/**
 * Credentials of the stand-in's administrator: the account root, allowed everything (tests seed state
 * with it). Every other key must be one the stand-in issued; its holder gets what its policies allow.
 */
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
   * Break the next `times` (default 1) requests, whatever they are, at the connection: "drop" closes
   * the socket without an answer (a reset connection), "hang" never answers (until the client gives
   * up). Recorded with status 0 and errorCode "ConnectionDropped" / "ConnectionHung"; nothing is done.
   */
  breakNextRequests(how: "drop" | "hang", times?: number): void;
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
  /**
   * Observe every DynamoDB request the stand-in forwards (after it was judged), whoever signs it: the
   * local stream captures writes here. Returns a function that stops observing. Needs dynamodbEndpoint.
   */
  observeDynamoDb(observer: DynamoDbObserver): () => void;
  /** Answer every IAM/STS (query protocol) and S3 Control request this much later (0 = at once). */
  setLatency(latency: { iam?: number; s3control?: number }): void;
  /**
   * Seed a role from identity policy documents (e.g. a function's synthesized role) and return a
   * session's temporary credentials, as Lambda hands them to a function. Calling it again for the same
   * role replaces its policies and returns new credentials.
   */
  addRole(
    roleName: string,
    policies: Record<string, PolicyDocument>,
    opts?: { path?: string; sessionName?: string },
  ): { arn: string; sessionArn: string; credentials: RoleCredentials };
  /** `env` with other credentials: what a process signing as that principal is given. */
  envFor(credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }): Record<string, string>;
  stop(): Promise<void>;
}

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface LocalAwsOptions {
  accountId?: string;
  /** Region reported in env (requests may use any region; Access Grants state is per region). */
  region?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Check SigV4 signatures made with keys the stand-in issued (default true). */
  verifySignatures?: boolean;
  /**
   * A DynamoDB engine (DynamoDB Local, dynalite, moto) to serve DynamoDB through: requests are judged by
   * the caller's IAM policies here, then forwarded. `env` then points AWS_ENDPOINT_URL_DYNAMODB here.
   */
  dynamodbEndpoint?: string;
}

/** The principal behind an access key: the admin's key is the root; unknown keys are refused. */
function principalFor(state: LocalAwsState, accessKeyId: string | undefined): Principal | undefined {
  if (accessKeyId === LOCAL_ADMIN_CREDENTIALS.accessKeyId) {
    return { kind: "root", arn: `arn:aws:iam::${state.accountId}:root` };
  }
  const user = userForAccessKey(state, accessKeyId);
  if (user) return { kind: "user", arn: user.arn, user, policies: userPolicies(state, user) };
  const session = accessKeyId ? state.iam.roleSessions.get(accessKeyId) : undefined;
  const role = session ? state.iam.roles.get(session.roleName.toLowerCase()) : undefined;
  if (session && role) return rolePrincipal(role, session, state.accountId);
  return undefined;
}

function callerOf(principal: Principal, accessKeyId: string | undefined): Caller {
  return {
    accessKeyId,
    user: principal.kind === "user" ? principal.user : undefined,
    arn: principal.arn,
    principal,
  };
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

type Protocol = "query" | "s3control" | "json11" | "dynamodb";

/** Each protocol's answer for a key AWS does not know, a bad signature, or a denied call. */
const FAULTS: Record<
  Exclude<Protocol, "dynamodb">,
  {
    unknownKey: [string, number, string];
    expired: [string, number, string];
    badSignature: [string, number];
    denied: [string, number];
  }
> = {
  query: {
    unknownKey: ["InvalidClientTokenId", 403, "The security token included in the request is invalid."],
    expired: ["ExpiredToken", 403, "The security token included in the request is expired"],
    badSignature: ["SignatureDoesNotMatch", 403],
    denied: ["AccessDenied", 403],
  },
  s3control: {
    unknownKey: [
      "InvalidAccessKeyId",
      403,
      "The AWS Access Key Id you provided does not exist in our records.",
    ],
    expired: ["ExpiredToken", 400, "The provided token has expired."],
    badSignature: ["SignatureDoesNotMatch", 403],
    denied: ["AccessDenied", 403],
  },
  json11: {
    unknownKey: [
      "UnrecognizedClientException",
      400,
      "The security token included in the request is invalid.",
    ],
    expired: ["ExpiredTokenException", 400, "The security token included in the request is expired"],
    badSignature: ["InvalidSignatureException", 400],
    denied: ["AccessDeniedException", 400],
  },
};

const SIGNATURE_MESSAGE =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

interface Authenticated {
  principal: Principal;
  caller: Caller;
  /** Judge checks as AWS would; throws the protocol's AccessDenied fault, having changed nothing. */
  authorize(checks: Check[], operation: string): Promise<void>;
}

/**
 * Who signed the request, checked like AWS: a key it never issued (or deleted, or deactivated) and a
 * signature made with the wrong secret (or a session without its token) are refused.
 */
function authenticate(
  state: LocalAwsState,
  req: IncomingMessage,
  body: string,
  protocol: Protocol,
  service: string,
  region: string,
  verifySignatures: boolean,
): Authenticated {
  // DynamoDB's JSON 1.0 protocol answers these as Secrets Manager's JSON 1.1 does.
  const faults = FAULTS[protocol === "dynamodb" ? "json11" : protocol];
  const sig = parseSigV4(req.headers.authorization);
  const principal = principalFor(state, sig.accessKeyId);
  const user = principal?.kind === "user" ? principal.user : undefined;
  const inactive = user?.accessKeys.some((k) => k.accessKeyId === sig.accessKeyId && k.status === "Inactive");
  if (!principal || inactive) throw new AwsFault(...faults.unknownKey);
  let secret: string | undefined;
  if (principal.kind === "root") secret = LOCAL_ADMIN_CREDENTIALS.secretAccessKey;
  else if (principal.kind === "user")
    secret = principal.user.accessKeys.find((k) => k.accessKeyId === sig.accessKeyId)?.secretAccessKey;
  else {
    secret = principal.session.secretAccessKey;
    if (req.headers["x-amz-security-token"] !== principal.session.sessionToken)
      throw new AwsFault(...faults.unknownKey);
    if (principal.session.expiresAt && principal.session.expiresAt.getTime() <= Date.now())
      throw new AwsFault(...faults.expired);
  }
  if (
    verifySignatures &&
    secret !== undefined &&
    !signatureMatches(
      { method: req.method ?? "GET", rawUrl: originForm(req.url), headers: req.headers, body },
      secret,
    )
  ) {
    throw new AwsFault(...faults.badSignature, SIGNATURE_MESSAGE);
  }
  return {
    principal,
    caller: callerOf(principal, sig.accessKeyId),
    async authorize(checks, operation) {
      const denial = await authorize(state, principal, checks, {
        accountId: state.accountId,
        region,
        service,
        operation,
      });
      if (denial) throw new AwsFault(...faults.denied, accessDeniedMessage(principal.arn, denial));
    },
  };
}

interface ServerContext {
  state: LocalAwsState;
  verifySignatures: boolean;
  dynamodb: DynamoDbProxy | undefined;
  latencyMs: { iam: number; s3control: number };
  /** breakNextRequests: what to do to the next requests' connections. */
  broken: ("drop" | "hang")[];
}

async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state, verifySignatures } = ctx;
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
  const broken = ctx.broken.shift();
  if (broken) {
    record.status = 0;
    record.errorCode = broken === "drop" ? "ConnectionDropped" : "ConnectionHung";
    if (broken === "drop") req.socket.destroy();
    return; // "hang": no answer; the client's timeout ends it
  }
  // Injected latency (setLatency): S3 Control by path, IAM/STS as the query protocol (no X-Amz-Target).
  const slow = isS3ControlPath(url.pathname)
    ? ctx.latencyMs.s3control
    : typeof req.headers["x-amz-target"] === "string"
      ? 0
      : ctx.latencyMs.iam;
  if (slow) await new Promise((resolve) => setTimeout(resolve, slow));
  const fail = (err: unknown, fallback: AwsFault): AwsFault => {
    const fault = err instanceof AwsFault ? err : fallback;
    record.status = fault.status;
    record.errorCode = fault.code;
    return fault;
  };

  if (isS3ControlPath(url.pathname)) {
    record.service = "s3control";
    try {
      const auth = authenticate(state, req, body, "s3control", "s3control", region, verifySignatures);
      const answer = await handleS3Control(
        state,
        { method: req.method ?? "GET", url, headers: req.headers, body, region, caller: auth.caller },
        (checks) => auth.authorize(checks, record.operation),
      );
      record.operation = answer.operation;
      send(res, 200, answer.xml, "application/xml");
    } catch (err) {
      record.operation ||= (err as { operation?: string }).operation ?? "";
      const fault = fail(err, new AwsFault("InternalError", 500, "We encountered an internal error."));
      send(res, fault.status, s3ControlErrorXml(fault), "application/xml");
    }
    return;
  }

  const target = req.headers["x-amz-target"];
  if (typeof target === "string" && isDynamoDbTarget(target)) {
    record.service = "dynamodb";
    record.operation = target.slice(target.indexOf(".") + 1);
    try {
      if (!ctx.dynamodb) throw new AwsFault("UnknownOperationException", 400, "DynamoDB is not served here");
      const auth = authenticate(state, req, body, "dynamodb", "dynamodb", region, verifySignatures);
      const answer = await ctx.dynamodb.forward(req, body, async (checks) => {
        await auth.authorize(checks, record.operation);
        // Judged first, as IAM and S3 Control faults are: a denied caller is denied, not throttled.
        const injected = takeInjectedFault(state, record.operation);
        if (injected) throw new AwsFault(injected.code, injected.status, injected.message);
      });
      record.status = answer.status;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch (err) {
      const fault = fail(err, new AwsFault("InternalServerError", 500, "Internal server error"));
      send(
        res,
        fault.status,
        JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.code}`, message: fault.message }),
        "application/x-amz-json-1.0",
      );
    }
    return;
  }

  if (typeof target === "string" && target.startsWith(SECRETS_MANAGER_TARGET_PREFIX)) {
    record.service = "secretsmanager";
    record.operation = target.slice(SECRETS_MANAGER_TARGET_PREFIX.length);
    try {
      const auth = authenticate(state, req, body, "json11", "secretsmanager", region, verifySignatures);
      await auth.authorize(secretsManagerChecks(state, record.operation, body), record.operation);
      const answer = handleSecretsManager(state, target, body);
      send(res, 200, answer.json, JSON_11);
    } catch (err) {
      const fault = fail(
        err,
        new AwsFault("InternalServiceError", 500, "An error occurred on the server side."),
      );
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
    if (!req.headers.authorization)
      throw new AwsFault("MissingAuthenticationToken", 403, "Request is missing Authentication Token");
    const auth = authenticate(state, req, body, "query", isSts ? "sts" : "iam", region, verifySignatures);
    const caller = auth.caller;
    if (isSts) {
      // GetCallerIdentity needs no permission: AWS answers it even under an explicit deny.
      if (action !== "GetCallerIdentity") {
        throw new AwsFault("InvalidAction", 400, `Could not find operation ${action} for version 2011-06-15`);
      }
      const principal = auth.principal;
      send(
        res,
        200,
        xmlDocument("GetCallerIdentityResponse", STS_NS, {
          GetCallerIdentityResult: {
            Arn: caller.arn,
            UserId:
              principal.kind === "user"
                ? principal.user.userId
                : principal.kind === "role"
                  ? `${principal.role.roleId}:${principal.session.sessionName}`
                  : state.accountId,
            Account: state.accountId,
          },
          ResponseMetadata: { RequestId: requestId() },
        }),
      );
      return;
    }
    if (!isIamOperation(action))
      throw new AwsFault("InvalidAction", 400, `Could not find operation ${action} for version 2010-05-08`);
    await auth.authorize(iamChecks(state, action, params, auth.principal), action);
    send(res, 200, handleIam(state, params, caller));
  } catch (err) {
    const fault = fail(err, new AwsFault("ServiceFailure", 500, "An internal error occurred.", "Receiver"));
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
  const ctx: ServerContext = {
    state,
    verifySignatures: opts.verifySignatures ?? true,
    dynamodb: opts.dynamodbEndpoint ? createDynamoDbProxy(opts.dynamodbEndpoint) : undefined,
    latencyMs: { iam: 0, s3control: 0 },
    broken: [],
  };
  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      // Never leave a client hanging; the stand-in's own bugs surface as 500s.
      if (!res.headersSent)
        send(
          res,
          500,
          xmlDocument("ErrorResponse", IAM_NS, { Error: { Code: "InternalError", Message: String(err) } }),
        );
    });
  });
  // No body limit here: DynamoDB batches it proxies may be large; the timeouts do apply.
  limitServer(server, { keepAliveTimeoutMs: 1000 });
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
    ...(opts.dynamodbEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: url } : {}),
    AWS_ACCESS_KEY_ID: LOCAL_ADMIN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_ADMIN_CREDENTIALS.secretAccessKey,
  };
  return {
    url,
    port,
    accountId,
    state,
    env,
    setLatency(latency) {
      Object.assign(ctx.latencyMs, latency);
    },
    observeDynamoDb(observer) {
      if (!ctx.dynamodb) throw new Error("startLocalAws({ dynamodbEndpoint }) serves no DynamoDB to observe");
      return ctx.dynamodb.observe(observer);
    },
    breakNextRequests(how, times = 1) {
      for (let i = 0; i < times; i++) ctx.broken.push(how);
    },
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
    addRole(roleName, policies, roleOpts = {}) {
      const path = roleOpts.path ?? "/";
      const key = roleName.toLowerCase();
      const existing = state.iam.roles.get(key);
      const role = existing ?? {
        roleName,
        roleId: iamId("AROA"),
        arn: `arn:aws:iam::${accountId}:role${path}${roleName}`,
        path,
        policies: new Map<string, string>(),
      };
      role.policies = new Map(Object.entries(policies).map(([n, doc]) => [n, JSON.stringify(doc)]));
      state.iam.roles.set(key, role);
      const sessionName = roleOpts.sessionName ?? roleName;
      const credentials: RoleCredentials = {
        accessKeyId: iamId("ASIA"),
        secretAccessKey: secretAccessKey(),
        sessionToken: noted("session token", randomBytes(48).toString("base64")),
      };
      state.iam.roleSessions.set(credentials.accessKeyId, { ...credentials, roleName, sessionName });
      return {
        arn: role.arn,
        sessionArn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
        credentials,
      };
    },
    envFor(credentials) {
      const out: Record<string, string> = {
        ...env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      };
      if (credentials.sessionToken) out.AWS_SESSION_TOKEN = credentials.sessionToken;
      return out;
    },
    stop: stopOnce(() => closeServer(server)),
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
