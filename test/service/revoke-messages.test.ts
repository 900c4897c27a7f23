// The revoke messages' wording: the admin's reason is its own sentence, whatever follows it.
import { describe, expect, it } from "vitest";
import { revokedAdminPost, revokedDm } from "../../src/service/messages.ts";

const target = { bucket: "staging-cellpainting-gallery", region: "us-east-1", accountId: "123456789012" };
const summary = (reason?: string) => ({
  userId: "U0PERSON1",
  actor: "U0ADMIN01",
  revokedPrefixes: ["cpg0043/*"],
  remainingPrefixes: [],
  userDeleted: true,
  ...(reason !== undefined ? { reason } : {}),
});
const shown = (m: { text: string; blocks?: unknown }) => `${m.text}\n${JSON.stringify(m.blocks)}`;

describe("revoke messages", () => {
  it("end the admin's reason as a sentence, so the next one does not run on from it", () => {
    const post = shown(revokedAdminPost(target, summary("dataset published"), "revoked"));
    expect(post).toContain("Reason: dataset published. No grant left");
    expect(post).not.toContain("published No grant");
    expect(shown(revokedDm(target, summary("dataset published"), "revoked"))).toContain(
      "Reason: dataset published. Your cytoskel AWS keys",
    );
  });

  it("keep a reason's own full stop, and say nothing of a blank reason", () => {
    expect(shown(revokedAdminPost(target, summary("done!"), "revoked"))).toContain("Reason: done! No grant");
    expect(shown(revokedAdminPost(target, summary("   "), "revoked"))).not.toContain("Reason:");
  });
});
