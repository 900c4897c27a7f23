/**
 * The one place that turns what went wrong in the service layer into text for admins (the FAILED
 * card), into plain words for the requester (their DM and `status`), into a kind (the scheduled job
 * reports each kind once), and decides whether trying again can help. AWS-layer and store messages carry no secrets;
 * anything unknown is reported by its name only, the details stay in the logs.
 */
import {
  AccessDeniedError,
  AwsLayerError,
  CredentialsError,
  LimitExceededError,
  NoSuchInstanceError,
  NoSuchLocationError,
  ServiceUnavailableError,
  ThrottledError,
  UserInOtherGroupError,
} from "../aws/errors.ts";
import { ScopeOutsideLocationError } from "../rules/grant-scope.ts";
import { InvalidSecretLinkInputError } from "../secret-link/issue.ts";
import { ForbiddenDataError, StoreError } from "../store/errors.ts";
import { ChangedAccessGoneError } from "./change.ts";
import { SlackNotifyError } from "./notifier.ts";
import { NoSuchRequestToProvisionError } from "./provision.ts";
import { LockBusyError } from "./user-lock.ts";
import { InvalidSlackIdError } from "./users.ts";

/** Slack answers that no retry fixes. */
const PERMANENT_SLACK_ERRORS = new Set([
  "not_authed",
  "invalid_auth",
  "account_inactive",
  "token_revoked",
  "missing_scope",
  "channel_not_found",
  "user_not_found",
  "cannot_dm_bot",
  "user_disabled",
]);

/**
 * InvalidRequestError stays retryable on purpose: IAM is eventually consistent, and right after
 * CreateUser, S3 Access Grants may refuse the new user's ARN as a grantee for a few seconds.
 */
export function isRetryable(err: unknown): boolean {
  if (
    err instanceof ScopeOutsideLocationError ||
    err instanceof NoSuchRequestToProvisionError ||
    err instanceof NoSuchLocationError ||
    err instanceof NoSuchInstanceError ||
    err instanceof AccessDeniedError ||
    err instanceof LimitExceededError ||
    err instanceof CredentialsError ||
    err instanceof InvalidSlackIdError ||
    err instanceof InvalidSecretLinkInputError ||
    err instanceof ForbiddenDataError ||
    err instanceof UserInOtherGroupError ||
    err instanceof ChangedAccessGoneError
  ) {
    return false;
  }
  if (err instanceof SlackNotifyError) return !PERMANENT_SLACK_ERRORS.has(err.slackError ?? "");
  return true;
}

/** One line for the admin card; never a secret, never a stack trace. `component` names whose role/logs. */
export function describeFailure(err: unknown, component = "provisioner"): string {
  if (err instanceof ScopeOutsideLocationError) return `${err.message}.`;
  if (err instanceof NoSuchInstanceError)
    return `${err.message}. Deploy the grants stack (cdk deploy) first.`;
  if (err instanceof AccessDeniedError) {
    return `AWS refused ${err.operation ?? "a call"}: the ${component}'s role lacks a permission (${err.message}).`;
  }
  if (err instanceof ThrottledError)
    return `AWS kept throttling ${err.operation ?? `the ${component}`}; retry later.`;
  if (err instanceof ServiceUnavailableError)
    return `AWS was unreachable during ${err.operation ?? "provisioning"}.`;
  if (err instanceof LimitExceededError) return `${err.message} (during ${err.operation ?? "provisioning"}).`;
  if (err instanceof AwsLayerError)
    return `${err.operation ?? "AWS call"} failed: ${err.message} (${err.code}).`;
  if (err instanceof SlackNotifyError) {
    return `Slack refused the message (${err.slackError ?? "no answer"}); check the bot token and its scopes.`;
  }
  if (err instanceof LockBusyError) return err.message;
  if (err instanceof ChangedAccessGoneError) return `${err.message}.`;
  if (err instanceof StoreError) return `DynamoDB: ${err.message}.`;
  if (err instanceof InvalidSlackIdError || err instanceof InvalidSecretLinkInputError)
    return `${err.message}.`;
  const name = err instanceof Error ? err.name : typeof err;
  return `Unexpected error (${name}); see the ${component} logs.`;
}

/**
 * What kind of failure it is, from a closed set: the scheduled job reports each kind once until it
 * works again (src/service/sweep-failures.ts), and the requester's words follow from it.
 */
export type FailureKind =
  | "aws-permission"
  | "aws-setup"
  | "aws-throttled"
  | "aws-unavailable"
  | "aws-other"
  | "slack"
  | "database"
  | "busy"
  | "unexpected";

const STORE_DENIED = new Set(["AccessDeniedException", "UnrecognizedClientException"]);
const STORE_THROTTLED = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
]);

export function failureKind(err: unknown): FailureKind {
  if (err instanceof AccessDeniedError || err instanceof CredentialsError) return "aws-permission";
  if (
    err instanceof NoSuchInstanceError ||
    err instanceof NoSuchLocationError ||
    err instanceof ScopeOutsideLocationError ||
    err instanceof LimitExceededError ||
    err instanceof UserInOtherGroupError
  )
    return "aws-setup";
  if (err instanceof ThrottledError) return "aws-throttled";
  if (err instanceof ServiceUnavailableError) return "aws-unavailable";
  if (err instanceof AwsLayerError) return "aws-other";
  if (err instanceof SlackNotifyError) return "slack";
  if (err instanceof LockBusyError) return "busy";
  if (err instanceof StoreError) {
    if (STORE_DENIED.has(err.code)) return "aws-permission";
    if (STORE_THROTTLED.has(err.code)) return "aws-throttled";
    return "database";
  }
  return "unexpected";
}

const REQUESTER_WORDS: Record<FailureKind, string> = {
  "aws-permission": "cytoskel's own AWS permissions need a fix by an admin",
  "aws-setup": "cytoskel's AWS setup needs a fix by an admin",
  "aws-throttled": "AWS was too busy to finish setting it up",
  "aws-unavailable": "AWS could not be reached while setting it up",
  "aws-other": "AWS refused one of the setup steps",
  slack: "Slack did not accept a message cytoskel had to send",
  database: "cytoskel's database could not be reached",
  busy: "another change to your access was still in progress",
  unexpected: "something unexpected went wrong on cytoskel's side",
};

/**
 * The reason in plain words for the requester (their DM and `/cytoskel status`): from a fixed list,
 * so no AWS or Slack text (ARNs, policy names, error messages) ever reaches them.
 */
export function describeFailureForRequester(err: unknown): string {
  return REQUESTER_WORDS[failureKind(err)];
}
