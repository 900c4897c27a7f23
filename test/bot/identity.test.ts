/**
 * Who files a request: (org, user) from the signed payload, the org being the Enterprise Grid org when
 * Slack names one (an org-wide install sends enterprise_id; user IDs there are one person in every
 * workspace), else the workspace. One person filing from two workspaces of one org is one requester.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, requestIdIn, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe("requester identity", () => {
  it("under Enterprise Grid the request is filed under the enterprise, and a second workspace finds it", async () => {
    const user = "W0GRIDUSER1";
    const first = await h.slash(user, "request prefix cpg0042/* write for 30d plates", {
      teamId: "T0WORKSPACE1",
      enterpriseId: "E0GRIDORG",
    });
    const id = requestIdIn(first.json.text);
    expect((await h.stores.requests.get(id))?.requesterTeamId).toBe("E0GRIDORG");

    const second = await h.slash(user, "request prefix cpg0042/* write for 30d plates", {
      teamId: "T0WORKSPACE2",
      enterpriseId: "E0GRIDORG",
    });
    expect(second.json.text).toContain(`You already have request \`${id}\``);
    const page = await h.stores.requests.listByRequester(user);
    expect(page.items.map((r) => r.id)).toEqual([id]);
  });

  it("without an enterprise the request is filed under the workspace's team", async () => {
    const reply = await h.slash("U0PLAINUSER", "request prefix cpg0042/* read for 7d look", {
      teamId: "T0WORKSPACE3",
    });
    const id = requestIdIn(reply.json.text);
    expect((await h.stores.requests.get(id))?.requesterTeamId).toBe("T0WORKSPACE3");
  });
});
