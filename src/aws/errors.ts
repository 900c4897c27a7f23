// Named errors for the AWS layer. SDK errors are turned into these at the adapter boundary, so nothing
// above src/aws ever inspects SDK error names or HTTP statuses. Messages never contain secrets.

export interface AwsLayerErrorOptions {
  /** Stable code: the AWS error code when there was one, else our own. */
  code: string;
  cause?: unknown;
  /** AWS operation that failed, e.g. "DeleteUser". */
  operation?: string;
}

export class AwsLayerError extends Error {
  override name = "AwsLayerError";
  readonly code: string;
  readonly operation: string | undefined;
  constructor(message: string, options: AwsLayerErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.operation = options.operation;
  }
}

type Opts = Omit<AwsLayerErrorOptions, "code"> & { code?: string };

export class NoSuchUserError extends AwsLayerError {
  override name = "NoSuchUserError";
  constructor(
    readonly userName: string,
    options: Opts = {},
  ) {
    super(`IAM user ${userName} does not exist`, { code: "NoSuchEntity", ...options });
  }
}

/** An IAM entity other than a user (group, policy, access key, login profile) does not exist. */
export class NoSuchEntityError extends AwsLayerError {
  override name = "NoSuchEntityError";
  constructor(
    readonly entity: string,
    options: Opts & { detail?: string } = {},
  ) {
    super(options.detail ?? `${entity} does not exist`, { code: "NoSuchEntity", ...options });
  }
}

export class NoSuchGrantError extends AwsLayerError {
  override name = "NoSuchGrantError";
  constructor(
    readonly grantId: string,
    options: Opts = {},
  ) {
    super(`Access grant ${grantId} does not exist`, { code: "NoSuchAccessGrantError", ...options });
  }
}

export class NoSuchLocationError extends AwsLayerError {
  override name = "NoSuchLocationError";
  constructor(
    readonly locationId: string,
    options: Opts = {},
  ) {
    super(`Access Grants location ${locationId} does not exist`, {
      code: "NoSuchAccessGrantsLocationError",
      ...options,
    });
  }
}

export class NoSuchInstanceError extends AwsLayerError {
  override name = "NoSuchInstanceError";
  constructor(
    readonly accountId: string,
    options: Opts = {},
  ) {
    super(`No S3 Access Grants instance exists for account ${accountId} in this region`, {
      code: "AccessGrantsInstanceNotExistsError",
      ...options,
    });
  }
}

export class AlreadyExistsError extends AwsLayerError {
  override name = "AlreadyExistsError";
  constructor(
    readonly resource: string,
    options: Opts = {},
  ) {
    super(`${resource} already exists`, { code: "EntityAlreadyExists", ...options });
  }
}

export class DeleteConflictError extends AwsLayerError {
  override name = "DeleteConflictError";
  constructor(
    readonly resource: string,
    options: Opts & { detail?: string } = {},
  ) {
    super(options.detail ?? `${resource} cannot be deleted while it still has attached resources`, {
      code: "DeleteConflict",
      ...options,
    });
  }
}

/**
 * A cytoskel user is also in a group other than the uploaders group. The bot's roles may take users
 * out of the uploaders group only, so deleting the user would stop half-way (and DeleteUser would
 * answer DeleteConflict): nothing was deleted, and the blocking groups are named.
 */
export class UserInOtherGroupError extends DeleteConflictError {
  override name = "UserInOtherGroupError";
  constructor(
    readonly userName: string,
    readonly groups: readonly string[],
    readonly uploadersGroup: string,
    options: Opts = {},
  ) {
    const these = groups.length === 1 ? "that group" : "those groups";
    super(`IAM user ${userName}`, {
      detail:
        `IAM user ${userName} is also in ${groups.length === 1 ? "group" : "groups"} ${groups.join(", ")}, ` +
        `which blocks its deletion: cytoskel may only remove it from ${uploadersGroup}, so nothing was deleted. ` +
        `Remove it from ${these} (or delete it with the admin CLI), then retry.`,
      code: "UserInOtherGroup",
      ...options,
    });
  }
}

export class AccessDeniedError extends AwsLayerError {
  override name = "AccessDeniedError";
  constructor(detail: string, options: Opts = {}) {
    super(`Access denied: ${detail}`, { code: "AccessDenied", ...options });
  }
}

export class ThrottledError extends AwsLayerError {
  override name = "ThrottledError";
  constructor(options: Opts = {}) {
    super("AWS throttled the request; try again shortly", { code: "Throttling", ...options });
  }
}

export class LimitExceededError extends AwsLayerError {
  override name = "LimitExceededError";
  constructor(detail: string, options: Opts = {}) {
    super(`AWS limit exceeded: ${detail}`, { code: "LimitExceeded", ...options });
  }
}

/** The request itself was refused as invalid (e.g. a grant outside every registered location). */
export class InvalidRequestError extends AwsLayerError {
  override name = "InvalidRequestError";
  constructor(detail: string, options: Opts = {}) {
    super(detail, { code: "InvalidRequest", ...options });
  }
}

/** Checked before any call: GetDataAccess accepts 900..43200 seconds only. */
export class InvalidDurationError extends InvalidRequestError {
  override name = "InvalidDurationError";
  constructor(
    readonly durationSeconds: number,
    readonly min: number,
    readonly max: number,
  ) {
    super(`Duration must be between ${min} and ${max} seconds (got ${durationSeconds})`, {
      code: "InvalidDuration",
    });
  }
}

/** GetDataAccess found no grant for the caller that covers the target with the permission asked for. */
export class NoMatchingGrantError extends AwsLayerError {
  override name = "NoMatchingGrantError";
  constructor(
    readonly target: string,
    readonly permission: string,
    options: Opts = {},
  ) {
    super(`No access grant gives you ${permission} on ${target}`, { code: "AccessDenied", ...options });
  }
}

/** The credentials were missing, unknown, expired or signed wrongly. */
export class CredentialsError extends AwsLayerError {
  override name = "CredentialsError";
  constructor(detail: string, options: Opts = {}) {
    super(`AWS credentials problem: ${detail}`, { code: "InvalidCredentials", ...options });
  }
}

/** AWS (or the configured endpoint) could not be reached or failed internally. */
export class ServiceUnavailableError extends AwsLayerError {
  override name = "ServiceUnavailableError";
  constructor(detail: string, options: Opts = {}) {
    super(`AWS service unavailable: ${detail}`, { code: "ServiceUnavailable", ...options });
  }
}

/** What was being done when an SDK error arrived; used to pick the named error and its data. */
export interface ErrorContext {
  operation: string;
  /** How to name the thing in "already exists" / "cannot be deleted" messages, when the IDs below do not. */
  resource?: string;
  /** The kind of IAM entity an IAM NoSuchEntity/EntityAlreadyExists/DeleteConflict refers to. */
  entity?: "user" | "group" | "accessKey" | "policy" | "loginProfile" | string;
  userName?: string;
  groupName?: string;
  grantId?: string;
  locationId?: string;
  accountId?: string;
  target?: string;
  permission?: string;
}

interface SdkLikeError {
  name?: string;
  /** Query and REST-XML errors carry AWS's own code here; `name` is the SDK class ("NoSuchEntityException"). */
  Code?: string;
  Error?: { Code?: string };
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

function describe(ctx: ErrorContext): string {
  if (ctx.resource) return ctx.resource;
  if (ctx.entity === "user" && ctx.userName) return `IAM user ${ctx.userName}`;
  if (ctx.entity === "group" && ctx.groupName) return `IAM group ${ctx.groupName}`;
  if (ctx.grantId) return `access grant ${ctx.grantId}`;
  if (ctx.locationId) return `Access Grants location ${ctx.locationId}`;
  return ctx.entity ?? ctx.operation;
}

const THROTTLE_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "SlowDown",
  "RequestThrottled",
  "RequestThrottledException",
]);
const CREDENTIAL_CODES = new Set([
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidAccessKeyId",
  "InvalidToken",
  "UnrecognizedClientException",
  "CredentialsProviderError",
  "IncompleteSignature",
]);
const INVALID_CODES = new Set([
  "InvalidAccessGrant",
  "InvalidAccessGrantsLocation",
  "InvalidIamRole",
  "InvalidInput",
  "InvalidRequest",
  "InvalidParameterValue",
  "ValidationError",
  "ValidationException",
  "MalformedPolicyDocument",
  "MalformedPolicyDocumentException",
  "InvalidInputException",
  "InvalidTag",
  "InvalidTags",
  "TooManyTags",
  "StsValidationError",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "TimeoutError",
]);

/**
 * Turn anything thrown by an SDK call into a named AwsLayerError (the original is kept as `cause`).
 * Already-mapped errors pass through unchanged.
 */
export function mapAwsError(err: unknown, ctx: ErrorContext): AwsLayerError {
  if (err instanceof AwsLayerError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkLikeError;
  const code =
    (typeof e.Code === "string" && e.Code) ||
    (typeof e.Error?.Code === "string" && e.Error.Code) ||
    (e.name && e.name !== "Error" ? e.name : (e.code ?? "Unknown"));
  const status = e.$metadata?.httpStatusCode;
  const awsMessage = typeof e.message === "string" ? e.message : String(err);
  const base = { cause: err, operation: ctx.operation, code };

  switch (code) {
    case "NoSuchEntity":
    case "NoSuchEntityException":
      if ((ctx.entity === undefined || ctx.entity === "user") && ctx.userName) {
        return new NoSuchUserError(ctx.userName, base);
      }
      if (ctx.entity === "group" && ctx.groupName) {
        return new NoSuchEntityError(`IAM group ${ctx.groupName}`, base);
      }
      return new NoSuchEntityError(describe(ctx), { ...base, detail: awsMessage });
    case "NoSuchAccessGrantError":
      return new NoSuchGrantError(ctx.grantId ?? "(unknown)", base);
    case "NoSuchAccessGrantsLocationError":
      return new NoSuchLocationError(ctx.locationId ?? "(unknown)", base);
    case "AccessGrantsInstanceNotExistsError":
      return new NoSuchInstanceError(ctx.accountId ?? "(unknown)", base);
    case "EntityAlreadyExists":
    case "EntityAlreadyExistsException":
    case "AccessGrantAlreadyExists":
    case "AccessGrantsInstanceAlreadyExists":
    case "AccessGrantsLocationAlreadyExistsError":
      return new AlreadyExistsError(describe(ctx), base);
    case "DeleteConflict":
    case "DeleteConflictException":
    case "AccessGrantsInstanceNotEmptyError":
    case "AccessGrantsLocationNotEmptyError":
      return new DeleteConflictError(describe(ctx), { ...base, detail: awsMessage });
    case "LimitExceeded":
    case "LimitExceededException":
    case "AccessGrantsQuotaExceededError":
    case "AccessGrantsLocationsQuotaExceededError":
      return new LimitExceededError(awsMessage, base);
    case "AccessDenied":
    case "AccessDeniedException":
    case "UnauthorizedOperation":
    case "UnauthorizedAccess":
      // GetDataAccess answers AccessDenied both when no grant matches and when the caller lacks the
      // IAM permission s3:GetDataAccess; only the latter names the action.
      if (ctx.operation === "GetDataAccess" && !/not authorized to perform/i.test(awsMessage)) {
        return new NoMatchingGrantError(ctx.target ?? "(unknown)", ctx.permission ?? "(unknown)", base);
      }
      return new AccessDeniedError(awsMessage, base);
  }
  if (THROTTLE_CODES.has(code) || status === 429) return new ThrottledError(base);
  if (CREDENTIAL_CODES.has(code)) return new CredentialsError(awsMessage, base);
  if (INVALID_CODES.has(code)) return new InvalidRequestError(awsMessage, base);
  if (NETWORK_CODES.has(code) || (status !== undefined && status >= 500) || e.$fault === "server") {
    return new ServiceUnavailableError(awsMessage, base);
  }
  return new AwsLayerError(`${ctx.operation} failed: ${code}: ${awsMessage}`, base);
}

/** Throttling codes the SDK's standard retry mode retries besides THROTTLE_CODES (DynamoDB's among them). */
const SDK_ONLY_THROTTLE_CODES = new Set([
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "BandwidthLimitExceeded",
  "PriorRequestNotComplete",
  "ThrottledException",
  "EC2ThrottledException",
]);

/**
 * Whether the SDK's own retries (standard mode, `maxAttempts` of src/aws/clients.ts) already covered
 * `err`, or the SDK error it wraps (`cause`, a few levels deep): throttling, 5xx, timeouts and connection
 * errors, i.e. what becomes ThrottledError or ServiceUnavailableError. A retry loop above the SDK leaves
 * these alone, so its tries do not multiply the SDK's (src/runtime/retry.ts states the budget).
 */
export function retriedBySdk(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    if (e instanceof ThrottledError || e instanceof ServiceUnavailableError) return true;
    if (!(e instanceof AwsLayerError) && "$metadata" in e) {
      const mapped = mapAwsError(e, { operation: "" });
      if (mapped instanceof ThrottledError || mapped instanceof ServiceUnavailableError) return true;
      if (SDK_ONLY_THROTTLE_CODES.has(mapped.code)) return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
