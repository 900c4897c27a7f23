// mapAwsError: SDK errors (shaped as SDK v3 throws them) become named errors with the original as cause.
import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  AlreadyExistsError,
  AwsLayerError,
  CredentialsError,
  DeleteConflictError,
  InvalidRequestError,
  LimitExceededError,
  mapAwsError,
  NoMatchingGrantError,
  NoSuchEntityError,
  NoSuchGrantError,
  NoSuchInstanceError,
  NoSuchLocationError,
  NoSuchUserError,
  ServiceUnavailableError,
  ThrottledError,
} from "../../src/aws/errors.ts";

function sdkError(name: string, message: string, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, ...extra });
}

describe("mapAwsError", () => {
  it.each([
    [
      sdkError("NoSuchEntityException", "x", { Code: "NoSuchEntity" }),
      { operation: "GetUser", userName: "bob" },
      NoSuchUserError,
    ],
    [
      sdkError("NoSuchEntityException", "x", { Code: "NoSuchEntity" }),
      { operation: "DeleteAccessKey", entity: "accessKey" },
      NoSuchEntityError,
    ],
    [
      sdkError("EntityAlreadyExistsException", "x", { Code: "EntityAlreadyExists" }),
      { operation: "CreateUser", entity: "user", userName: "bob" },
      AlreadyExistsError,
    ],
    [
      sdkError("DeleteConflictException", "x", { Code: "DeleteConflict" }),
      { operation: "DeleteUser" },
      DeleteConflictError,
    ],
    [
      sdkError("LimitExceededException", "x", { Code: "LimitExceeded" }),
      { operation: "CreateAccessKey" },
      LimitExceededError,
    ],
    [
      sdkError("NoSuchAccessGrantError", "x"),
      { operation: "GetAccessGrant", grantId: "g1" },
      NoSuchGrantError,
    ],
    [
      sdkError("NoSuchAccessGrantsLocationError", "x"),
      { operation: "CreateAccessGrant", locationId: "l1" },
      NoSuchLocationError,
    ],
    [
      sdkError("AccessGrantsInstanceNotExistsError", "x"),
      { operation: "ListAccessGrants", accountId: "1" },
      NoSuchInstanceError,
    ],
    [sdkError("AccessGrantAlreadyExists", "x"), { operation: "CreateAccessGrant" }, AlreadyExistsError],
    [
      sdkError("AccessGrantsLocationNotEmptyError", "x"),
      { operation: "DeleteAccessGrantsLocation" },
      DeleteConflictError,
    ],
    [sdkError("InvalidAccessGrant", "x"), { operation: "CreateAccessGrant" }, InvalidRequestError],
    [
      sdkError("MalformedPolicyDocumentException", "x", { Code: "MalformedPolicyDocument" }),
      { operation: "PutGroupPolicy" },
      InvalidRequestError,
    ],
    [sdkError("ThrottlingException", "slow down"), { operation: "ListUsers" }, ThrottledError],
    [
      sdkError("Unknown", "x", { $metadata: { httpStatusCode: 429 } }),
      { operation: "ListUsers" },
      ThrottledError,
    ],
    [sdkError("InvalidClientTokenId", "bad token"), { operation: "GetCallerIdentity" }, CredentialsError],
    [
      sdkError("CredentialsProviderError", "Could not load credentials from any providers"),
      { operation: "GetCallerIdentity" },
      CredentialsError,
    ],
    [
      sdkError("AccessDenied", "User: arn is not authorized to perform: iam:ListUsers"),
      { operation: "ListUsers" },
      AccessDeniedError,
    ],
    [
      sdkError("AccessDenied", "You do not have READ permissions to the requested S3 Prefix: s3://b/p/*"),
      { operation: "GetDataAccess", target: "s3://b/p/*", permission: "READ" },
      NoMatchingGrantError,
    ],
    [
      sdkError("AccessDenied", "User: u is not authorized to perform: s3:GetDataAccess on resource: r"),
      { operation: "GetDataAccess" },
      AccessDeniedError,
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
      { operation: "ListUsers" },
      ServiceUnavailableError,
    ],
    [
      sdkError("InternalError", "boom", { $metadata: { httpStatusCode: 500 } }),
      { operation: "ListUsers" },
      ServiceUnavailableError,
    ],
  ])("maps %s to the named error", (err, ctx, Expected) => {
    const mapped = mapAwsError(err, ctx);
    expect(mapped).toBeInstanceOf(Expected);
    expect(mapped.cause).toBe(err);
    expect(mapped.operation).toBe(ctx.operation);
  });

  it("keeps AWS's code and names the user in NoSuchUserError", () => {
    const mapped = mapAwsError(sdkError("NoSuchEntityException", "x", { Code: "NoSuchEntity" }), {
      operation: "GetUser",
      userName: "bob",
    });
    expect(mapped).toMatchObject({ name: "NoSuchUserError", code: "NoSuchEntity", userName: "bob" });
    expect(mapped.message).toBe("IAM user bob does not exist");
  });

  it("wraps an unknown error in AwsLayerError carrying its code and message", () => {
    const mapped = mapAwsError(sdkError("SomethingNew", "brand new failure"), { operation: "ListUsers" });
    expect(mapped.constructor).toBe(AwsLayerError);
    expect(mapped.code).toBe("SomethingNew");
    expect(mapped.message).toBe("ListUsers failed: SomethingNew: brand new failure");
  });

  it("passes an already-mapped error through unchanged", () => {
    const named = new NoSuchGrantError("g1");
    expect(mapAwsError(named, { operation: "DeleteAccessGrant" })).toBe(named);
  });
});
