// The service config follows the deployment's region: Lambda sets AWS_REGION, and the DMs, secret links
// and get-data-access instructions must name it (the grants live there), not the target's default.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/env.ts";
import { TARGETS } from "../../src/config/targets.ts";
import { provisionedDm } from "../../src/service/messages.ts";
import { targetSummary } from "../../src/service/provision.ts";
import { loadServiceConfig } from "../../src/service/runtime.ts";

const REQUIRED = {
  TABLE_NAME: "requests",
  ADMIN_CHANNEL_ID: "C0ADMIN",
  SLACK_BOT_TOKEN: "xoxb-1",
  SECRET_LINK_BASE_URL: "https://links.example.org",
  ACCESS_GRANTS_LOCATION_ID: "a1b2c3d4-0000-4000-8000-000000000001",
};

describe("service config region", () => {
  it("takes the target's region from AWS_REGION, which Lambda sets to the deployment's region", () => {
    const config = loadServiceConfig({ ...REQUIRED, AWS_REGION: "eu-west-1" });
    expect(config.target.region).toBe("eu-west-1");
    // The rest of the target is unchanged.
    expect(config.target.bucket).toBe(TARGETS.cpgstaging.bucket);
  });

  it("falls back to AWS_DEFAULT_REGION, then to the target's us-east-1", () => {
    expect(loadServiceConfig({ ...REQUIRED, AWS_DEFAULT_REGION: "ap-southeast-2" }).target.region).toBe(
      "ap-southeast-2",
    );
    expect(loadServiceConfig(REQUIRED).target.region).toBe(TARGETS.cpgstaging.region);
  });

  it("names the deployment's region in the instructions a provisioned DM carries", () => {
    const config = loadServiceConfig({ ...REQUIRED, AWS_REGION: "eu-west-1" });
    const dm = provisionedDm(
      targetSummary({ target: config.target, accountId: "111122223333" }),
      { id: "r1", subPrefix: "cpg0042/*", permission: "READ", requesterUserId: "U0ALICE" },
      { url: "https://links.example.org/s/abc#key", linkExpiresAt: "2026-12-02T00:00:00.000Z" },
    );
    const text = JSON.stringify(dm);
    expect(text).toContain("--region eu-west-1");
    expect(text).not.toContain("us-east-1");
  });

  it("refuses a malformed region, naming the variable", () => {
    expect(() => loadServiceConfig({ ...REQUIRED, AWS_REGION: "US East" })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ ...REQUIRED, AWS_REGION: "US East" })).toThrow(/AWS_REGION/);
  });
});
