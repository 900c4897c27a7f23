// The provisioner's stream filter, as synthesized, against the states the handler acts on: the filter
// names exactly src/provisioner/trigger-states.ts's states, and for every request-lifecycle change
// Lambda invokes the provisioner exactly when the handler would act on the record.
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { synthesizedTemplates } from "../../dev/synthesized-policies.ts";
import { type Json, matchesFilter, only } from "../../dev/template-helpers.ts";
import { approvedRequestId, deniedRequest } from "../../src/provisioner/handler.ts";
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
});
