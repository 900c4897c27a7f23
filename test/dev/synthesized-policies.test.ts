// The synthesized policies as the local stand-in will get them: fully resolved to local names, the
// properties the flow tests rely on intact, and the templates synthesized once then read from disk.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  functionPolicies,
  functionRoles,
  type Json,
  type LocalDeployment,
  loadSynthesizedTemplates,
  locationRolePolicies,
  type PolicyDocument,
  type PolicyStatement,
  type SynthesizedTemplates,
  synthCachePath,
  synthesizedTemplates,
  uploadersGroup,
  uploadersGroupPolicies,
} from "../../dev/synthesized-policies.ts";
import { resources } from "../../dev/template-helpers.ts";

const ACCOUNT = "123456789012";
const LOCAL: LocalDeployment = {
  accountId: ACCOUNT,
  region: "us-east-1",
  tableName: "cytoskel-local-table",
  secrets: {
    signingSecretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:cytoskel/signing-AbC123`,
    botTokenArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:cytoskel/bot-token-XyZ789`,
  },
  instanceArn: `arn:aws:s3:us-east-1:${ACCOUNT}:access-grants/default`,
  locationId: "a1b2c3d4-local-location",
  bucketName: "local-staging-bucket",
  uploadersGroupName: "local_uploaders",
};
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LOCAL.tableName}`;

let templates: SynthesizedTemplates;

beforeAll(async () => {
  const started = performance.now();
  templates = await synthesizedTemplates();
  console.info(`[synthesized-policies] templates ready in ${Math.round(performance.now() - started)} ms`);
}, 180_000);

/** Every place a CloudFormation token could survive: intrinsic keys and ${…} placeholders. */
function leftoverTokens(value: unknown, path = "$"): string[] {
  if (typeof value === "string") return value.includes("${") ? [`${path}: ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => leftoverTokens(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, v]) => [
    ...(key === "Ref" || key.startsWith("Fn::") ? [`${path}.${key}`] : []),
    ...leftoverTokens(v, `${path}.${key}`),
  ]);
}

const statements = (docs: PolicyDocument[]): PolicyStatement[] => docs.flatMap((d) => d.Statement);
const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

describe("synthesized policies resolved to the local deployment", () => {
  it("leaves no intrinsic or placeholder anywhere", () => {
    const everything = {
      roles: functionRoles(templates, LOCAL),
      group: uploadersGroup(templates, LOCAL),
      location: locationRolePolicies(templates, LOCAL),
    };
    expect(leftoverTokens(everything)).toEqual([]);
  });

  it("gives the provisioner the local table ARN, its stream and the local group", () => {
    const { provisioner } = functionPolicies(templates, LOCAL);
    const resourcesNamed = statements(provisioner).flatMap((s) => asList(s.Resource));
    expect(resourcesNamed).toContain(TABLE_ARN);
    expect(resourcesNamed.some((r) => r.startsWith(`${TABLE_ARN}/stream/`))).toBe(true);
    expect(resourcesNamed).toContain(`arn:aws:iam::${ACCOUNT}:group/${LOCAL.uploadersGroupName}`);
    expect(resourcesNamed).toContain(LOCAL.secrets.botTokenArn);
    expect(resourcesNamed).not.toContain(LOCAL.secrets.signingSecretArn);
    expect(functionRoles(templates, LOCAL).provisioner.awsManagedPolicyArns).toEqual([]);
  });

  it("keeps the secret link's dynamodb:LeadingKeys conditions", () => {
    const consume = statements(functionPolicies(templates, LOCAL).secretLink).find(
      (s) => s.Sid === "ConsumeSecretsOnly",
    );
    expect(consume?.Resource).toBe(TABLE_ARN);
    expect(consume?.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"]).toEqual(["SECRET#*"]);
  });

  it("gives the bot no IAM or S3 action", () => {
    const actions = statements(functionPolicies(templates, LOCAL).bot).flatMap((s) => asList(s.Action));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => /^(iam|s3):/i.test(a))).toEqual([]);
  });

  it("lets the uploaders group call s3:GetDataAccess on the local instance, and nothing else", () => {
    const all = statements(uploadersGroupPolicies(templates, LOCAL));
    expect(all).toEqual([
      expect.objectContaining({ Effect: "Allow", Action: "s3:GetDataAccess", Resource: LOCAL.instanceArn }),
    ]);
    expect(uploadersGroup(templates, LOCAL).arn).toBe(
      `arn:aws:iam::${ACCOUNT}:group/${LOCAL.uploadersGroupName}`,
    );
  });

  it("puts the local bucket into the location role's object ARNs", () => {
    const all = statements(locationRolePolicies(templates, LOCAL)).flatMap((s) => asList(s.Resource));
    expect(all).toContain(`arn:aws:s3:::${LOCAL.bucketName}/*`);
    expect(all.filter((r) => r.includes("staging-cellpainting-gallery"))).toEqual([]);
  });
});

describe("resolver edge cases", () => {
  /** A copy of the templates with the provisioner's first statement's Resource replaced. */
  function withProvisionerResource(resource: unknown): SynthesizedTemplates {
    const bot = structuredClone(templates.bot);
    const policy = resources(bot, "AWS::IAM::Policy").find((p) => p.logicalId.startsWith("ProvisionerRole"));
    const doc = policy?.properties.PolicyDocument as { Statement: Json[] };
    (doc.Statement[0] as Json).Resource = resource;
    return { ...templates, bot };
  }

  it("resolves Fn::Sub, Fn::Select and Fn::Split", () => {
    const queue = resources(templates.bot, "AWS::SQS::Queue")[0]?.logicalId;
    const t = withProvisionerResource([
      { "Fn::Sub": `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:\${${queue}.QueueName}` },
      { "Fn::Select": [1, { "Fn::Split": ["|", "a|b|c"] }] },
      // CloudFormation's ${…} syntax, escaped so it is not a template-literal placeholder.
      { "Fn::Sub": [`$\{Name}-$\{!Literal}`, { Name: { Ref: "AWS::URLSuffix" } }] },
    ]);
    expect(functionPolicies(t, LOCAL).provisioner[0]?.Statement[0]?.Resource).toEqual([
      `arn:aws:sqs:us-east-1:${ACCOUNT}:${queue}`,
      "b",
      `amazonaws.com-$\{Literal}`,
    ]);
  });

  it("names the intrinsic and where it sits when it cannot resolve one", () => {
    const t = withProvisionerResource({ "Fn::If": ["SomeCondition", "a", "b"] });
    expect(() => functionPolicies(t, LOCAL)).toThrow(/Fn::If.*ProvisionerRoleDefaultPolicy/s);
    const missing = withProvisionerResource({ "Fn::GetAtt": ["NoSuchThing", "Arn"] });
    expect(() => functionPolicies(missing, LOCAL)).toThrow(/NoSuchThing/);
  });
});

describe("synth cache", () => {
  it("is read from disk by the next load (as another fork would)", async () => {
    expect(existsSync(synthCachePath(templates.hash))).toBe(true);
    const again = await loadSynthesizedTemplates();
    console.info(`[synthesized-policies] cached load: ${again.ms.toFixed(0)} ms`);
    expect(again.from).toBe("cache");
    expect(again.hash).toBe(templates.hash);
    expect(again.bot).toEqual(templates.bot);
    expect(again.grants).toEqual(templates.grants);
    expect(again.ms).toBeLessThan(5_000);
    // And within one process the same promise is shared.
    expect(await synthesizedTemplates()).toBe(templates);
  });
});
