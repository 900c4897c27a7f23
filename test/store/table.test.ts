import { describe, expect, it } from "vitest";
import { createTableInput, INDEX, TABLE_SCHEMA } from "../../src/store/table.ts";

describe("table definition", () => {
  const input = createTableInput("cytoskel-requests");

  it("declares every key attribute once, with one type", () => {
    const names = input.AttributeDefinitions?.map((a) => a.AttributeName) ?? [];
    expect(new Set(names).size).toBe(names.length);
    const keyNames = [
      TABLE_SCHEMA.partitionKey.name,
      TABLE_SCHEMA.sortKey.name,
      ...TABLE_SCHEMA.globalSecondaryIndexes.flatMap((g) => [g.partitionKey.name, g.sortKey.name]),
    ];
    expect(new Set(names)).toEqual(new Set(keyNames));
  });

  it("builds the CreateTable input from the same constants the CDK stack reads", () => {
    expect(input.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(Object.values(INDEX));
    expect(input.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" });
    expect(input.BillingMode).toBe("PAY_PER_REQUEST");
  });

  it("keeps the TTL attribute out of every key (TTL needs a number attribute the indexes do not use)", () => {
    const names = input.AttributeDefinitions?.map((a) => a.AttributeName);
    expect(names).not.toContain(TABLE_SCHEMA.timeToLiveAttribute);
  });
});
