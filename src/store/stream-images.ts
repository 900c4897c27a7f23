// The one schema for the table's stream images (NewImage / OldImage, in AttributeValue form): unmarshall
// (@aws-sdk/util-dynamodb), then a field-by-field check of the two item kinds the provisioner acts on —
// a request's META item and an admin job item. Every other item on the stream (locks, open locks,
// audit events, secrets) decodes to `{ kind: "other" }`.
//
// The fields that identify and route an item are required (request: id, status; job: id, kind,
// targetUserId, jobState); every other field is checked when present (the store writes them all, but
// older items may lack newer ones). A field only one action needs (a job's actor; a denial DM's
// requesterUserId, subPrefix and permission) is required by that action with `requireFields`. Anything off throws
// MalformedImageError naming the field, never a cast that lets a wrong value through.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AccessTerms } from "../rules/change.ts";
import { ACTOR_KINDS, type Actor, REQUEST_STATUSES } from "../rules/lifecycle.ts";
import { PERMISSIONS } from "../rules/permission.ts";
import { JOB_PK_PREFIX, JOB_SK, type Job } from "./jobs.ts";
import type { AccessRequest, LastTransition, SlackMessageRef } from "./types.ts";

export class MalformedImageError extends Error {
  override readonly name = "MalformedImageError";
  constructor(
    /** What the image was taken for, e.g. "request REQ#r1". */
    readonly item: string,
    /** The attribute at fault, e.g. "status" or "lastTransition.actor.kind". */
    readonly field: string,
    problem: string,
  ) {
    super(`stream image of ${item}: ${field} ${problem}`);
  }
}

/** A request image: the routing fields for sure, the rest as far as the item has them. */
export type RequestImage = Pick<AccessRequest, "id" | "status"> &
  Partial<Omit<AccessRequest, "id" | "status">>;

/** A job image: the routing fields for sure, the rest as far as the item has them. */
export type JobImage = Pick<Job, "id" | "kind" | "targetUserId" | "jobState"> &
  Partial<Omit<Job, "id" | "kind" | "targetUserId" | "jobState">>;

export type StreamImage =
  | { kind: "request"; request: RequestImage }
  | { kind: "job"; job: JobImage }
  | { kind: "other" };

const REQUEST_PK_PREFIX = "REQ#";
const REQUEST_SK = "META";
const JOB_KINDS: readonly Job["kind"][] = ["revoke", "reissue", "close"];
const JOB_STATES: readonly Job["jobState"][] = ["QUEUED", "RUNNING", "DONE", "FAILED"];

type Item = Record<string, unknown>;

/**
 * Decodes one image. `image` is what a DynamoDBRecord carries (aws-lambda types it apart from the SDK's
 * AttributeValue; the shapes are the same). undefined → undefined.
 */
export function decodeStreamImage(image: object | undefined): StreamImage | undefined {
  if (image === undefined) return undefined;
  let item: Item;
  try {
    item = unmarshall(image as Record<string, AttributeValue>);
  } catch (err) {
    throw new MalformedImageError(
      "an item",
      "(image)",
      `is not in AttributeValue form (${(err as Error).message})`,
    );
  }
  const { pk, sk } = item;
  if (typeof pk !== "string") return { kind: "other" };
  if (pk.startsWith(REQUEST_PK_PREFIX) && sk === REQUEST_SK)
    return { kind: "request", request: parseRequest(item) };
  if (pk.startsWith(JOB_PK_PREFIX) && sk === JOB_SK) return { kind: "job", job: parseJob(item) };
  return { kind: "other" };
}

/** `value` with `names` checked present (they were type-checked by the decoder when present). */
export function requireFields<T extends RequestImage | JobImage, K extends keyof T>(
  value: T,
  item: string,
  ...names: K[]
): T & Required<Pick<T, K>> {
  for (const name of names) {
    if (value[name] === undefined) throw new MalformedImageError(item, String(name), "is missing");
  }
  return value as T & Required<Pick<T, K>>;
}

function parseRequest(item: Item): RequestImage {
  const f = new Fields(item, `request ${String(item.pk)}`);
  const progress = f.optional("progress", (v, name) => f.record(v, name));
  const request: RequestImage = {
    id: f.string("id"),
    status: f.oneOf("status", REQUEST_STATUSES),
  };
  const fields: Partial<AccessRequest> = {
    requesterUserId: f.optString("requesterUserId"),
    requesterTeamId: f.optString("requesterTeamId"),
    subPrefix: f.optString("subPrefix"),
    permission: f.optional("permission", (v, name) => f.member(v, name, PERMISSIONS)),
    durationDays: f.optNumber("durationDays"),
    reason: f.optString("reason"),
    createdAt: f.optString("createdAt"),
    updatedAt: f.optString("updatedAt"),
    expiresAt: f.optString("expiresAt"),
    decidedBy: f.optString("decidedBy"),
    decidedAt: f.optString("decidedAt"),
    activatedAt: f.optString("activatedAt"),
    closedBy: f.optString("closedBy"),
    closedAt: f.optString("closedAt"),
    lastTransition: f.optional("lastTransition", (v, name) => f.lastTransition(v, name)),
    // Each step's data is the store's own (written by recordProgress); only its container is checked.
    progress: progress as AccessRequest["progress"] | undefined,
    attempts: f.optNumber("attempts"),
    lastError: f.optString("lastError"),
    failureReason: f.optString("failureReason"),
    failureSummary: f.optString("failureSummary"),
    failureNotifiedAt: f.optString("failureNotifiedAt"),
    adminMessage: f.optional("adminMessage", (v, name) => f.messageRef(v, name)),
    reminderSentAt: f.optString("reminderSentAt"),
    announcedAt: f.optString("announcedAt"),
    activeUserId: f.optString("activeUserId"),
    redriveAt: f.optString("redriveAt"),
    cardClaimedAt: f.optString("cardClaimedAt"),
    changeOf: f.optString("changeOf"),
    changeFrom: f.optional("changeFrom", (v, name) => f.terms(v, name)),
    changeTo: f.optional("changeTo", (v, name) => f.terms(v, name)),
  };
  return { ...request, ...definedOnly(fields) };
}

function parseJob(item: Item): JobImage {
  const f = new Fields(item, `job ${String(item.pk)}`);
  const job: JobImage = {
    id: f.string("id"),
    kind: f.oneOf("kind", JOB_KINDS),
    targetUserId: f.string("targetUserId"),
    jobState: f.oneOf("jobState", JOB_STATES),
  };
  const fields: Partial<Job> = {
    teamId: f.optString("teamId"),
    subPrefix: f.optString("subPrefix"),
    reason: f.optString("reason"),
    actor: f.optional("actor", (v, name) => f.actor(v, name)),
    replyTo: f.optional("replyTo", (v, name) => {
      const r = f.record(v, name);
      return definedOnly({
        responseUrl: f.optional(`${name}.responseUrl`, (x, n) => f.str(x, n), r.responseUrl),
        channelId: f.optional(`${name}.channelId`, (x, n) => f.str(x, n), r.channelId),
      });
    }),
    requestedAt: f.optString("requestedAt"),
    updatedAt: f.optString("updatedAt"),
    attempts: f.optNumber("attempts"),
    leaseUntil: f.optNumber("leaseUntil"),
    resultText: f.optString("resultText"),
    failureReason: f.optString("failureReason"),
    finishedAt: f.optString("finishedAt"),
    redriveAt: f.optString("redriveAt"),
  };
  return { ...job, ...definedOnly(fields) };
}

/** Field checks over one item; every failure names the attribute path. */
class Fields {
  constructor(
    readonly item: Item,
    readonly what: string,
  ) {}

  fail(field: string, problem: string): never {
    throw new MalformedImageError(this.what, field, problem);
  }

  str(v: unknown, name: string): string {
    if (typeof v !== "string") this.fail(name, `must be a string (got ${show(v)})`);
    return v;
  }

  num(v: unknown, name: string): number {
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(name, `must be a number (got ${show(v)})`);
    return v;
  }

  record(v: unknown, name: string): Item {
    if (typeof v !== "object" || v === null || Array.isArray(v))
      this.fail(name, `must be a map (got ${show(v)})`);
    return v as Item;
  }

  member<T extends string>(v: unknown, name: string, allowed: readonly T[]): T {
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v))
      this.fail(name, `must be one of ${allowed.join(", ")} (got ${show(v)})`);
    return v as T;
  }

  actor(v: unknown, name: string): Actor {
    const a = this.record(v, name);
    return { kind: this.member(a.kind, `${name}.kind`, ACTOR_KINDS), id: this.str(a.id, `${name}.id`) };
  }

  messageRef(v: unknown, name: string): SlackMessageRef {
    const m = this.record(v, name);
    return { channel: this.str(m.channel, `${name}.channel`), ts: this.str(m.ts, `${name}.ts`) };
  }

  /** A change request's old or new terms (src/rules/change.ts AccessTerms). */
  terms(v: unknown, name: string): AccessTerms {
    const t = this.record(v, name);
    const expiresAt = this.optional(`${name}.expiresAt`, (x, n) => this.str(x, n), t.expiresAt);
    return {
      permission: this.member(t.permission, `${name}.permission`, PERMISSIONS),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  lastTransition(v: unknown, name: string): LastTransition {
    const t = this.record(v, name);
    const reason = this.optional(`${name}.reason`, (x, n) => this.str(x, n), t.reason);
    return {
      from: this.member(t.from, `${name}.from`, REQUEST_STATUSES),
      to: this.member(t.to, `${name}.to`, REQUEST_STATUSES),
      actor: this.actor(t.actor, `${name}.actor`),
      at: this.str(t.at, `${name}.at`),
      ...(reason !== undefined ? { reason } : {}),
    };
  }

  /** `check` on the value when it is there (`value` defaults to the item's attribute `name`). */
  optional<T>(
    name: string,
    check: (v: unknown, name: string) => T,
    value: unknown = this.item[name],
  ): T | undefined {
    return value === undefined ? undefined : check(value, name);
  }

  /** A required identifier: a non-empty string. */
  string(name: string): string {
    const v = this.str(this.item[name], name);
    if (v === "") this.fail(name, "must not be empty");
    return v;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    return this.member(this.item[name], name, allowed);
  }

  optString(name: string): string | undefined {
    return this.optional(name, (v, n) => this.str(v, n));
  }

  optNumber(name: string): number | undefined {
    return this.optional(name, (v, n) => this.num(v, n));
  }
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return Array.isArray(v) ? "a list" : typeof v;
}
