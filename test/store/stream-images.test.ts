/** The stream images' one schema (src/store/stream-images.ts): unmarshall, then every field checked. */
import { marshall } from "@aws-sdk/util-dynamodb";
import { describe, expect, it } from "vitest";
import { jobKey } from "../../src/store/jobs.ts";
import { requestKey } from "../../src/store/keys.ts";
import { decodeStreamImage, MalformedImageError, requireFields } from "../../src/store/stream-images.ts";

const request = {
  ...requestKey("r1"),
  id: "r1",
  requesterUserId: "U1",
  requesterTeamId: "T1",
  subPrefix: "cpg0042/*",
  permission: "READWRITE",
  status: "DENIED",
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:01:00.000Z",
  progress: {},
  attempts: 0,
  lastTransition: {
    from: "PENDING",
    to: "DENIED",
    actor: { kind: "admin", id: "UADMIN" },
    at: "2026-01-01T00:01:00.000Z",
    reason: "too broad",
  },
  adminMessage: { channel: "CADMINS", ts: "1.2" },
};
const job = {
  ...jobKey("j1"),
  id: "j1",
  kind: "revoke",
  jobState: "QUEUED",
  targetUserId: "U1",
  actor: { kind: "admin", id: "UADMIN" },
  requestedAt: "2026-01-01T00:00:00.000Z",
  replyTo: { responseUrl: "https://hooks.slack.com/x" },
  ttl: 1,
};

const decodeErr = (item: Record<string, unknown>) => {
  try {
    decodeStreamImage(marshall(item, { removeUndefinedValues: true }));
  } catch (err) {
    if (err instanceof MalformedImageError) return err;
    throw err;
  }
  throw new Error("decoded without error");
};

describe("stream image schema", () => {
  it("decodes a request META item without its keys", () => {
    const decoded = decodeStreamImage(marshall(request));
    expect(decoded).toEqual({
      kind: "request",
      request: expect.objectContaining({ id: "r1", status: "DENIED" }),
    });
    if (decoded?.kind !== "request") throw new Error("not a request");
    expect(decoded.request).not.toHaveProperty("pk");
    expect(decoded.request.lastTransition?.actor).toEqual({ kind: "admin", id: "UADMIN" });
  });

  it("decodes a job item (its TTL dropped) and every other item as other", () => {
    const decoded = decodeStreamImage(marshall(job));
    expect(decoded).toMatchObject({ kind: "job", job: { id: "j1", kind: "revoke", jobState: "QUEUED" } });
    if (decoded?.kind !== "job") throw new Error("not a job");
    expect(decoded.job).not.toHaveProperty("ttl");
    expect(decodeStreamImage(marshall({ pk: "REQ#r1", sk: "AUDIT#2026#e1", kind: "approved" }))).toEqual({
      kind: "other",
    });
    expect(decodeStreamImage(marshall({ pk: "LOCK#PERSON#U1", sk: "LOCK" }))).toEqual({ kind: "other" });
    expect(decodeStreamImage(undefined)).toBeUndefined();
  });

  it("a malformed request image names the bad field", () => {
    expect(decodeErr({ ...request, status: "APPROVEDISH" }).field).toBe("status");
    expect(decodeErr({ ...request, status: "APPROVEDISH" }).message).toMatch(
      /request REQ#r1: status must be one of PENDING, .* \(got "APPROVEDISH"\)/,
    );
    expect(decodeErr({ ...request, id: undefined }).field).toBe("id");
    expect(decodeErr({ ...request, requesterUserId: 42 }).field).toBe("requesterUserId");
    expect(decodeErr({ ...request, status: undefined }).field).toBe("status");
    expect(decodeErr({ ...request, permission: "ADMIN" }).field).toBe("permission");
    expect(decodeErr({ ...request, attempts: "3" }).field).toBe("attempts");
    expect(decodeErr({ ...request, progress: ["x"] }).field).toBe("progress");
    expect(decodeErr({ ...request, adminMessage: { channel: "C1" } }).field).toBe("adminMessage.ts");
    expect(
      decodeErr({
        ...request,
        lastTransition: { ...request.lastTransition, actor: { kind: "bot", id: "B" } },
      }).field,
    ).toBe("lastTransition.actor.kind");
  });

  it("a malformed job image names the bad field", () => {
    expect(decodeErr({ ...job, kind: "delete-everything" }).field).toBe("kind");
    expect(decodeErr({ ...job, jobState: undefined }).field).toBe("jobState");
    expect(decodeErr({ ...job, actor: "UADMIN" }).field).toBe("actor");
    expect(decodeErr({ ...job, replyTo: { responseUrl: 7 } }).field).toBe("replyTo.responseUrl");
  });

  it("an image that is not in AttributeValue form is malformed, not a crash", () => {
    expect(() => decodeStreamImage({ pk: { X: "nope" } })).toThrow(MalformedImageError);
  });

  it("requireFields asks for what one action needs beyond the routing fields", () => {
    const decoded = decodeStreamImage(
      marshall({ ...job, actor: undefined }, { removeUndefinedValues: true }),
    );
    if (decoded?.kind !== "job") throw new Error("not a job");
    expect(() => requireFields(decoded.job, "job j1", "actor")).toThrow(/job j1: actor is missing/);
  });
});

describe("a change request's image", () => {
  const change = {
    ...request,
    changeOf: "r0",
    changeFrom: { permission: "WRITE", expiresAt: "2026-01-20T00:00:00.000Z" },
    changeTo: { permission: "READWRITE", expiresAt: "2026-02-19T00:00:00.000Z" },
  };

  it("carries what it changes (the held request, old → new terms) to the denial DM", () => {
    const image = decodeStreamImage(marshall(change));
    expect(image).toMatchObject({
      kind: "request",
      request: { changeOf: "r0", changeFrom: change.changeFrom, changeTo: change.changeTo },
    });
  });

  it("names a malformed term, never casts it", () => {
    const bad = { ...change, changeTo: { permission: "ADMIN" } };
    expect(() => decodeStreamImage(marshall(bad))).toThrow(MalformedImageError);
    expect(() => decodeStreamImage(marshall(bad))).toThrow(
      /changeTo\.permission must be one of READ, WRITE, READWRITE/,
    );
  });
});
