// What a requester typed as their reason reaches the admin channel again in every card after the first
// (active, failed, expired unanswered, revoked/expired): it must stay inert there too.
import { describe, expect, it } from "vitest";
import {
  adminActiveMessage,
  adminEndedMessage,
  adminFailedMessage,
  adminPendingExpiredMessage,
} from "../../src/service/messages.ts";

const HOSTILE = "<!channel> urgent <@UVICTIM> <#CSECRET> <https://evil.example|Re-approve here>";
const target = { bucket: "staging-cellpainting-gallery", region: "us-east-1", accountId: "123456789012" };
const req = {
  id: "req-hostile",
  requesterUserId: "UALICE",
  subPrefix: "cpg0042/*",
  permission: "READWRITE",
  durationDays: 30,
  reason: HOSTILE,
};

const cards = {
  active: adminActiveMessage(target, req, { newKey: true, grantReused: false }),
  failed: adminFailedMessage(target, req, "IAM said no"),
  "expired unanswered": adminPendingExpiredMessage(target, req),
  revoked: adminEndedMessage(target, req, { status: "REVOKED", actor: "UADMIN", at: "2026-12-01T00:00:00Z" }),
};

describe("admin cards after the first", () => {
  for (const [name, card] of Object.entries(cards)) {
    it(`${name}: the reason is shown, with no mention, ping, channel link or disguised link left in it`, () => {
      const rendered = JSON.stringify(card.blocks);
      expect(rendered).toContain("urgent");
      for (const live of ["<!channel>", "<@UVICTIM>", "<#CSECRET>", "<https://evil.example|"])
        expect(rendered).not.toContain(live);
    });
  }
});
