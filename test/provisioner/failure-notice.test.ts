/**
 * What the requester hears when provisioning fails: one DM in plain words (never AWS text), sent once
 * per request — a redelivered stream record or an admin's Retry that fails again sends nothing more —
 * and `/cytoskel status` shows the same plain words. The failure is a real one: the provisioner signs as
 * its synthesized role, and CreateUser under a path that role does not cover is denied by the local
 * AWS with AWS's own wording ("User: arn:aws:sts::… is not authorized to perform: iam:CreateUser …").
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ID, type Harness, newUserId, startHarness, TARGET } from "../../dev/service-harness.ts";
import { statusText } from "../../src/bot/views.ts";
import { handleProvisionerEvent, type RetryPolicy } from "../../src/provisioner/handler.ts";
import type { ServiceDeps } from "../../src/service/deps.ts";
import type { AccessRequest } from "../../src/store/types.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const NO_WAIT: RetryPolicy = { maxAttempts: 1, sleep: async () => {} };
/** IAM users under a path the provisioner's role (user/cytoskel/*) does not cover: CreateUser is denied. */
const deniedDeps = (): ServiceDeps => h.deps({ target: { ...TARGET, iamPath: "/elsewhere/" } });
const RAW_AWS = /arn:aws|not authorized|iam:CreateUser|AccessDenied/;

let seq = 0;
/** The stream record of a transition into APPROVED, as Lambda delivers it. */
function approvalRecord(request: AccessRequest, from: string): DynamoDBRecord {
  seq += 1;
  const keys = { pk: `REQ#${request.id}`, sk: "META" };
  const image = (status: string) =>
    marshall({ ...keys, ...request, status }, { removeUndefinedValues: true }) as never;
  return {
    eventName: "MODIFY",
    eventSource: "aws:dynamodb",
    dynamodb: {
      SequenceNumber: String(1000 + seq),
      Keys: marshall(keys) as never,
      NewImage: image("APPROVED"),
      OldImage: image(from),
    },
  };
}

const dmText = (userId: string) => h.dmsTo(userId).map((c) => JSON.stringify(c.args));

describe("a provisioning that fails", () => {
  it("DMs the requester once in plain words; a redelivered record and a Retry that fails again send nothing more", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0042/*" });
    const record = approvalRecord(approved, "PENDING");

    await handleProvisionerEvent(deniedDeps(), { Records: [record] }, NO_WAIT);

    const failed = await h.stores.requests.get(approved.id);
    expect(failed?.status).toBe("FAILED");
    // Admins get AWS's own words (the card); the requester never does.
    expect(failed?.failureReason).toMatch(/is not authorized to perform: iam:CreateUser/);
    expect(failed?.failureSummary).toBe("cytoskel's own AWS permissions need a fix by an admin");
    expect(failed?.failureNotifiedAt).toBeDefined();
    const [dm, ...more] = dmText(userId);
    expect(more).toEqual([]);
    expect(dm).toContain(`Your request \`${approved.id}\``);
    expect(dm).toContain("cytoskel's own AWS permissions need a fix by an admin");
    expect(dm).toContain("admins have been told and can retry");
    expect(dm).toContain("you'll get a direct message with your access");
    expect(dm).not.toMatch(RAW_AWS);

    // Lambda delivers the same record again: the request is FAILED and its requester already told.
    await handleProvisionerEvent(deniedDeps(), { Records: [record] }, NO_WAIT);
    expect(h.dmsTo(userId)).toHaveLength(1);

    // An admin's Retry (FAILED → APPROVED) that fails the same way again.
    const retried = await h.stores.requests.transition(approved.id, {
      from: "FAILED",
      to: "APPROVED",
      actor: { kind: "admin", id: ADMIN_ID },
    });
    expect(retried.failureSummary).toBeUndefined();
    await handleProvisionerEvent(deniedDeps(), { Records: [approvalRecord(retried, "FAILED")] }, NO_WAIT);
    const again = await h.stores.requests.get(approved.id);
    expect(again?.status).toBe("FAILED");
    expect(again?.attempts).toBe(2);
    expect(h.dmsTo(userId)).toHaveLength(1);
  });

  it("costs no DynamoDB write more than before when it posts the admin card (told and card in one annotate)", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0043/*" });
    const start = h.aws.state.requests.length;

    await handleProvisionerEvent(deniedDeps(), { Records: [approvalRecord(approved, "PENDING")] }, NO_WAIT);

    const writes = h.aws.state.requests
      .slice(start)
      .filter((r) => r.service === "dynamodb" && /Put|Update|Delete|TransactWrite/.test(r.operation))
      .map((r) => r.operation);
    // Lock, unlock, the attempt, → FAILED (one transaction), then one annotate: the card's location and
    // the requester's notice together (before this notice it carried the card's location alone).
    expect(writes).toEqual(["PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems", "UpdateItem"]);
    const failed = await h.stores.requests.get(approved.id);
    expect(failed?.adminMessage).toBeDefined();
    expect(failed?.failureNotifiedAt).toBeDefined();
    expect(h.dmsTo(userId)).toHaveLength(1);
  });

  it("a delivery that died after FAILED was written and before the DM: the redelivery tells the requester, once", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0044/*" });
    // What the dead delivery left: FAILED (with its plain words), nobody told.
    await h.stores.requests.transition(approved.id, {
      from: "APPROVED",
      to: "FAILED",
      actor: { kind: "system", id: "provisioner" },
      patch: {
        failureReason: "AWS was unreachable during CreateUser.",
        failureSummary: "AWS could not be reached while setting it up",
      },
    });
    const record = approvalRecord(approved, "PENDING");

    await handleProvisionerEvent(h.deps(), { Records: [record] }, NO_WAIT);
    await handleProvisionerEvent(h.deps(), { Records: [record] }, NO_WAIT);

    const [dm, ...more] = dmText(userId);
    expect(more).toEqual([]);
    expect(dm).toContain("AWS could not be reached while setting it up");
    expect((await h.stores.requests.get(approved.id))?.failureNotifiedAt).toBeDefined();
  });
});

describe("/cytoskel status of a FAILED request", () => {
  it("shows the plain-words reason, never the raw AWS text kept for admins", async () => {
    const userId = newUserId();
    const approved = await h.approved(userId, { subPrefix: "cpg0045/*" });
    await handleProvisionerEvent(deniedDeps(), { Records: [approvalRecord(approved, "PENDING")] }, NO_WAIT);
    const failed = await h.stores.requests.get(approved.id);
    expect(failed?.failureReason).toMatch(RAW_AWS);

    const text = statusText(TARGET.bucket, failed ? [failed] : []);
    expect(text).toContain(`\`${approved.id}\` FAILED`);
    expect(text).toContain("setting up access failed: cytoskel's own AWS permissions need a fix by an admin");
    expect(text).toContain("the admins were told and can retry it");
    expect(text).not.toMatch(RAW_AWS);
  });
});
