// A small IAM identity-policy evaluator: enough to refuse what AWS would refuse to a contributor
// whose only permission is s3:GetDataAccess. Explicit Deny wins; otherwise some Allow must match.
import type { LocalAwsState, LocalUser } from "./state.ts";

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

// Managed policies are not stored by the stand-in; these two well-known ones are understood.
const MANAGED_ALLOW_ALL = new Set([
  "arn:aws:iam::aws:policy/AdministratorAccess",
  "arn:aws:iam::aws:policy/IAMFullAccess",
]);

function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i");
}

function matchesAny(patterns: string | string[] | undefined, value: string): boolean {
  if (patterns === undefined) return false;
  return (Array.isArray(patterns) ? patterns : [patterns]).some((p) => wildcardToRegExp(p).test(value));
}

function statementsOf(doc: string): Statement[] {
  try {
    const parsed = JSON.parse(doc) as { Statement?: Statement | Statement[] };
    const s = parsed.Statement;
    return s === undefined ? [] : Array.isArray(s) ? s : [s];
  } catch {
    return [];
  }
}

/** Is `action` on `resource` allowed for this IAM user by its own and its groups' policies? */
export function isAllowed(state: LocalAwsState, user: LocalUser, action: string, resource: string): boolean {
  const docs: string[] = [...user.inlinePolicies.values()];
  const attached = [...user.attachedPolicies];
  for (const groupName of user.groups) {
    const group = state.iam.groups.get(groupName.toLowerCase());
    if (!group) continue;
    docs.push(...group.inlinePolicies.values());
    attached.push(...group.attachedPolicies);
  }
  for (const arn of attached) {
    const managed = state.iam.policies.get(arn);
    if (managed) docs.push(managed.document);
  }
  let allowed = attached.some(
    (arn) => MANAGED_ALLOW_ALL.has(arn) && (arn.endsWith("AdministratorAccess") || action.startsWith("iam:")),
  );
  for (const doc of docs) {
    for (const st of statementsOf(doc)) {
      if (!matchesAny(st.Action, action) || !matchesAny(st.Resource, resource)) continue;
      if (st.Effect === "Deny") return false;
      if (st.Effect === "Allow") allowed = true;
    }
  }
  return allowed;
}
