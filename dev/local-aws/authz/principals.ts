// Who is calling: the principal behind a request's SigV4 access key, with the identity policies AWS
// would evaluate for it. IAM users carry their inline and attached policies and those of their groups;
// role sessions carry their role's policies; the stand-in's admin key is the account root.
import type { LocalAwsState, LocalRole, LocalRoleSession, LocalUser } from "../state.ts";

export interface PolicyDocument {
  Version?: string;
  Statement: unknown;
}

export interface NamedPolicy {
  name: string;
  policy: PolicyDocument;
}

export type Principal =
  | { kind: "root"; arn: string }
  | { kind: "user"; arn: string; user: LocalUser; policies: NamedPolicy[] }
  | { kind: "role"; arn: string; role: LocalRole; session: LocalRoleSession; policies: NamedPolicy[] };

/**
 * AWS managed policies the stand-in understands (it stores no copy of AWS's catalogue). Attaching any
 * other AWS managed policy grants nothing here — a test that needs one must add it to this table.
 */
const AWS_MANAGED: Record<string, PolicyDocument> = {
  "arn:aws:iam::aws:policy/AdministratorAccess": {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
  },
  "arn:aws:iam::aws:policy/IAMFullAccess": {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["iam:*", "organizations:DescribeAccount"], Resource: "*" }],
  },
  "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: "*",
      },
    ],
  },
};

function parse(name: string, text: string): NamedPolicy | undefined {
  try {
    return { name, policy: JSON.parse(text) as PolicyDocument };
  } catch {
    return undefined; // IAM refused malformed documents when they were put; nothing to evaluate.
  }
}

function managed(state: LocalAwsState, arn: string): NamedPolicy | undefined {
  const local = state.iam.policies.get(arn);
  if (local) return parse(arn, local.document);
  const known = AWS_MANAGED[arn];
  return known ? { name: arn, policy: known } : undefined;
}

/** Every identity policy of an IAM user: its own inline and attached, then each group's. */
export function userPolicies(state: LocalAwsState, user: LocalUser): NamedPolicy[] {
  const out: NamedPolicy[] = [];
  const add = (p: NamedPolicy | undefined) => {
    if (p) out.push(p);
  };
  for (const [name, doc] of user.inlinePolicies) add(parse(`user/${user.userName}/${name}`, doc));
  for (const arn of user.attachedPolicies) add(managed(state, arn));
  for (const groupName of user.groups) {
    const group = state.iam.groups.get(groupName.toLowerCase());
    if (!group) continue;
    for (const [name, doc] of group.inlinePolicies) add(parse(`group/${group.groupName}/${name}`, doc));
    for (const arn of group.attachedPolicies) add(managed(state, arn));
  }
  return out;
}

export function rolePolicies(role: LocalRole): NamedPolicy[] {
  return [...role.policies]
    .map(([name, doc]) => parse(`role/${role.roleName}/${name}`, doc))
    .filter((p): p is NamedPolicy => p !== undefined);
}

export function rolePrincipal(role: LocalRole, session: LocalRoleSession, accountId: string): Principal {
  return {
    kind: "role",
    arn: `arn:aws:sts::${accountId}:assumed-role/${role.roleName}/${session.sessionName}`,
    role,
    session,
    policies: rolePolicies(role),
  };
}
