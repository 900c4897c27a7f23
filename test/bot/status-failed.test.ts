/**
 * `/cytoskel status` for a request whose provisioning FAILED: the requester reads plain words, never
 * the admins' reason, which quotes AWS (ARNs, the action refused). Signed slash commands through the
 * bot's Lambda handler, the store read as the bot's synthesized role.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessRequest } from "../../src/store/types.ts";
import { ADMIN, type Harness, requestIdIn, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** What IAM answers a role without the permission, as the provisioner's admin card quotes it. */
const RAW_IAM =
  "AWS refused CreateUser: the provisioner's role lacks a permission (Access denied: User: arn:aws:sts::111122223333:assumed-role/CytoskelBot-ProvisionerRole1A2B3C/CytoskelBot-Provisioner is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/cytoskel/slack-T0-U0 because no identity-based policy allows the iam:CreateUser action).";

async function failedRequest(user: string, patch: { failureSummary?: string }): Promise<AccessRequest> {
  const id = requestIdIn((await h.slash(user, "request prefix cpg0042/* write for 14d plates")).json.text);
  await h.stores.requests.transition(id, {
    from: "PENDING",
    to: "APPROVED",
    actor: { kind: "admin", id: ADMIN },
  });
  return h.stores.requests.transition(id, {
    from: "APPROVED",
    to: "FAILED",
    actor: { kind: "system", id: "provisioner" },
    reason: RAW_IAM,
    patch: { failureReason: RAW_IAM, ...patch },
  });
}

describe("status of a FAILED request", () => {
  it("shows the plain-words reason the provisioner kept, never the raw IAM error text", async () => {
    const failed = await failedRequest("USTATFAIL1", {
      failureSummary: "cytoskel's own AWS permissions need a fix by an admin",
    });
    const text = (await h.slash("USTATFAIL1", "status")).json.text ?? "";
    expect(text).toContain(`\`${failed.id}\` FAILED`);
    expect(text).toContain("setting up access failed: cytoskel's own AWS permissions need a fix by an admin");
    expect(text).toContain("the admins were told and can retry it");
    for (const raw of ["arn:aws", "is not authorized to perform", "iam:CreateUser", "Access denied"]) {
      expect(text).not.toContain(raw);
    }
  });

  it("a request failed before plain words were kept still shows none of the admins' reason", async () => {
    const failed = await failedRequest("USTATFAIL2", {});
    expect(failed.failureReason).toBe(RAW_IAM);
    const text = (await h.slash("USTATFAIL2", "status")).json.text ?? "";
    expect(text).toContain(
      `\`${failed.id}\` FAILED (setting up access failed; the admins were told and can retry it)`,
    );
    expect(text).not.toContain("arn:aws");
    expect(text).not.toContain("not authorized");
  });
});
