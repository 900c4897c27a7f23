// What IAM checks for an IAM (query protocol) request: `iam:<Action>` on the user, group or policy the
// request names, with the ARN formats of the Service Authorization Reference.
//
// The quirk that bites: IAM judges a request on the named user's ARN *with its path* — which it can only
// know for a user that exists. A user that does not exist is judged on `user/NAME` (no path), so a
// path-scoped policy (`user/cytoskel/*`) gets 403 AccessDenied instead of 404 NoSuchEntity. The same
// holds for groups. CreateUser / CreateGroup are judged on the path they ask for.
import type { LocalAwsState } from "../state.ts";
import type { Check } from "./evaluate.ts";
import type { Principal } from "./principals.ts";

const withoutLeadingSlash = (path: string) => path.replace(/^\//, "");

function userNameWithPath(
  state: LocalAwsState,
  action: string,
  params: URLSearchParams,
  principal: Principal,
): string | undefined {
  const name = params.get("UserName");
  if (action === "CreateUser")
    return name ? `${withoutLeadingSlash(params.get("Path") || "/")}${name}` : undefined;
  if (!name) {
    // Calls about "myself" (GetUser, ListAccessKeys, CreateAccessKey without UserName).
    return principal.kind === "user"
      ? `${withoutLeadingSlash(principal.user.path)}${principal.user.userName}`
      : undefined;
  }
  const user = state.iam.users.get(name.toLowerCase());
  return user ? `${withoutLeadingSlash(user.path)}${user.userName}` : name;
}

function groupNameWithPath(
  state: LocalAwsState,
  action: string,
  params: URLSearchParams,
): string | undefined {
  const name = params.get("GroupName");
  if (!name) return undefined;
  if (action === "CreateGroup") return `${withoutLeadingSlash(params.get("Path") || "/")}${name}`;
  const group = state.iam.groups.get(name.toLowerCase());
  return group ? `${withoutLeadingSlash(group.path)}${group.groupName}` : name;
}

function policyNameWithPath(action: string, params: URLSearchParams): string | undefined {
  if (action === "CreatePolicy") {
    const name = params.get("PolicyName");
    return name ? `${withoutLeadingSlash(params.get("Path") || "/")}${name}` : undefined;
  }
  const arn = params.get("PolicyArn") ?? "";
  const i = arn.indexOf(":policy/");
  return i < 0 ? undefined : arn.slice(i + ":policy/".length);
}

/**
 * The checks for one IAM request, or none when the request lacks what names its resource (the
 * operation then answers its own ValidationError, as IAM does before authorizing).
 */
export function iamChecks(
  state: LocalAwsState,
  action: string,
  params: URLSearchParams,
  principal: Principal,
): Check[] {
  const vars = {
    UserNameWithPath: userNameWithPath(state, action, params, principal),
    GroupNameWithPath: groupNameWithPath(state, action, params),
    PolicyNameWithPath: policyNameWithPath(action, params),
  };
  // An AWS managed policy's ARN names the account "aws" (only for calls about the policy itself).
  const policyArnParam = params.get("PolicyArn") ?? "";
  if (/^(Get|Delete)Policy(Version)?$/.test(action) && policyArnParam.includes(":iam::aws:policy/")) {
    Object.assign(vars, { Account: "aws" });
  }
  const context: Record<string, string> = {};
  const policyArn = params.get("PolicyArn");
  if (policyArn && /^(Attach|Detach)(User|Group)Policy$/.test(action)) context["iam:PolicyARN"] = policyArn;
  const check: Check = { action: `iam:${action}`, vars, context };
  // ListUsers and ListGroups support no resource-level permissions (the reference lists no resource
  // type): they are judged on "*" whatever PathPrefix asks for.
  if (action === "ListUsers" || action === "ListGroups") return [check];
  const named = vars.UserNameWithPath ?? vars.GroupNameWithPath ?? vars.PolicyNameWithPath;
  if (named === undefined) return [];
  // Tagging on create is also a TagUser: IAM refuses CreateUser with Tags without iam:TagUser.
  if (action === "CreateUser" && params.has("Tags.member.1.Key")) {
    return [check, { action: "iam:TagUser", vars }];
  }
  return [check];
}
