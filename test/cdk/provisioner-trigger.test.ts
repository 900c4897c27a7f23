// The provisioner's stream filter, as synthesized, against the states the handler acts on: the filter
// names exactly src/provisioner/trigger-states.ts's states, and for every request-lifecycle change
// Lambda invokes the provisioner exactly when the handler would act on the record.
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { synthesizedTemplates } from "../../dev/synthesized-policies.ts";
import { type Json, matchesFilter, only } from "../../dev/template-helpers.ts";
import { approvedRequestId, deniedRequest, recordAction } from "../../src/provisioner/handler.ts";
import {
  DENY_NOTICE_TRANSITION,
  PROVISION_TRIGGER_STATUSES,
  QUEUED_JOB_STATE,
} from "../../src/provisioner/trigger-states.ts";
import { REQUEST_STATUSES } from "../../src/rules/lifecycle.ts";

let patterns: Json[];

beforeAll(async () => {
  const mapping = only((await synthesizedTemplates()).bot, "AWS::Lambda::EventSourceMapping");
  patterns = (mapping.properties.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters.map(
    (f) => JSON.parse(f.Pattern) as Json,
  );
});

/** Every string value of `key` anywhere in the patterns, anything-but lists included. */
function valuesOf(key: string): string[] {
  const found = new Set<string>();
  const walk = (v: unknown, under: boolean): void => {
    if (typeof v === "string") {
      if (under) found.add(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, under);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, under || k === key);
    }
  };
  walk(patterns, false);
  return [...found].sort();
}

const request = (status: string) => ({ pk: "REQ#r1", sk: "META", id: "r1", requesterUserId: "U1", status });
const record = (eventName: "INSERT" | "MODIFY", next: Json, prev?: Json): DynamoDBRecord => ({
  eventName,
  dynamodb: {
    NewImage: marshall(next) as never,
    ...(prev ? { OldImage: marshall(prev) as never } : {}),
  },
});

describe("the provisioner's stream filter", () => {
  it("names exactly the states of src/provisioner/trigger-states.ts", () => {
    expect(valuesOf("status")).toEqual(
      [
        ...new Set([...PROVISION_TRIGGER_STATUSES, DENY_NOTICE_TRANSITION.from, DENY_NOTICE_TRANSITION.to]),
      ].sort(),
    );
    expect(valuesOf("jobState")).toEqual([QUEUED_JOB_STATE]);
  });

  it("lets through every request change the handler acts on, and no other", () => {
    const changes: Array<[string, DynamoDBRecord]> = REQUEST_STATUSES.flatMap((to) => [
      [`INSERT ${to}`, record("INSERT", request(to))] as [string, DynamoDBRecord],
      ...REQUEST_STATUSES.map(
        (from) =>
          [`${from} -> ${to}`, record("MODIFY", request(to), request(from))] as [string, DynamoDBRecord],
      ),
    ]);
    for (const [what, r] of changes) {
      const filtered = patterns.some((p) => matchesFilter(p, r as unknown as Json));
      const handled = approvedRequestId(r) !== undefined || deniedRequest(r) !== undefined;
      expect(filtered, what).toBe(handled);
    }
  });

  it("lets through the reconciler's redrive of an APPROVED request or an unfinished job, which the handler acts on", () => {
    const job = (jobState: string, extra: Json = {}) => ({
      pk: "JOB#j1",
      sk: "JOB",
      id: "j1",
      kind: "revoke",
      targetUserId: "U1",
      jobState,
      ...extra,
    });
    const acted = (r: DynamoDBRecord) => recordAction(r).action !== "none";
    const filtered = (r: DynamoDBRecord) => patterns.some((p) => matchesFilter(p, r as unknown as Json));
    const cases: Array<[string, DynamoDBRecord, boolean]> = [
      [
        "APPROVED, first redrive",
        record("MODIFY", { ...request("APPROVED"), redriveAt: "t1" }, request("APPROVED")),
        true,
      ],
      [
        "APPROVED, second redrive",
        record(
          "MODIFY",
          { ...request("APPROVED"), redriveAt: "t2" },
          { ...request("APPROVED"), redriveAt: "t1" },
        ),
        true,
      ],
      ["QUEUED job redriven", record("MODIFY", job("QUEUED", { redriveAt: "t1" }), job("QUEUED")), true],
      [
        "RUNNING job redriven (lease lapsed)",
        record("MODIFY", job("RUNNING", { redriveAt: "t1" }), job("RUNNING")),
        true,
      ],
      // Later writes of a redriven item pass the filter (it cannot compare images); the handler ignores them.
      [
        "progress write after a redrive",
        record(
          "MODIFY",
          { ...request("APPROVED"), redriveAt: "t1", attempts: 1 },
          { ...request("APPROVED"), redriveAt: "t1" },
        ),
        false,
      ],
      [
        "ACTIVE after a redrive",
        record(
          "MODIFY",
          { ...request("ACTIVE"), redriveAt: "t1" },
          { ...request("APPROVED"), redriveAt: "t1" },
        ),
        false,
      ],
      [
        "job claimed after a redrive",
        record("MODIFY", job("RUNNING", { redriveAt: "t1" }), job("QUEUED", { redriveAt: "t1" })),
        false,
      ],
      [
        "DONE job",
        record("MODIFY", job("DONE", { redriveAt: "t2" }), job("RUNNING", { redriveAt: "t1" })),
        false,
      ],
    ];
    for (const [what, r, handled] of cases) {
      expect(acted(r), what).toBe(handled);
      if (handled) expect(filtered(r), what).toBe(true);
    }
  });
});
