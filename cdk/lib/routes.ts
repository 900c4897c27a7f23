// The HTTP routes the bot stack serves. The stack and the Slack manifest both read these, so the URLs
// pasted into Slack cannot drift from the routes that exist.

/** Slash commands, interactivity (buttons, modals) and events all arrive here, HMAC-signed by Slack. */
export const SLACK_EVENTS_PATH = "/slack/events";

/** One-time secret link: GET (and HEAD) shows the page (consumes nothing), POST consumes. */
export const SECRET_LINK_ROUTE = "/s/{id}";

/** Served by the secret-link function: `Disallow: /`, so crawlers that find a link leave it alone. */
export const ROBOTS_TXT_PATH = "/robots.txt";

/** The slash command the manifest registers and the bot parses. */
export const SLASH_COMMAND = "/cytoskel";

/** Joins an API base URL (with or without trailing slash) and a path starting with "/". */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}
