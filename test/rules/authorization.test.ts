import { describe, expect, it } from "vitest";
import { authorize, isAdmin, refusalText } from "../../src/rules/authorization.ts";

const base = { actorUserId: "UADMIN", actorIsAdmin: true, requesterUserId: "UREQ", allowSelfApproval: false };

describe("isAdmin", () => {
  it("counts configured IDs and user-group members, nobody else", () => {
    const dir = { userIds: ["UADMIN"], groupMemberIds: ["UGROUP"] };
    expect(isAdmin("UADMIN", dir)).toBe(true);
    expect(isAdmin("UGROUP", dir)).toBe(true);
    expect(isAdmin("UOTHER", dir)).toBe(false);
    expect(isAdmin("", { userIds: [""] })).toBe(false);
  });
});

describe("authorize", () => {
  it("lets an admin approve someone else's request", () => {
    expect(authorize({ ...base, action: "approve" })).toEqual({ allowed: true });
  });

  it("refuses non-admins every admin action", () => {
    for (const action of ["approve", "deny", "retry", "revoke", "pending", "reissue"] as const) {
      expect(authorize({ ...base, action, actorIsAdmin: false })).toEqual({
        allowed: false,
        refusal: "NOT_ADMIN",
      });
    }
  });

  it("refuses self-approval unless config allows it, but allows denying one's own request", () => {
    const self = { ...base, actorUserId: "UREQ" };
    expect(authorize({ ...self, action: "approve" })).toEqual({ allowed: false, refusal: "SELF_APPROVAL" });
    expect(authorize({ ...self, action: "approve", allowSelfApproval: true })).toEqual({ allowed: true });
    expect(authorize({ ...self, action: "deny" })).toEqual({ allowed: true });
  });

  it("lets only the requester cancel", () => {
    expect(authorize({ ...base, action: "cancel", actorUserId: "UREQ", actorIsAdmin: false })).toEqual({
      allowed: true,
    });
    expect(authorize({ ...base, action: "cancel" })).toEqual({ allowed: false, refusal: "NOT_REQUESTER" });
  });

  it("explains each refusal and says nothing changed", () => {
    expect(refusalText("SELF_APPROVAL", "approve")).toMatch(/own request.*Nothing was changed/);
    expect(refusalText("NOT_ADMIN", "approve")).toMatch(/Only cytoskel admins can approve/);
  });
});
