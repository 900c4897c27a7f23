// One formatter: every command returns data; this turns it into lines for people or one JSON document.
// Listings (`list user`, `list grant`) are written page by page instead (src/cli/listing.ts).
// Human lines keep the original tool's wording so existing runbooks still match.

import type { PrefixClosedResult } from "./commands/close.ts";
import { closedLines } from "./commands/close-output.ts";
import type { CredentialsResult } from "./commands/credentials.ts";
import type { GrantCreatedResult, GrantDeletedResult, GrantItem } from "./commands/grants.ts";
import type { LocationsResult } from "./commands/locations.ts";
import type { SyncResult } from "./commands/sync.ts";
import { syncLines } from "./commands/sync-output.ts";
import type { UpResult } from "./commands/up.ts";
import type { UserCreatedResult, UserDeletedResult } from "./commands/users.ts";

export type CommandResult =
  | LocationsResult
  | UserCreatedResult
  | UserDeletedResult
  | GrantCreatedResult
  | GrantDeletedResult
  | UpResult
  | CredentialsResult
  | PrefixClosedResult
  | SyncResult;

export interface Rendered {
  stdout: string;
  /** Notes for people that must not mix with data on stdout. */
  stderr: string;
}

export function render(result: CommandResult, json: boolean): Rendered {
  if (result.kind === "credentials") return renderCredentials(result, json);
  if (json) {
    const { kind: _kind, ...data } = result;
    return { stdout: `${JSON.stringify(data, null, 2)}\n`, stderr: "" };
  }
  return { stdout: lines(humanLines(result)), stderr: lines(humanNotes(result)) };
}

const lines = (items: string[]): string => items.map((l) => `${l}\n`).join("");

export function grantLine(g: GrantItem): string {
  return `Grant ID: ${g.id}, Grantee: ${g.granteeArn}, Scope: ${g.scope}, Permission: ${g.permission}`;
}

function humanLines(result: Exclude<CommandResult, CredentialsResult>): string[] {
  switch (result.kind) {
    case "locations":
      return result.locations.map((l) => `Location: ${l.scope}, ID: ${l.id}`);
    case "user-created":
      return [
        `Created user ARN: ${result.user.arn}`,
        `Added to group: ${result.group}`,
        `Access key ID: ${result.accessKeyId}`,
        `Secret access key: ${result.secretAccessKey}`,
        "Store the secret access key now (e.g. in the user's ~/.aws/credentials under [cpg_staging]) and " +
          "hand it over privately: it is shown only this once and cannot be retrieved again.",
      ];
    case "user-deleted":
      return [
        ...result.deletedGrantIds.map((id) => `Deleted grant with ID: ${id}`),
        `User with username: ${result.userName} is deleted`,
      ];
    case "grant-created":
      return [`Created grant with ARN: ${result.grant.arn}`, grantLine(result.grant)];
    case "grant-deleted":
      return [`Deleted grant with ID: ${result.grantId}`];
    case "up":
      return [`Deployed ${result.target}: ${result.command.join(" ")}`];
    case "prefix-closed":
      return closedLines(result).stdout;
    case "sync":
      return syncLines(result).stdout;
  }
}

function humanNotes(result: Exclude<CommandResult, CredentialsResult>): string[] {
  switch (result.kind) {
    case "locations":
      return result.locations.length === 0
        ? [`No Access Grants location registered for s3://${result.bucket}/ (deploy with "up" first).`]
        : [];
    case "user-created":
      return result.groupOtherPolicies.length > 0
        ? [
            `Warning: group ${result.group} has other policies besides GetDataAccess ` +
              `(${result.groupOtherPolicies.join(", ")}); its members' keys are worth more than they should be.`,
          ]
        : [];
    case "prefix-closed":
      return closedLines(result).stderr;
    case "sync":
      return syncLines(result).stderr;
    case "grant-created":
    case "grant-deleted":
    case "user-deleted":
      return result.books.note ? [result.books.note] : [];
    default:
      return [];
  }
}

const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

function renderCredentials(result: CredentialsResult, json: boolean): Rendered {
  const format = json ? "json" : result.format;
  if (format === "credential-process") {
    // Exactly what the AWS CLI/SDKs expect from a credential_process command.
    const doc = {
      Version: 1,
      AccessKeyId: result.accessKeyId,
      SecretAccessKey: result.secretAccessKey,
      SessionToken: result.sessionToken,
      Expiration: result.expiration,
    };
    return { stdout: `${JSON.stringify(doc)}\n`, stderr: "" };
  }
  if (format === "json") {
    // Same shape as `aws s3control get-data-access`, so scripts can use either.
    const doc = {
      Credentials: {
        AccessKeyId: result.accessKeyId,
        SecretAccessKey: result.secretAccessKey,
        SessionToken: result.sessionToken,
        Expiration: result.expiration,
      },
      MatchedGrantTarget: result.matchedGrantTarget,
    };
    return { stdout: `${JSON.stringify(doc, null, 2)}\n`, stderr: "" };
  }
  return {
    stdout: lines([
      `export AWS_ACCESS_KEY_ID=${shellQuote(result.accessKeyId)}`,
      `export AWS_SECRET_ACCESS_KEY=${shellQuote(result.secretAccessKey)}`,
      `export AWS_SESSION_TOKEN=${shellQuote(result.sessionToken)}`,
    ]),
    stderr: lines([`Credentials for ${result.matchedGrantTarget} valid until ${result.expiration}.`]),
  };
}
