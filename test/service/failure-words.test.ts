// src/service/errors.ts for people who are not admins: every failure has a kind from a fixed set, and
// the requester's words come from that kind alone, so no AWS, Slack or DynamoDB text (ARNs, actions,
// error messages) can reach them.
import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  InvalidRequestError,
  NoSuchLocationError,
  ServiceUnavailableError,
  ThrottledError,
} from "../../src/aws/errors.ts";
import { describeFailure, describeFailureForRequester, failureKind } from "../../src/service/errors.ts";
import { SlackNotifyError } from "../../src/service/notifier.ts";
import { LockBusyError } from "../../src/service/user-lock.ts";
import { StoreAccessError } from "../../src/store/errors.ts";

const RAW =
  "User: arn:aws:sts::111122223333:assumed-role/CytoskelBot-ExpiryRole/fn is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111122223333:user/cytoskel/";
const sdk = (name: string) => Object.assign(new Error(RAW), { name, $metadata: { httpStatusCode: 400 } });

describe("failure kinds and the requester's words", () => {
  it.each([
    [new AccessDeniedError(RAW, { operation: "ListUsers" }), "aws-permission"],
    [new StoreAccessError("get request", sdk("AccessDeniedException")), "aws-permission"],
    [new NoSuchLocationError("loc-1"), "aws-setup"],
    [new ThrottledError({ operation: "CreateAccessGrant" }), "aws-throttled"],
    [new StoreAccessError("list by status", sdk("ProvisionedThroughputExceededException")), "aws-throttled"],
    [new ServiceUnavailableError(RAW, { operation: "CreateUser" }), "aws-unavailable"],
    [new InvalidRequestError(RAW, { operation: "CreateAccessGrant" }), "aws-other"],
    [new SlackNotifyError("dmUser", "channel_not_found"), "slack"],
    [new StoreAccessError("record attempt", sdk("InternalServerError")), "database"],
    [new LockBusyError("PERSON#U1"), "busy"],
    [new Error(RAW), "unexpected"],
  ])("%s is %s, and the requester reads none of its text", (err, kind) => {
    expect(failureKind(err)).toBe(kind);
    const words = describeFailureForRequester(err);
    expect(words.length).toBeGreaterThan(10);
    for (const raw of ["arn:", "not authorized", "iam:", "ListUsers", "channel_not_found", "Exception"]) {
      expect(words).not.toContain(raw);
    }
  });

  it("the admins' words name the component whose role lacks the permission", () => {
    const err = new AccessDeniedError(RAW, { operation: "ListUsers" });
    expect(describeFailure(err)).toContain("the provisioner's role lacks a permission");
    expect(describeFailure(err, "expiry job")).toContain("the expiry job's role lacks a permission");
    expect(describeFailure(err, "expiry job")).toContain("iam:ListUsers");
  });
});
