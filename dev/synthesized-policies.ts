// The IAM policies the CDK app really synthesizes, resolved to the local AWS stand-in's values, so each
// Lambda function's flow tests run with its synthesized role's permissions (not a hand-written copy that
// could drift from the stacks).
//
// Synthesis runs in-process (aws-cdk-lib, no CLI) with Lambda bundling skipped; cdk-nag still runs as a
// validation plugin, so an unacknowledged finding still fails here. The two templates are cached on
// disk by a hash of every input, so each vitest fork after the first reads JSON instead of synthesizing.

import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { App } from "aws-cdk-lib";
import { FUNCTION_SPECS, type FunctionName } from "../cdk/lib/bot-functions.ts";
import { BOT_STACK_NAME, GRANTS_STACK_NAME } from "../cdk/lib/names.ts";
import { functionNamed, type Json, type Resource, resources, roleOfFunction } from "./template-helpers.ts";

export type { Json } from "./template-helpers.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
const THIS_FILE = fileURLToPath(import.meta.url);
export const SYNTH_CACHE_DIR = join(REPO_ROOT, "node_modules", ".cache", "cytoskel-synth");

/**
 * What the bot refuses to start without (same values as test/cdk/stacks.test.ts), on top of cdk.json's
 * context, so the bot stack synthesizes fully. Everything else is the repo's own deploy config.
 */
export const SYNTH_CONTEXT_OVERRIDES: Readonly<Record<string, unknown>> = {
  adminUserIds: "U0ADMIN01,U0ADMIN02",
  adminChannelId: "C0ADMIN01",
  slackBotId: "B0BOT0001",
  slackBotUserId: "U0BOT0001",
};

export interface SynthesizedTemplates {
  readonly grants: Json;
  readonly bot: Json;
  /** sha256 of the inputs (the cache key). */
  readonly hash: string;
}

// ---------------------------------------------------------------------------------------------------
// Synthesis and cache

/** Every file the templates can depend on: cdk/ and src/ (sorted), cdk.json, the lockfile, this file and the app builder. */
function inputFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? walk(path) : entry.isFile() ? [path] : [];
    });
  const tree = [...walk(join(REPO_ROOT, "cdk")), ...walk(join(REPO_ROOT, "src"))].sort();
  // This file holds the context overrides, so editing it must invalidate the cache too.
  const builder = join(REPO_ROOT, "dev", "cdk-app.ts");
  return [...tree, join(REPO_ROOT, "cdk.json"), join(REPO_ROOT, "package-lock.json"), THIS_FILE, builder];
}

export function synthInputHash(): string {
  const hash = createHash("sha256");
  for (const file of inputFiles()) {
    // Path and a separator too, so renaming or moving content between files changes the hash.
    hash.update(relative(REPO_ROOT, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export function synthCachePath(hash: string): string {
  return join(SYNTH_CACHE_DIR, `${hash}.json`);
}

/**
 * Synthesizes both stacks in this process and returns their templates (no cache). `beforeSynth` may add
 * to the app first (e.g. to show that cdk-nag still fails an unacknowledged finding here).
 */
export async function synthesizeInProcess(
  options: { beforeSynth?: (app: App) => void } = {},
): Promise<{ grants: Json; bot: Json }> {
  // Belt and braces: in-process synth makes no AWS calls, but nothing here may ever reach the network.
  process.env.CDK_DISABLE_CLI_TELEMETRY = "true";
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  // Loaded lazily: a cache hit should not pay for importing aws-cdk-lib.
  const { buildAppInProcess } = await import("./cdk-app.ts");
  const outdir = mkdtempSync(join(tmpdir(), "cytoskel-inproc-synth-"));
  try {
    // analyticsReporting off like cdk.json's versionReporting: the templates match what the CLI writes.
    const { app } = buildAppInProcess(SYNTH_CONTEXT_OVERRIDES, {
      app: { outdir, analyticsReporting: false },
    });
    options.beforeSynth?.(app);
    // Throws when cdk-nag (a validation plugin) reports an unacknowledged finding.
    const assembly = app.synth();
    return {
      grants: assembly.getStackByName(GRANTS_STACK_NAME).template as Json,
      bot: assembly.getStackByName(BOT_STACK_NAME).template as Json,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function readCache(file: string): { grants: Json; bot: Json } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { grants?: Json; bot?: Json };
    return parsed.grants && parsed.bot ? { grants: parsed.grants, bot: parsed.bot } : undefined;
  } catch {
    return undefined; // missing (or, impossible after the rename, unreadable): synthesize
  }
}

const STALE_MS = 5 * 60_000;

/** Other hashes' templates are stale inputs; old tmp/lock files are from a fork that died mid-synth. */
function pruneCache(keep: string): void {
  for (const name of readdirSync(SYNTH_CACHE_DIR)) {
    const path = join(SYNTH_CACHE_DIR, name);
    try {
      const stale = name.endsWith(".json") ? name !== keep : Date.now() - statSync(path).mtimeMs > STALE_MS;
      if (stale) unlinkSync(path);
    } catch {
      // another fork pruned it first
    }
  }
}

/** Takes the per-hash lock (O_EXCL create); false when another process holds a fresh one. */
function tryLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, "wx"));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_MS) unlinkSync(lock); // holder died: retry next round
    } catch {
      // released meanwhile
    }
    return false;
  }
}

/**
 * One load, not memoized: from the disk cache when present, else a synth that then fills the cache.
 * Forks that miss together do not all synthesize (two cores): one takes a lock file, the others wait
 * for its cache file (or take over if it fails and releases the lock).
 */
export async function loadSynthesizedTemplates(): Promise<
  SynthesizedTemplates & { readonly from: "cache" | "synth"; readonly ms: number }
> {
  const started = performance.now();
  const hash = synthInputHash();
  const file = synthCachePath(hash);
  const lock = `${file}.lock`;
  for (;;) {
    const cached = readCache(file);
    if (cached) return { ...cached, hash, from: "cache", ms: performance.now() - started };
    mkdirSync(SYNTH_CACHE_DIR, { recursive: true });
    if (tryLock(lock)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    const again = readCache(file); // filled between our last look and taking the lock
    if (again) return { ...again, hash, from: "cache", ms: performance.now() - started };
    const synthesized = await synthesizeInProcess();
    // tmp + rename: a reader sees no file or a complete one, never a half-written one.
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(synthesized));
    renameSync(tmp, file);
    pruneCache(`${hash}.json`);
    return { ...synthesized, hash, from: "synth", ms: performance.now() - started };
  } finally {
    rmSync(lock, { force: true });
  }
}

let memo: Promise<SynthesizedTemplates> | undefined;

/** Both templates, synthesized at most once per input hash (across processes) and once per process. */
export function synthesizedTemplates(): Promise<SynthesizedTemplates> {
  memo ??= loadSynthesizedTemplates()
    .then(({ grants, bot, hash }) => ({ grants, bot, hash }))
    .catch((err: unknown) => {
      memo = undefined; // let a later call retry instead of caching the failure
      throw err;
    });
  return memo;
}

// ---------------------------------------------------------------------------------------------------
// Resolving CloudFormation to local values

/** The local stand-in's concrete names for what the stacks create. */
export interface LocalDeployment {
  readonly accountId: string;
  readonly region: string;
  readonly tableName: string;
  /** Defaults to `<table ARN>/stream/1970-01-01T00:00:00.000`. */
  readonly tableStreamArn?: string;
  readonly secrets: { readonly signingSecretArn: string; readonly botTokenArn: string };
  readonly instanceArn: string;
  readonly locationId: string;
  readonly bucketName: string;
  readonly uploadersGroupName: string;
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
  readonly Principal?: unknown;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement[];
}

/** Everything that gives one IAM identity (role or group) permissions, resolved. */
export interface IdentityPolicies {
  readonly logicalId: string;
  readonly arn: string;
  /** Inline policies, customer managed policies and AWS::IAM::Policy resources, each with where it came from. */
  readonly policies: ReadonlyArray<{ readonly source: string; readonly document: PolicyDocument }>;
  /** AWS managed policies (arn:aws:iam::aws:policy/…): not resolvable here, listed so a caller sees them. */
  readonly awsManagedPolicyArns: readonly string[];
  /** Roles only: the trust policy. */
  readonly assumeRolePolicy?: PolicyDocument;
}

/** Each function's construct id in the bot stack, as cdk/ names it. */
export const FUNCTION_CONSTRUCT_IDS = Object.fromEntries(
  Object.entries(FUNCTION_SPECS).map(([fn, spec]) => [fn, spec.id]),
) as Record<FunctionName, string>;
export type { FunctionName };

const PARTITION = "aws";
const URL_SUFFIX = "amazonaws.com";
const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\//;

interface Ctx {
  readonly stack: string;
  readonly template: Json;
  readonly templates: SynthesizedTemplates;
  readonly local: LocalDeployment;
}

class UnresolvableError extends Error {
  override readonly name = "UnresolvableError";
}

function fail(ctx: Ctx, where: string, message: string): never {
  throw new UnresolvableError(`[${ctx.stack}] cannot resolve ${message} (at ${where})`);
}

function resourceOf(ctx: Ctx, logicalId: string): Resource | undefined {
  return resources(ctx.template).find((r) => r.logicalId === logicalId);
}

function str(ctx: Ctx, value: unknown, where: string): string {
  const resolved = resolve(ctx, value, where);
  if (typeof resolved !== "string" && typeof resolved !== "number") {
    fail(ctx, where, `a value that should be a string: ${JSON.stringify(resolved)}`);
  }
  return String(resolved);
}

/** Name-like property if the template sets one, else the logical ID (what CloudFormation would generate from). */
function nameOf(ctx: Ctx, r: Resource, prop: string): string {
  return r.properties[prop] === undefined
    ? r.logicalId
    : str(ctx, r.properties[prop], `${r.logicalId}.${prop}`);
}

function iamPathOf(ctx: Ctx, r: Resource): string {
  return r.properties.Path === undefined ? "/" : str(ctx, r.properties.Path, `${r.logicalId}.Path`);
}

function tableArn(local: LocalDeployment): string {
  return `arn:${PARTITION}:dynamodb:${local.region}:${local.accountId}:table/${local.tableName}`;
}

/** Ref (attr undefined) or Fn::GetAtt of a resource, mapped to the local deployment. */
function attribute(ctx: Ctx, r: Resource, attr: string | undefined, where: string): string {
  const { local } = ctx;
  const { accountId: account, region } = local;
  const arn = (service: string, rest: string, inRegion = region) =>
    `arn:${PARTITION}:${service}:${inRegion}:${account}:${rest}`;
  const unknownAttr = (): never =>
    fail(ctx, where, `Fn::GetAtt ${r.logicalId}.${attr} (no local value for ${r.type} attribute ${attr})`);
  switch (r.type) {
    case "AWS::DynamoDB::Table":
      if (attr === undefined) return local.tableName;
      if (attr === "Arn") return tableArn(local);
      if (attr === "StreamArn")
        return local.tableStreamArn ?? `${tableArn(local)}/stream/1970-01-01T00:00:00.000`;
      return unknownAttr();
    case "AWS::SecretsManager::Secret": {
      const secretArn = r.logicalId.startsWith("SlackSigningSecret")
        ? local.secrets.signingSecretArn
        : r.logicalId.startsWith("SlackBotToken")
          ? local.secrets.botTokenArn
          : fail(ctx, where, `secret ${r.logicalId} (neither SlackSigningSecret… nor SlackBotToken…)`);
      if (attr === undefined || attr === "Id") return secretArn;
      return unknownAttr();
    }
    // CloudFormation spells these AWS::S3::…; the S3Control spelling is accepted too.
    case "AWS::S3::AccessGrantsInstance":
    case "AWS::S3Control::AccessGrantsInstance":
      if (attr === undefined || attr === "AccessGrantsInstanceArn") return local.instanceArn;
      if (attr === "AccessGrantsInstanceId") return local.instanceArn.split("/").pop() ?? "default";
      return unknownAttr();
    case "AWS::S3::AccessGrantsLocation":
    case "AWS::S3Control::AccessGrantsLocation":
      if (attr === undefined || attr === "AccessGrantsLocationId") return local.locationId;
      if (attr === "AccessGrantsLocationArn") return `${local.instanceArn}/location/${local.locationId}`;
      return unknownAttr();
    case "AWS::IAM::Group":
      if (attr === undefined) return local.uploadersGroupName;
      if (attr === "Arn") return arn("iam", `group${iamPathOf(ctx, r)}${local.uploadersGroupName}`, "");
      return unknownAttr();
    case "AWS::IAM::Role": {
      const name = nameOf(ctx, r, "RoleName");
      if (attr === undefined) return name;
      if (attr === "Arn") return arn("iam", `role${iamPathOf(ctx, r)}${name}`, "");
      if (attr === "RoleId") return `AROA${digest(r.logicalId, 17).toUpperCase()}`;
      return unknownAttr();
    }
    case "AWS::IAM::ManagedPolicy":
      if (attr === undefined || attr === "PolicyArn") {
        return arn("iam", `policy${iamPathOf(ctx, r)}${nameOf(ctx, r, "ManagedPolicyName")}`, "");
      }
      return unknownAttr();
    case "AWS::Logs::LogGroup": {
      const name = nameOf(ctx, r, "LogGroupName");
      if (attr === undefined) return name;
      if (attr === "Arn") return arn("logs", `log-group:${name}:*`);
      return unknownAttr();
    }
    case "AWS::SQS::Queue": {
      const name = nameOf(ctx, r, "QueueName");
      if (attr === undefined || attr === "QueueUrl")
        return `https://sqs.${region}.${URL_SUFFIX}/${account}/${name}`;
      if (attr === "Arn") return arn("sqs", name);
      if (attr === "QueueName") return name;
      return unknownAttr();
    }
    case "AWS::S3::Bucket": {
      // The contributors' bucket carries BucketName; any other (the access-log bucket) gets a generated name.
      const name = r.properties.BucketName === undefined ? r.logicalId.toLowerCase() : local.bucketName;
      if (attr === undefined) return name;
      if (attr === "Arn") return `arn:${PARTITION}:s3:::${name}`;
      if (attr === "DomainName") return `${name}.s3.${URL_SUFFIX}`;
      if (attr === "RegionalDomainName") return `${name}.s3.${region}.${URL_SUFFIX}`;
      return unknownAttr();
    }
    case "AWS::Lambda::Function": {
      const name = nameOf(ctx, r, "FunctionName");
      if (attr === undefined) return name;
      if (attr === "Arn") return arn("lambda", `function:${name}`);
      return unknownAttr();
    }
    default: {
      // Not a permission target the stand-in models: a stable stand-in value, derived from the logical ID.
      if (attr === undefined) return r.logicalId;
      const service = (r.type.split("::")[1] ?? "unknown").toLowerCase();
      if (attr === "Arn" || attr.endsWith("Arn")) return arn(service, r.logicalId);
      return `${r.logicalId}-${attr}`;
    }
  }
}

function digest(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

function ref(ctx: Ctx, name: string, where: string): string {
  switch (name) {
    case "AWS::AccountId":
      return ctx.local.accountId;
    case "AWS::Region":
      return ctx.local.region;
    case "AWS::Partition":
      return PARTITION;
    case "AWS::URLSuffix":
      return URL_SUFFIX;
    case "AWS::StackName":
      return ctx.stack;
    case "AWS::NoValue":
      return fail(ctx, where, "Ref AWS::NoValue (only meaningful inside Fn::If)");
  }
  const r = resourceOf(ctx, name);
  if (r) return attribute(ctx, r, undefined, where);
  const parameter = ((ctx.template.Parameters ?? {}) as Record<string, Json>)[name];
  if (parameter && parameter.Default !== undefined) return String(parameter.Default);
  return fail(ctx, where, `Ref ${name} (no such resource, or a parameter without a default)`);
}

/** Fn::ImportValue: the export of that name in either stack, resolved in the stack that exports it. */
function importValue(ctx: Ctx, name: string, where: string): unknown {
  for (const [stack, template] of [
    [GRANTS_STACK_NAME, ctx.templates.grants],
    [BOT_STACK_NAME, ctx.templates.bot],
  ] as const) {
    const exporter: Ctx = { ...ctx, stack, template };
    for (const [outputId, output] of Object.entries((template.Outputs ?? {}) as Record<string, Json>)) {
      const exportName = (output.Export as Json | undefined)?.Name;
      if (exportName === undefined) continue;
      if (str(exporter, exportName, `Outputs.${outputId}.Export.Name`) === name) {
        return resolve(exporter, output.Value, `Outputs.${outputId}.Value`);
      }
    }
  }
  return fail(ctx, where, `Fn::ImportValue ${name} (no stack exports it)`);
}

function sub(ctx: Ctx, arg: unknown, where: string): string {
  const [text, vars] = Array.isArray(arg) ? (arg as [unknown, Json | undefined]) : [arg, undefined];
  if (typeof text !== "string")
    fail(ctx, where, `Fn::Sub with a non-string template: ${JSON.stringify(arg)}`);
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_all, literal: string, name: string) => {
    if (literal) return `\${${name}}`; // ${!Literal} is the escape for a literal ${Literal}
    if (vars && name in vars) return str(ctx, vars[name], `${where}.Fn::Sub.${name}`);
    const dot = name.indexOf(".");
    if (dot > 0 && !name.startsWith("AWS::")) {
      return str(ctx, { "Fn::GetAtt": [name.slice(0, dot), name.slice(dot + 1)] }, `${where}.Fn::Sub`);
    }
    return ref(ctx, name, `${where}.Fn::Sub`);
  });
}

function list(ctx: Ctx, value: unknown, where: string): unknown[] {
  const resolved = resolve(ctx, value, where);
  if (!Array.isArray(resolved))
    fail(ctx, where, `a value that should be a list: ${JSON.stringify(resolved)}`);
  return resolved;
}

/** Resolves every intrinsic in `value` to concrete JSON; throws naming the first it cannot resolve. */
function resolve(ctx: Ctx, value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => resolve(ctx, item, `${where}[${i}]`));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Json);
  // (A statement's "Condition" key is a block, not the Condition intrinsic, which lives only inside Fn::If.)
  const intrinsic = entries.find(([key]) => key === "Ref" || key.startsWith("Fn::"));
  if (!intrinsic) {
    return Object.fromEntries(entries.map(([key, v]) => [key, resolve(ctx, v, `${where}.${key}`)]));
  }
  const [fn, arg] = intrinsic;
  if (entries.length !== 1) fail(ctx, where, `${fn} next to other keys: ${JSON.stringify(value)}`);
  switch (fn) {
    case "Ref":
      return ref(ctx, str(ctx, arg, where), where);
    case "Fn::GetAtt": {
      const [id, attr] = Array.isArray(arg)
        ? (arg as unknown[]).map((part) => str(ctx, part, where))
        : String(arg).split(/\.(.*)/s);
      const r = id === undefined ? undefined : resourceOf(ctx, id);
      if (!r || !attr) return fail(ctx, where, `Fn::GetAtt ${JSON.stringify(arg)} (no such resource)`);
      return attribute(ctx, r, attr, where);
    }
    case "Fn::Join": {
      const [sep, parts] = arg as [unknown, unknown];
      return list(ctx, parts, `${where}.Fn::Join`)
        .map((part) => str(ctx, part, `${where}.Fn::Join`))
        .join(str(ctx, sep, where));
    }
    case "Fn::Sub":
      return sub(ctx, arg, where);
    case "Fn::Select": {
      const [index, items] = arg as [unknown, unknown];
      const i = Number(str(ctx, index, where));
      const all = list(ctx, items, `${where}.Fn::Select`);
      if (!Number.isInteger(i) || i < 0 || i >= all.length) {
        fail(ctx, where, `Fn::Select index ${i} of a ${all.length}-item list`);
      }
      return all[i];
    }
    case "Fn::Split": {
      const [delimiter, text] = arg as [unknown, unknown];
      return str(ctx, text, where).split(str(ctx, delimiter, where));
    }
    case "Fn::ImportValue":
      return importValue(ctx, str(ctx, arg, where), where);
    default:
      return fail(ctx, where, `intrinsic ${fn} (not supported): ${JSON.stringify(value)}`);
  }
}

function ctxFor(templates: SynthesizedTemplates, local: LocalDeployment, stack: "grants" | "bot"): Ctx {
  return {
    stack: stack === "grants" ? GRANTS_STACK_NAME : BOT_STACK_NAME,
    template: templates[stack],
    templates,
    local,
  };
}

/**
 * With createBucket=false (cdk.json) the stacks name the bucket literally, so the local bucket name
 * replaces the configured one in S3 ARNs and s3:// scopes (e.g. s3:AccessGrantScope conditions).
 */
function withLocalBucket(ctx: Ctx, doc: unknown): unknown {
  const output = ((ctx.templates.grants.Outputs ?? {}) as Record<string, Json>).BucketName;
  if (!output) return doc;
  const configured = str(ctxFor(ctx.templates, ctx.local, "grants"), output.Value, "Outputs.BucketName");
  if (configured === ctx.local.bucketName) return doc;
  const prefixes = [`arn:${PARTITION}:s3:::`, "s3://"];
  const swapString = (v: string): string => {
    for (const p of prefixes) {
      const from = `${p}${configured}`;
      if (v === from || v.startsWith(`${from}/`)) return `${p}${ctx.local.bucketName}${v.slice(from.length)}`;
    }
    return v;
  };
  const swap = (v: unknown): unknown =>
    typeof v === "string"
      ? swapString(v)
      : Array.isArray(v)
        ? v.map(swap)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]))
          : v;
  return swap(doc);
}

function policyDocument(ctx: Ctx, raw: unknown, where: string): PolicyDocument {
  const doc = withLocalBucket(ctx, resolve(ctx, raw, where)) as { Version?: string; Statement?: unknown };
  const statements =
    doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return { ...doc, Statement: statements as PolicyStatement[] } as PolicyDocument;
}

/** Does this property (Roles / Groups of a policy resource) list the identity? */
function names(list: unknown, logicalId: string): boolean {
  return Array.isArray(list) && list.some((item) => (item as { Ref?: unknown })?.Ref === logicalId);
}

function identityPolicies(ctx: Ctx, identity: Resource, attachKey: "Roles" | "Groups"): IdentityPolicies {
  const policies: Array<{ source: string; document: PolicyDocument }> = [];
  const awsManagedPolicyArns: string[] = [];
  const inline = (identity.properties.Policies ?? []) as Array<{
    PolicyName?: unknown;
    PolicyDocument: unknown;
  }>;
  inline.forEach((p, i) => {
    const where = `${identity.logicalId}.Policies[${i}]`;
    policies.push({
      source: `${where} (${p.PolicyName === undefined ? "inline" : str(ctx, p.PolicyName, where)})`,
      document: policyDocument(ctx, p.PolicyDocument, `${where}.PolicyDocument`),
    });
  });
  const managedArns = (identity.properties.ManagedPolicyArns ?? []) as unknown[];
  managedArns.forEach((raw, i) => {
    const where = `${identity.logicalId}.ManagedPolicyArns[${i}]`;
    const arn = str(ctx, raw, where);
    if (AWS_MANAGED_POLICY.test(arn)) {
      awsManagedPolicyArns.push(arn);
      return;
    }
    const own = resources(ctx.template, "AWS::IAM::ManagedPolicy").find(
      (m) => attribute(ctx, m, undefined, where) === arn,
    );
    if (!own) fail(ctx, where, `managed policy ${arn} (not an AWS managed policy nor one of this stack's)`);
    policies.push({
      source: `AWS::IAM::ManagedPolicy ${own.logicalId}`,
      document: policyDocument(ctx, own.properties.PolicyDocument, `${own.logicalId}.PolicyDocument`),
    });
  });
  for (const type of ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"] as const) {
    for (const p of resources(ctx.template, type)) {
      if (!names(p.properties[attachKey], identity.logicalId)) continue;
      policies.push({
        source: `${type} ${p.logicalId}`,
        document: policyDocument(ctx, p.properties.PolicyDocument, `${p.logicalId}.PolicyDocument`),
      });
    }
  }
  const trust = identity.properties.AssumeRolePolicyDocument;
  return {
    logicalId: identity.logicalId,
    arn: attribute(ctx, identity, "Arn", identity.logicalId),
    policies,
    awsManagedPolicyArns,
    ...(trust === undefined
      ? {}
      : { assumeRolePolicy: policyDocument(ctx, trust, `${identity.logicalId}.AssumeRolePolicyDocument`) }),
  };
}

function roleById(ctx: Ctx, logicalId: string): Resource {
  const role = resourceOf(ctx, logicalId);
  if (role?.type !== "AWS::IAM::Role") fail(ctx, logicalId, `role ${logicalId} (not in the template)`);
  return role;
}

/** Each Lambda function's role with everything attached to it, resolved to the local deployment. */
export function functionRoles(
  templates: SynthesizedTemplates,
  local: LocalDeployment,
): Record<FunctionName, IdentityPolicies> {
  const ctx = ctxFor(templates, local, "bot");
  const out = {} as Record<FunctionName, IdentityPolicies>;
  for (const [name, constructId] of Object.entries(FUNCTION_CONSTRUCT_IDS) as Array<[FunctionName, string]>) {
    const fn = functionNamed(templates.bot, constructId);
    out[name] = identityPolicies(ctx, roleById(ctx, roleOfFunction(fn)), "Roles");
  }
  return out;
}

/** The identity policy documents of each Lambda function's role (AWS managed ones left out: see functionRoles). */
export function functionPolicies(
  templates: SynthesizedTemplates,
  local: LocalDeployment,
): Record<FunctionName, PolicyDocument[]> {
  const roles = functionRoles(templates, local);
  return Object.fromEntries(
    Object.entries(roles).map(([name, role]) => [name, role.policies.map((p) => p.document)]),
  ) as Record<FunctionName, PolicyDocument[]>;
}

/** The uploaders group of the grants stack with its inline, managed and attached policies. */
export function uploadersGroup(templates: SynthesizedTemplates, local: LocalDeployment): IdentityPolicies {
  const ctx = ctxFor(templates, local, "grants");
  const groups = resources(templates.grants, "AWS::IAM::Group");
  if (groups.length !== 1)
    throw new Error(`expected one AWS::IAM::Group in the grants stack, found ${groups.length}`);
  return identityPolicies(ctx, groups[0] as Resource, "Groups");
}

export function uploadersGroupPolicies(
  templates: SynthesizedTemplates,
  local: LocalDeployment,
): PolicyDocument[] {
  return uploadersGroup(templates, local).policies.map((p) => p.document);
}

/** The role the Access Grants location uses (IamRoleArn of the location), with its trust policy. */
export function locationRole(templates: SynthesizedTemplates, local: LocalDeployment): IdentityPolicies {
  const ctx = ctxFor(templates, local, "grants");
  const locations = resources(templates.grants).filter((r) => r.type.endsWith("::AccessGrantsLocation"));
  if (locations.length !== 1) {
    throw new Error(`expected one AccessGrantsLocation in the grants stack, found ${locations.length}`);
  }
  const roleArn = (locations[0] as Resource).properties.IamRoleArn as { "Fn::GetAtt"?: [string, string] };
  const roleId = roleArn["Fn::GetAtt"]?.[0];
  if (!roleId) throw new Error("the Access Grants location's IamRoleArn is not a role of the grants stack");
  return identityPolicies(ctx, roleById(ctx, roleId), "Roles");
}

export function locationRolePolicies(
  templates: SynthesizedTemplates,
  local: LocalDeployment,
): PolicyDocument[] {
  return locationRole(templates, local).policies.map((p) => p.document);
}
