// Small readers over synthesized CloudFormation templates: resources by type, IAM statements with the
// resource that holds them, and each Lambda function's role actions.

export type Json = Record<string, unknown>;

export interface Resource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Json;
  readonly raw: Json;
}

export interface Statement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
  readonly Sid?: string;
}

export function resources(template: Json, type?: string): Resource[] {
  const all = (template.Resources ?? {}) as Record<string, Json>;
  return Object.entries(all)
    .filter(([, r]) => type === undefined || r.Type === type)
    .map(([logicalId, r]) => ({
      logicalId,
      type: r.Type as string,
      properties: (r.Properties ?? {}) as Json,
      raw: r,
    }));
}

export function only(template: Json, type: string): Resource {
  const found = resources(template, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0] as Resource;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function statementsOf(document: unknown): Statement[] {
  const statements = (document as { Statement?: Statement[] } | undefined)?.Statement ?? [];
  return statements;
}

/** Every identity-policy and resource-policy statement in the template, with where it lives. */
export function allStatements(template: Json): Array<{ holder: Resource; statement: Statement }> {
  const out: Array<{ holder: Resource; statement: Statement }> = [];
  for (const r of resources(template)) {
    const docs: unknown[] = [];
    if (
      [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
      ].includes(r.type)
    ) {
      docs.push(r.properties.PolicyDocument);
    }
    if (r.type === "AWS::IAM::Role" || r.type === "AWS::IAM::Group" || r.type === "AWS::IAM::User") {
      for (const p of (r.properties.Policies ?? []) as Array<{ PolicyDocument: unknown }>)
        docs.push(p.PolicyDocument);
    }
    for (const doc of docs) for (const statement of statementsOf(doc)) out.push({ holder: r, statement });
  }
  return out;
}

/** Logical ID of the role a Lambda function runs as. */
export function roleOfFunction(fn: Resource): string {
  const role = fn.properties.Role as { "Fn::GetAtt"?: [string, string] };
  const id = role["Fn::GetAtt"]?.[0];
  if (!id) throw new Error(`function ${fn.logicalId} has no role reference`);
  return id;
}

/** Allow statements attached to a role (inline policies on the role and AWS::IAM::Policy resources naming it). */
export function roleStatements(template: Json, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const { holder, statement } of allStatements(template)) {
    const onRole =
      (holder.type === "AWS::IAM::Role" && holder.logicalId === roleLogicalId) ||
      (holder.type === "AWS::IAM::Policy" &&
        ((holder.properties.Roles ?? []) as Array<{ Ref?: string }>).some((r) => r.Ref === roleLogicalId));
    if (onRole && statement.Effect === "Allow") out.push(statement);
  }
  return out;
}

/** The function whose logical ID starts with the construct id used in the bot stack (Bot, Provisioner, …). */
export function functionNamed(template: Json, constructId: string): Resource {
  const found = resources(template, "AWS::Lambda::Function").filter((f) =>
    f.logicalId.startsWith(`${constructId}Function`),
  );
  if (found.length !== 1) throw new Error(`expected one function for ${constructId}, found ${found.length}`);
  return found[0] as Resource;
}

/** A CloudFormation value as text, tokens spelled like cdk-nag does: <AWS::AccountId>, <LogicalId>, <LogicalId.Arn>. */
export function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const v = value as Json;
    if (typeof v.Ref === "string") return `<${v.Ref}>`;
    if (Array.isArray(v["Fn::GetAtt"])) return `<${(v["Fn::GetAtt"] as string[]).join(".")}>`;
    if (Array.isArray(v["Fn::Join"])) {
      const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if (v["Fn::ImportValue"] !== undefined) return `<import:${render(v["Fn::ImportValue"])}>`;
  }
  return JSON.stringify(value);
}

export function resourcesOf(statement: Statement): string[] {
  const r = statement.Resource;
  return (Array.isArray(r) ? r : [r]).map(render);
}

/** Statements of a policy document property (PolicyDocument, AssumeRolePolicyDocument) of a resource that must exist. */
export function documentStatements(r: Resource | undefined, key: string): Statement[] {
  if (!r) throw new Error(`resource missing (looking for ${key})`);
  return statementsOf(r.properties[key]);
}

/**
 * Lambda event filtering for the pattern subset the stacks use: every key of the pattern must be in the
 * event; an array lists accepted scalars (exact values or { "anything-but": [...] }); objects nest.
 */
export function matchesFilter(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    // EventBridge's exists matching: [{ "exists": false }] matches only an absent key.
    const existence = Array.isArray(rule)
      ? rule.find((r) => r && typeof r === "object" && "exists" in r)
      : undefined;
    if (existence) return key in event === (existence as { exists: boolean }).exists;
    if (!(key in event)) return false;
    const value = event[key];
    if (Array.isArray(rule)) {
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") return false;
      return rule.some((accepted: unknown) => {
        if (accepted && typeof accepted === "object" && "anything-but" in accepted) {
          return !(accepted as { "anything-but": unknown[] })["anything-but"].includes(value);
        }
        return accepted === value;
      });
    }
    return value !== null && typeof value === "object" && matchesFilter(rule as Json, value as Json);
  });
}
