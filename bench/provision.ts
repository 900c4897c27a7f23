// Provisioner bench: approve → DM through the real path (store transition → local stream stand-in →
// provisioner handler → IAM/S3 Control on the local AWS stand-in → DM on the fake Slack API), against
// in-process stand-ins. Also counts the calls one provision makes to each service, measured on the wire
// (stand-in logs and a client middleware), so they are what the code sends.

import { type Harness, newUserId, startHarness, TEAM_ID } from "../dev/service-harness.ts";
import { startLocalStream } from "../dev/stream.ts";
import { handleProvisionerEvent } from "../src/provisioner/handler.ts";
import { provisionRequest } from "../src/service/provision.ts";
import { type BenchFigure, type BenchSection, percentile } from "./section.ts";

const RUNS = 50;
const ADMIN = { kind: "admin" as const, id: "UBENCHADMIN" };

async function file(h: Harness, userId: string, subPrefix: string) {
  const { request } = await h.stores.requests.create({
    requesterUserId: userId,
    requesterTeamId: TEAM_ID,
    subPrefix,
    permission: "READWRITE",
    durationDays: 30,
  });
  return request;
}

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("timed out waiting for the DM");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export const section: BenchSection = {
  name: "prov",
  async run(): Promise<BenchFigure[]> {
    const h = await startHarness();
    const stream = startLocalStream({
      client: h.dynamo.client,
      tableName: h.dynamo.tableName,
      onRecords: (event) => handleProvisionerEvent(h.deps(), event),
    });
    try {
      // Warm-up (module loading, connection set-up) is not what a warm Lambda pays per request.
      const warm = await file(h, newUserId(), "cpg0001/*");
      await h.stores.requests.transition(warm.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
      await stream.drain();

      const newKey: number[] = [];
      const existingKey: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const userId = newUserId();
        for (const [subPrefix, into] of [
          [`cpg${1000 + i}/*`, newKey],
          [`cpg${5000 + i}/*`, existingKey],
        ] as const) {
          const req = await file(h, userId, subPrefix);
          const dmsBefore = h.dmsTo(userId).length;
          const t0 = performance.now();
          await h.stores.requests.transition(req.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
          await waitFor(() => h.dmsTo(userId).length > dmsBefore);
          into.push(performance.now() - t0);
          await stream.drain();
        }
      }
      await stream.stop();

      // Calls one provision makes (new person: user, key, grant, link, DM), without the stream's own reads.
      // The provisioner's DynamoDB calls go through the local AWS (judged as its role): counted there.
      const calls = (service: "dynamodb" | "other") =>
        h.aws.state.requests.filter((r) => (r.service === "dynamodb") === (service === "dynamodb")).length;
      const userId = newUserId();
      const req = await file(h, userId, "cpg9999/*");
      await h.stores.requests.transition(req.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
      const awsBefore = calls("other");
      const slackBefore = h.slack.calls.length;
      const dynamoBefore = calls("dynamodb");
      const t0 = performance.now();
      await provisionRequest(h.deps(), req.id);
      const direct = performance.now() - t0;
      const awsCalls = calls("other") - awsBefore;
      const slackCalls = h.slack.calls.length - slackBefore;
      const dynamo = calls("dynamodb") - dynamoBefore;

      newKey.sort((a, b) => a - b);
      existingKey.sort((a, b) => a - b);
      return [
        { metric: `approve→DM, new keys, p50 (${RUNS} runs)`, value: percentile(newKey, 50), unit: "ms" },
        { metric: `approve→DM, new keys, p99 (${RUNS} runs)`, value: percentile(newKey, 99), unit: "ms" },
        {
          metric: `approve→DM, existing keys, p50 (${RUNS} runs)`,
          value: percentile(existingKey, 50),
          unit: "ms",
        },
        {
          metric: `approve→DM, existing keys, p99 (${RUNS} runs)`,
          value: percentile(existingKey, 99),
          unit: "ms",
        },
        { metric: "provisionRequest alone (one new person)", value: direct, unit: "ms" },
        { metric: "  IAM/STS/S3 Control calls", value: awsCalls, unit: "calls" },
        { metric: "  DynamoDB calls", value: dynamo, unit: "calls" },
        { metric: "  Slack calls", value: slackCalls, unit: "calls" },
      ];
    } finally {
      await stream.stop();
      await h.stop();
    }
  },
};
