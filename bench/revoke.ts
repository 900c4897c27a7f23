// Revoking a person with many grants (e.g. one per plate): revokeAccess as the provisioner's role for
// a person holding 1 grant and one holding 100 (99 added by the admin beside the provisioned one),
// wall time and the AWS calls it made, side by side in one run.

import { CreateAccessGrantCommand } from "@aws-sdk/client-s3-control";
import { ADMIN_ID, type Harness, newUserId, startHarness } from "../dev/service-harness.ts";
import { provisionRequest } from "../src/service/provision.ts";
import { revokeAccess } from "../src/service/revoke.ts";
import type { BenchFigure, BenchSection } from "./section.ts";

async function revokeOneHolding(h: Harness, grants: number): Promise<{ ms: number; awsCalls: number }> {
  const userId = newUserId();
  const request = await h.approved(userId);
  await provisionRequest(h.deps(), request.id);
  const arn = h.iamUser(userId)?.arn ?? "";
  for (let i = 1; i < grants; i++) {
    await h.s3control.send(
      new CreateAccessGrantCommand({
        AccountId: h.aws.accountId,
        AccessGrantsLocationId: h.locationId,
        AccessGrantsLocationConfiguration: { S3SubPrefix: `cpg0042/plate${i}/*` },
        Grantee: { GranteeType: "IAM", GranteeIdentifier: arn },
        Permission: "READ",
      }),
    );
  }
  const before = h.aws.state.requests.length;
  const t = performance.now();
  await revokeAccess(h.deps(), { userId, actor: { kind: "admin", id: ADMIN_ID } });
  const ms = performance.now() - t;
  const awsCalls = h.aws.state.requests.slice(before).filter((r) => r.service !== "dynamodb").length;
  if (h.awsStateOf(userId).exists) throw new Error("revoke left the IAM user behind");
  return { ms, awsCalls };
}

export const section: BenchSection = {
  name: "revoke",
  async run(): Promise<BenchFigure[]> {
    const h = await startHarness();
    try {
      const one = await revokeOneHolding(h, 1);
      const hundred = await revokeOneHolding(h, 100);
      return [
        { metric: "revoke, 1 grant: time", value: one.ms, unit: "ms" },
        { metric: "revoke, 1 grant: IAM/S3 Control calls", value: one.awsCalls, unit: "calls" },
        { metric: "revoke, 100 grants: time", value: hundred.ms, unit: "ms" },
        { metric: "revoke, 100 grants: IAM/S3 Control calls", value: hundred.awsCalls, unit: "calls" },
        { metric: "revoke, 100 grants / 1 grant, time", value: hundred.ms / one.ms, unit: "x" },
      ];
    } finally {
      await h.stop();
    }
  },
};
