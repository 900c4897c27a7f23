// The Slack app manifest ("Create app from manifest"), built from the deployed request URL. Pure: the
// script in scripts/manifest.ts does the reading and writing.
import { SLACK_EVENTS_PATH, SLASH_COMMAND } from "./routes.ts";

export interface ManifestOptions {
  /** The stack's SlackRequestUrl output: https://…/slack/events */
  readonly requestUrl: string;
  readonly appName?: string;
  /** Admins also come from a Slack user group (ADMIN_USERGROUP_ID): needs usergroups:read. */
  readonly adminUserGroup?: boolean;
}

/**
 * Bot scopes, each for a call the bot makes:
 * - commands: the /cytoskel slash command;
 * - chat:write: admin-channel messages and their in-place updates, ephemeral receipts, and DMs (posting to a
 *   user ID lands in the app's DM, so im:write / conversations.open are not needed);
 * - usergroups:read: only with an admin user group (usergroups.users.list).
 * The App Home tab (app_home_opened + views.publish), modals (views.open) and the reminders' card links
 * (chat.getPermalink: its reference lists no scope) need none.
 */
export function botScopes(adminUserGroup: boolean): string[] {
  return ["commands", "chat:write", ...(adminUserGroup ? ["usergroups:read"] : [])];
}

export class ManifestInputError extends Error {
  override readonly name = "ManifestInputError";
}

/** Checks the request URL is the deployed Slack route over HTTPS; returns it normalised. */
export function checkRequestUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ManifestInputError(`not a URL: "${url}" (expected the stack's SlackRequestUrl output)`);
  }
  if (parsed.protocol !== "https:") {
    throw new ManifestInputError(`Slack only calls https:// URLs; got ${parsed.protocol}//`);
  }
  if (parsed.pathname !== SLACK_EVENTS_PATH || parsed.search || parsed.hash) {
    throw new ManifestInputError(
      `the request URL must end in ${SLACK_EVENTS_PATH} with no query (got path "${parsed.pathname}")`,
    );
  }
  return parsed.toString();
}

export function buildSlackManifest(options: ManifestOptions): Record<string, unknown> {
  const url = checkRequestUrl(options.requestUrl);
  const name = options.appName ?? "cytoskel";
  return {
    _metadata: { major_version: 2, minor_version: 1 },
    display_information: {
      name,
      description: "Request scoped, time-limited upload access to the Cell Painting Gallery staging bucket",
      background_color: "#2c2d30",
    },
    features: {
      app_home: { home_tab_enabled: true, messages_tab_enabled: true, messages_tab_read_only_enabled: true },
      bot_user: { display_name: name, always_online: false },
      slash_commands: [
        {
          command: SLASH_COMMAND,
          url,
          description: "Request, check or revoke access to staging bucket prefixes",
          usage_hint: "request prefix cpg0042/* [read|write|readwrite] [for 30d] [reason] | status | help",
          // Mentions arrive as <@U123|name>, so `revoke @user` names the user by ID, never by display name.
          should_escape: true,
        },
      ],
    },
    oauth_config: { scopes: { bot: botScopes(options.adminUserGroup ?? false) } },
    settings: {
      event_subscriptions: { request_url: url, bot_events: ["app_home_opened"] },
      interactivity: { is_enabled: true, request_url: url },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    },
  };
}

/** The SlackRequestUrl output from a `cdk deploy --outputs-file` JSON ({ stackName: { key: value } }). */
export function requestUrlFromOutputs(outputs: unknown, stackName: string): string {
  const stack = (outputs as Record<string, Record<string, unknown> | undefined> | null)?.[stackName];
  const url = stack?.SlackRequestUrl;
  if (typeof url !== "string") {
    throw new ManifestInputError(
      `no ${stackName}.SlackRequestUrl in the outputs file (deploy with --outputs-file)`,
    );
  }
  return url;
}
