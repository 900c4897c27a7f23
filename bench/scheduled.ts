// The scheduled job (expiry, reminders, pending reminders, its own failure reports) as the expiry
// function's role, with N ACTIVE grants in the table none of which is due: how many DynamoDB calls one
// run makes, and its time, for N = 10, 1,000 and 10,000. Only what is due should cost calls, so the
// count must not grow with N. The grants are records only (seeded through the store as the admin):
// nothing in the run touches IAM or Access Grants when nothing is due.

import { ADMIN_ID, type Harness, newUserId, startHarness } from "../dev/service-harness.ts";
import { runScheduledSweep } from "../src/service/scheduled.ts";
import type { BenchFigure, BenchSection } from "./section.ts";

const SIZES = [10, 1_000, 10_000] as const;
const WIDTH = 16;
const OPTS = { reminderDays: 3, pendingExpiryDays: 14, pendingReminderHours: 24 };

/** One ACTIVE request ending in 60 days (neither expiring nor in the reminder window). */
async function seedActive(h: Harness): Promise<void> {
  const { request } = await h.stores.requests.create({
    requesterUserId: newUserId(),
    requesterTeamId: "T0CYTOSKEL",
    subPrefix: "cpg0042/*",
    permission: "READ",
    durationDays: 60,
  });
  const actor = { kind: "admin" as const, id: ADMIN_ID };
  await h.stores.requests.transition(request.id, { from: "PENDING", to: "APPROVED", actor });
  await h.stores.requests.transition(request.id, {
    from: "APPROVED",
    to: "ACTIVE",
    actor: { kind: "system", id: "provisioner" },
    patch: { expiresAt: new Date(Date.now() + 60 * 86_400_000).toISOString() },
  });
}

export const section: BenchSection = {
  name: "scheduled",
  async run(): Promise<BenchFigure[]> {
    const h = await startHarness();
    const figures: BenchFigure[] = [];
    try {
      let seeded = 0;
      for (const n of SIZES) {
        let next = seeded;
        await Promise.all(
          Array.from({ length: WIDTH }, async () => {
            while (next < n) {
              next++;
              await seedActive(h);
            }
          }),
        );
        seeded = n;
        const before = h.aws.state.requests.length;
        const t = performance.now();
        const run = await runScheduledSweep(h.deps({}, "expiry"), OPTS);
        const ms = performance.now() - t;
        if (run.report.errors.length) throw new Error(`the run failed: ${JSON.stringify(run.report.errors)}`);
        const calls = h.aws.state.requests.slice(before);
        const dynamo = calls.filter((r) => r.service === "dynamodb");
        figures.push(
          { metric: `one run with ${n} active grants: DynamoDB calls`, value: dynamo.length, unit: "calls" },
          {
            metric: `one run with ${n} active grants: other AWS calls`,
            value: calls.length - dynamo.length,
            unit: "calls",
          },
          { metric: `one run with ${n} active grants: time`, value: ms, unit: "ms" },
        );
      }
      return figures;
    } finally {
      await h.stop();
    }
  },
};
