/**
 * The scheduled job reports its own failures to the admin channel, once per failure kind across runs:
 * posted when a kind first appears, not again while it persists, forgotten after a run without it, and
 * posted again when it fails anew. Runs as the expiry function's synthesized role (the local AWS judges
 * every DynamoDB call on the SWEEP# items), fake clock, no sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_CHANNEL, type Harness, newUserId, startHarness } from "../../dev/service-harness.ts";
import type { ServiceDeps } from "../../src/service/deps.ts";
import { SlackNotifyError } from "../../src/service/notifier.ts";
import { runScheduledSweep } from "../../src/service/scheduled.ts";
import {
  reportSweepFailures,
  type SweepFailureStorePort,
  sweepError,
} from "../../src/service/sweep-failures.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const DAY = 86_400_000;
const OPTS = { reminderDays: 3, pendingExpiryDays: 14 };
const at = (days: number) => () => new Date(Date.now() + days * DAY);

const activeFor = (userId: string, subPrefix: string, durationDays: number) =>
  h.active(userId, { subPrefix, durationDays });

/** The expiry role's failure store, with every call it makes named. */
function countedStore(): { store: SweepFailureStorePort; calls: string[] } {
  const real = h.deps({}, "expiry").sweepFailures;
  if (!real) throw new Error("the expiry runtime has no sweep-failure store");
  const calls: string[] = [];
  const named =
    <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      calls.push(name);
      return fn(...args);
    };
  return {
    calls,
    store: {
      list: named("list", () => real.list()),
      claim: named("claim", (kind: string, when: string) => real.claim(kind, when)),
      clear: named("clear", (kind: string) => real.clear(kind)),
    },
  };
}

async function sweep(days: number) {
  const counted = countedStore();
  const run = await runScheduledSweep(
    h.deps({ now: at(days), sweepFailures: counted.store }, "expiry"),
    OPTS,
  );
  return { ...run, storeCalls: counted.calls };
}

const failurePosts = (kind: string) =>
  h.slack
    .callsTo("chat.postMessage")
    .filter((c) => c.args.channel === ADMIN_CHANNEL && JSON.stringify(c.args).includes(`\`${kind}\``));

/** What IAM answers the expiry role when its policy lacks iam:ListUsers (the stand-in's wording). */
function denyListUsers(times: number) {
  h.aws.failNext("ListUsers", {
    code: "AccessDenied",
    status: 403,
    times,
    message: `User: arn:aws:sts::${h.aws.accountId}:assumed-role/CytoskelBot-ExpiryRole/fn is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${h.aws.accountId}:user/cytoskel/ because no identity-based policy allows the iam:ListUsers action`,
  });
}

describe("the scheduled job's own failures", () => {
  it("a revoke IAM denies is posted once across two runs, forgotten after a run without it, and posted again when it fails anew", async () => {
    const kind = "expire:aws-permission";
    const first = newUserId();
    await activeFor(first, "cpg0042/*", 7);
    const dynamoBefore = h.aws.state.requests.length;
    denyListUsers(2);

    const run1 = await sweep(8);
    expect(run1.report.errors.map((e) => [e.id, e.kind])).toEqual([[first, kind]]);
    expect(run1.failures.posted).toEqual([kind]);
    const [post, ...others] = failurePosts(kind);
    expect(others).toEqual([]);
    expect(post?.args.text).toContain(`could not end expired access for <@${first}>`);
    expect(post?.args.text).toContain("the expiry job's role lacks a permission");
    expect(run1.storeCalls).toEqual(["list", "claim"]);

    // Fifteen minutes later, the same failure: nothing new in the channel, one store call.
    const run2 = await sweep(8);
    expect(run2.report.errors.map((e) => e.kind)).toEqual([kind]);
    expect(run2.failures.posted).toEqual([]);
    expect(failurePosts(kind)).toHaveLength(1);
    expect(run2.storeCalls).toEqual(["list"]);

    // IAM answers again: the person's access ends and the kind is forgotten.
    const run3 = await sweep(8);
    expect(run3.report.errors).toEqual([]);
    expect(run3.failures.recovered).toEqual([kind]);
    expect(run3.storeCalls).toEqual(["list", "clear"]);

    // A steady healthy run: one Query, nothing else.
    expect((await sweep(8)).storeCalls).toEqual(["list"]);

    // The same kind fails anew (another person): posted again.
    const second = newUserId();
    await activeFor(second, "cpg0043/*", 7);
    denyListUsers(1);
    const run5 = await sweep(8);
    expect(run5.failures.posted).toEqual([kind]);
    expect(failurePosts(kind)).toHaveLength(2);
    expect(failurePosts(kind).at(-1)?.args.text).toContain(`<@${second}>`);
    await sweep(8); // recovers, so the tests below start clean

    // Every DynamoDB call of these runs, the SWEEP# items' included, was allowed to the expiry role.
    const denied = h.aws.state.requests
      .slice(dynamoBefore)
      .filter((r) => r.service === "dynamodb" && r.status >= 300);
    expect(denied).toEqual([]);
  });

  it("a reminder Slack refuses is a kind of its own, posted once with the request it concerns", async () => {
    const userId = newUserId();
    const req = await activeFor(userId, "cpg0044/*", 30);
    h.slack.failNext("chat.postMessage", "channel_not_found");

    const run = await sweep(28);
    expect(run.report.errors.map((e) => [e.id, e.kind])).toEqual([[req.id, "remind:slack"]]);
    expect(run.failures.posted).toEqual(["remind:slack"]);
    const [post] = failurePosts("remind:slack");
    expect(post?.args.text).toContain(`could not send expiry reminders for \`${req.id}\``);
    expect(post?.args.text).toContain("channel_not_found");

    const next = await sweep(28);
    expect(next.report.reminded).toEqual([req.id]);
    expect(next.failures.recovered).toEqual(["remind:slack"]);
    expect(failurePosts("remind:slack")).toHaveLength(1);
  });
});

describe("a failure post Slack refuses", () => {
  it("releases the kind's claim so the next run posts it, and says it was not sent", async () => {
    const records = new Map<string, string>();
    const store: SweepFailureStorePort = {
      list: async () => [...records].map(([kind, reportedAt]) => ({ kind, reportedAt })),
      claim: async (kind, when) => !records.has(kind) && Boolean(records.set(kind, when)),
      clear: async (kind) => void records.delete(kind),
    };
    let refuse = true;
    const posted: string[] = [];
    const notifier = {
      async postAdminChannel(message: { text: string }) {
        if (refuse) throw new SlackNotifyError("postAdminChannel", "invalid_auth");
        posted.push(message.text);
        return { channel: ADMIN_CHANNEL, ts: "1" };
      },
    } as unknown as ServiceDeps["notifier"];
    const errors = [sweepError("expire", "U1", new Error("boom"))];

    const refused = await reportSweepFailures({ notifier, sweepFailures: store }, errors, { complete: true });
    expect(refused).toEqual({ posted: [], recovered: [], unsent: ["expire:unexpected"] });
    expect(records.size).toBe(0);

    refuse = false;
    const sent = await reportSweepFailures({ notifier, sweepFailures: store }, errors, { complete: true });
    expect(sent.posted).toEqual(["expire:unexpected"]);
    expect(posted).toEqual([expect.stringContaining("Unexpected error (Error); see the expiry job logs")]);
  });

  it("a run that stopped early forgets no kind (the parts that did not run proved nothing)", async () => {
    const cleared: string[] = [];
    const store: SweepFailureStorePort = {
      list: async () => [{ kind: "remind:slack", reportedAt: "2026-12-01T00:00:00.000Z" }],
      claim: async () => true,
      clear: async (kind) => void cleared.push(kind),
    };
    const notifier = {
      postAdminChannel: async () => ({ channel: ADMIN_CHANNEL, ts: "1" }),
    } as unknown as ServiceDeps["notifier"];
    const out = await reportSweepFailures(
      { notifier, sweepFailures: store },
      [sweepError("sweep", "run", new Error("listing failed"))],
      { complete: false },
    );
    expect(out).toEqual({ posted: ["sweep:unexpected"], recovered: [], unsent: [] });
    expect(cleared).toEqual([]);
  });
});
