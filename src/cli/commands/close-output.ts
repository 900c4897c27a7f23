// How `close prefix` prints (kept apart from close.ts so the formatter loads no Slack or store code).
import type { PrefixClosedResult } from "./close.ts";

export const SLACK_TOKEN_ENV = "SLACK_BOT_TOKEN";
export const ADMIN_CHANNEL_ENV = "CYTOSKEL_ADMIN_CHANNEL_ID";

/** Lines for people: who had access, what was revoked, what failed, and whether anyone was told. */
export function closedLines(r: PrefixClosedResult): { stdout: string[]; stderr: string[] } {
  const s3 = (p: string) => `s3://${r.bucket}/${p}`;
  const out: string[] = [`Closed ${s3(r.prefix)}`];
  if (r.people.length === 0 && r.otherGrants.length === 0) out.push("Nobody had access at or under it.");
  for (const p of r.people) {
    out.push(
      `Person: ${p.userId}, Had: ${p.scopes.join(" ")}, Revoked: ${p.revoked.join(" ") || "-"}` +
        `, Requests ended: ${p.endedRequestIds.join(" ") || "-"}, Grants deleted: ${p.deletedGrantIds.join(" ") || "-"}` +
        (p.userDeleted ? ", IAM user deleted" : ""),
    );
  }
  for (const g of r.otherGrants)
    out.push(
      `Grant ID: ${g.grantId}, Grantee: ${g.granteeArn}, Scope: ${g.scope}, Permission: ${g.permission}, ${g.deleted ? "deleted" : "NOT deleted"}`,
    );
  const err: string[] = r.failures.map(
    (f) => `Failed: ${f.userId ?? `grant ${f.grantId}`}${f.scope ? ` on ${f.scope}` : ""}: ${f.reason}`,
  );
  if (r.failures.length > 0) err.push("Running the close again is safe and finishes what is left.");
  if (!r.slackNotified && r.people.some((p) => p.revoked.length > 0))
    err.push(
      `Nobody was told in Slack (set ${SLACK_TOKEN_ENV} and ${ADMIN_CHANNEL_ENV} to DM people and post the summary): tell ${r.people
        .filter((p) => p.revoked.length > 0)
        .map((p) => p.userId)
        .join(", ")} yourself.`,
    );
  return { stdout: out, stderr: err };
}
