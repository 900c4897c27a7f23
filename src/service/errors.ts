/**
 * The one place that turns what went wrong in the service layer into text for admins (the FAILED
 * card) and decides whether trying again can help. AWS-layer and store messages carry no secrets;
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

/** One line for the admin card; never a secret, never a stack trace. */
export function describeFailure(err: unknown): string {
  if (err instanceof ScopeOutsideLocationError) return `${err.message}.`;
  if (err instanceof NoSuchInstanceError)
    return `${err.message}. Deploy the grants stack (cdk deploy) first.`;
  if (err instanceof AccessDeniedError) {
    return `AWS refused ${err.operation ?? "a call"}: the provisioner's role lacks a permission (${err.message}).`;
  }
  if (err instanceof ThrottledError)
    return `AWS kept throttling ${err.operation ?? "the provisioner"}; retry later.`;
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
  return `Unexpected error (${name}); see the provisioner logs.`;
}
