// Hostile text for the escaping tests (test/slack/hostile-text.test.ts, the flows in
// test/provisioner/jobs.test.ts), and the check that none of it reaches Slack live.
import { expect } from "vitest";

/** Each a live control sequence in mrkdwn: a ping, a mention, a channel or group link, a disguised link. */
export const LIVE = [
  "<!channel>",
  "<!here>",
  "<!everyone>",
  "<@UEVIL1>",
  "<#CEVIL1>",
  "<!subteam^SEVIL1>",
  "<https://evil.example|Re-approve here>",
];
/** What an attacker types: the live sequences and some formatting. IDs and host are ones no builder makes,
 *  so a builder's own mentions of validated IDs never match. */
export const HOSTILE = `${LIVE.join(" ")} *bold*`;
/** An already-escaped form typed as such: it must reach Slack with its `&` escaped too, or it would read
 *  as a real-looking `<!channel>`. (Not for slash commands: Slack's own escaping turns it into `<!channel>`.) */
export const TYPED_ENTITIES = "&lt;!channel&gt; &amp;";

/** Data Slack hands back with a click or submission and never shows (it carries the typed text as data). */
const NOT_SHOWN = new Set(["value", "private_metadata"]);

/** Every string Slack may show or notify with: `text` fallbacks, mrkdwn and plain_text alike. */
export function shownText(v: unknown): string {
  const walk = (x: unknown): string[] => {
    if (typeof x === "string") return [x];
    if (Array.isArray(x)) return x.flatMap(walk);
    if (x && typeof x === "object")
      return Object.entries(x).flatMap(([k, y]) => (NOT_SHOWN.has(k) ? [] : walk(y)));
    return [];
  };
  return walk(v).join("\n");
}

/** No live sequence from HOSTILE (nor TYPED_ENTITIES unescaped) anywhere Slack shows `sent`. */
export function expectInert(sent: unknown): void {
  const shown = shownText(sent);
  for (const live of [...LIVE, "<https://evil.example", TYPED_ENTITIES])
    expect(shown, live).not.toContain(live);
}
