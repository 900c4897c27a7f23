// How `sync` prints (kept apart from sync.ts so the formatter loads no AWS or store code).
import type { SyncResult } from "./sync.ts";

/** Lines for people: the drift, then what --fix did. */
export function syncLines(r: SyncResult): { stdout: string[]; stderr: string[] } {
  const out: string[] = [];
  for (const x of r.recordsWithoutGrant)
    out.push(
      `Record without grant: request ${x.requestId}, Person: ${x.userId}, Scope: ${x.scope}, Grant: ${x.grantId ?? "none recorded"}`,
    );
  for (const g of r.grantsWithoutRecord)
    out.push(
      `Grant without record: Grant ID: ${g.grantId}, Person: ${g.userId}, Scope: ${g.scope}, Permission: ${g.permission}`,
    );
  for (const g of r.handMadeGrants)
    out.push(
      `Hand-made grant (not in the books, left alone): Grant ID: ${g.grantId}, Grantee: ${g.granteeArn}, Scope: ${g.scope}, Permission: ${g.permission}`,
    );
  out.push(...r.done);
  const drift = r.recordsWithoutGrant.length + r.grantsWithoutRecord.length;
  const err = r.failures.map((f) => `Failed: ${f}`);
  if (drift === 0) err.push(`No drift between ${r.table} and the grants on s3://${r.bucket}/.`);
  else if (!r.done.length && !r.failures.length)
    err.push(`${drift} drift(s) found; run with --fix to repair.`);
  if (r.failures.length) err.push("Running sync --fix again is safe and finishes what is left.");
  return { stdout: out, stderr: err };
}
