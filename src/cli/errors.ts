// The one place that turns errors into what a CLI user sees: one line on stderr and an exit code.
// Exit 2 = the command line was wrong (nothing was sent to AWS); exit 1 = the request failed.

import {
  AccessDeniedError,
  AlreadyExistsError,
  AwsLayerError,
  CredentialsError,
  InvalidDurationError,
  InvalidRequestError,
  NoMatchingGrantError,
  NoSuchEntityError,
  NoSuchGrantError,
  NoSuchInstanceError,
  NoSuchLocationError,
  NoSuchUserError,
  ServiceUnavailableError,
  ThrottledError,
} from "../aws/errors.ts";
import { UnknownTargetError } from "../config/targets.ts";
import { InvalidPermissionError } from "../rules/permission.ts";
import { InvalidPrefixError } from "../rules/prefix.ts";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line itself was wrong; the message says what and what is allowed. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A request that reached AWS (or the local machine) could not be done; the message says why. */
export class CliFailure extends Error {
  override readonly name = "CliFailure";
}

/** Help or version was shown on request: not an error, just stop with this code. */
export class HelpShown extends Error {
  override readonly name = "HelpShown";
  constructor(readonly exitCode: number) {
    super("help shown");
  }
}

export interface ErrorHints {
  /** e.g. "cytoskel cpgstaging" — used in "see …" advice. */
  commandPrefix?: string;
  /** Region the request went to, and the region the target lives in. */
  region?: string;
  targetRegion?: string;
  /** A contributor asking for credentials (not an operator): hints about their keys, not about deploying. */
  contributor?: boolean;
}

export interface ErrorReport {
  message: string;
  exitCode: number;
}

const USAGE_ERRORS = [
  UsageError,
  InvalidPrefixError,
  InvalidPermissionError,
  UnknownTargetError,
  InvalidDurationError,
];

export function describeError(err: unknown, hints: ErrorHints = {}): ErrorReport {
  const cmd = hints.commandPrefix ?? "cytoskel cpgstaging";
  if (err instanceof InvalidDurationError) {
    return {
      message: `invalid --duration: ${err.durationSeconds} seconds; allowed: ${err.min}-${err.max} seconds (15m to 12h)`,
      exitCode: EXIT_USAGE,
    };
  }
  if (USAGE_ERRORS.some((type) => err instanceof type)) {
    return { message: (err as Error).message, exitCode: EXIT_USAGE };
  }
  if (err instanceof CliFailure) return { message: err.message, exitCode: EXIT_FAILURE };
  if (err instanceof AwsLayerError)
    return { message: describeAwsError(err, cmd, hints), exitCode: EXIT_FAILURE };
  const text = err instanceof Error ? err.message : String(err);
  return {
    message: `unexpected error: ${text} (run again with --debug for details)`,
    exitCode: EXIT_FAILURE,
  };
}

function describeAwsError(err: AwsLayerError, cmd: string, hints: ErrorHints): string {
  if (err instanceof NoSuchUserError) {
    return `IAM user "${err.userName}" does not exist (see "${cmd} list user")`;
  }
  if (err instanceof NoSuchGrantError) {
    return `access grant "${err.grantId}" does not exist (see "${cmd} list grant")`;
  }
  if (err instanceof NoSuchLocationError) {
    return `Access Grants location "${err.locationId}" does not exist (see "${cmd} list location")`;
  }
  if (err instanceof NoSuchInstanceError) {
    const where = hints.region ? ` in region ${hints.region}` : "";
    if (hints.targetRegion && hints.region && hints.region !== hints.targetRegion) {
      return (
        `no S3 Access Grants instance for account ${err.accountId}${where}: wrong region? ` +
        `the grants live in ${hints.targetRegion} (check AWS_REGION / --region)`
      );
    }
    if (hints.contributor) {
      return (
        `no S3 Access Grants instance for account ${err.accountId}${where}: ` +
        "are these the keys you received for the staging bucket (check AWS_PROFILE)?"
      );
    }
    return `no S3 Access Grants instance for account ${err.accountId}${where}; deploy it first ("${cmd} up")`;
  }
  if (err instanceof NoMatchingGrantError) {
    return (
      `no access grant gives you ${err.permission} on ${err.target}: ask an admin for one, or check ` +
      "--prefix and --permission (a READ or WRITE grant does not give READWRITE)"
    );
  }
  if (err instanceof CredentialsError) {
    return (
      `AWS rejected the credentials (${detail(err)}): the keys are wrong, deactivated or expired; ` +
      "check AWS_PROFILE and ~/.aws/credentials, and unset AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/" +
      "AWS_SESSION_TOKEN left from an earlier session"
    );
  }
  if (err instanceof AccessDeniedError) {
    // IAM judges a call before the service looks anything up, so in the wrong region the answer is
    // AccessDenied on that region's instance ARN, not "no instance".
    if (hints.targetRegion && hints.region && hints.region !== hints.targetRegion) {
      return `${err.message} (wrong region? the grants live in ${hints.targetRegion}: check AWS_REGION / --region)`;
    }
    return `${err.message} (are you using the right AWS_PROFILE?)`;
  }
  if (err instanceof AlreadyExistsError) return `${err.resource} already exists`;
  if (err instanceof ThrottledError) return err.message;
  if (err instanceof ServiceUnavailableError)
    return `${err.message} (check your network or AWS_ENDPOINT_URL_*)`;
  if (err instanceof NoSuchEntityError || err instanceof InvalidRequestError) return err.message;
  return err.message;
}

function detail(err: Error): string {
  return err.message.replace(/^AWS credentials problem: /, "");
}
