// What enforcing IAM in the local stand-ins costs: the bot's ack (slash command and Approve click) and
// one provisioning, each built by the function's own factory from its environment and signing as its
// synthesized role through the judging local AWS, beside the same code signing as the account root
// (the same hops, nothing judged). Runs are interleaved so machine noise falls on both alike.

import { deployLocally } from "../dev/deployed-roles.ts";
import { startDynamo } from "../dev/dynamodb.ts";
import { startFakeSlack } from "../dev/fake-slack.ts";
import { startLocalAws } from "../dev/local-aws/index.ts";
import { blockActionBody, signedEvent, slashCommandBody } from "../dev/slack-requests.ts";
import { createIamClient, createS3ControlClient } from "../src/aws/clients.ts";
import { createBotHandlerFromEnv } from "../src/bot/lambda.ts";
import { getTarget } from "../src/config/targets.ts";
import type { ServiceDeps } from "../src/service/deps.ts";
import { silentLogger } from "../src/service/deps.ts";
import { provisionRequest } from "../src/service/provision.ts";
import { createServiceRuntime, loadServiceConfig } from "../src/service/runtime.ts";
import { type BenchFigure, type BenchSection, percentile } from "./section.ts";

const ACKS = 300;
const PROVISIONS = 30;
const SLOW_ACKS = 50;
const SECRET = "bench-authz-signing-secret";
const ADMIN = "UAUTHZADMIN";
const TEAM = "T0BENCHAZ";

export const section: BenchSection = {
  name: "authz",
  async run(): Promise<BenchFigure[]> {
    const db = await startDynamo();
    const local = await startLocalAws({ dynamodbEndpoint: db.endpoint });
    const slack = await startFakeSlack({ teamId: TEAM });
    const target = getTarget("cpgstaging");
    const admin = {
      iam: createIamClient({ env: local.env }),
      s3control: createS3ControlClient({ env: local.env }),
    };
    try {
      const deployed = await deployLocally(local, admin.iam, {
        tableName: db.tableName,
        locationScope: target.locationScope,
        slack: { signingSecret: SECRET, botToken: "xoxb-bench-authz" },
      });
      const { roles, locationId } = deployed;
      // Each function as its Lambda entry builds it, from the environment it gets: its role's (judged),
      // or the account root's (the stand-in's admin key: unjudged), with the same settings.
      const common = {
        TABLE_NAME: db.tableName,
        SLACK_BOT_TOKEN_ARN: deployed.secrets.botTokenArn,
        SLACK_API_URL: slack.apiUrl,
        SLACK_MAX_RETRIES: "0",
        AWS_REGION: "us-east-1",
      };
      const envAs = (m: "root" | "enforced", fn: "bot" | "provisioner") =>
        m === "root" ? local.env : roles.functions[fn].env;
      const bot = (m: "root" | "enforced") =>
        createBotHandlerFromEnv(
          {
            ...envAs(m, "bot"),
            ...common,
            SLACK_SIGNING_SECRET_ARN: deployed.secrets.signingSecretArn,
            SLACK_BOT_ID: "BBENCHAZ",
            SLACK_BOT_USER_ID: "UBENCHAZBOT",
            ADMIN_USER_IDS: ADMIN,
            ADMIN_CHANNEL_ID: "CBENCHAZ",
          },
          { logger: silentLogger, receiverLogger: silentLogger },
        );
      const handlers = { root: bot("root"), enforced: bot("enforced") };
      const deps = async (m: "root" | "enforced"): Promise<ServiceDeps> => {
        const env = {
          ...envAs(m, "provisioner"),
          ...common,
          ADMIN_CHANNEL_ID: "CBENCHAZ",
          SECRET_LINK_BASE_URL: "http://127.0.0.1:9/links",
          ACCESS_GRANTS_LOCATION_ID: locationId,
          AWS_ACCOUNT_ID: local.accountId,
        };
        const runtime = await createServiceRuntime(loadServiceConfig(env), env);
        return { ...(await runtime.deps()), log: silentLogger };
      };
      const serviceDeps = { root: await deps("root"), enforced: await deps("enforced") };
      const modes = ["root", "enforced"] as const;
      const ms = {
        file: { root: [] as number[], enforced: [] as number[] },
        approve: { root: [] as number[], enforced: [] as number[] },
        provision: { root: [] as number[], enforced: [] as number[] },
      };

      const time = async (f: () => Promise<unknown>) => {
        const t = performance.now();
        await f();
        return performance.now() - t;
      };
      const slash = (user: string, text: string) =>
        signedEvent(
          SECRET,
          slashCommandBody({ userId: user, teamId: TEAM, text, responseUrl: slack.responseUrl() }),
        );

      for (let i = 0; i < 30; i++)
        for (const m of modes) await handlers[m](slash(`UWARM${m}${i}`, "status"), {});
      /** File a request as `user` and click Approve on its card; the two ack times. */
      const fileAndApprove = async (m: (typeof modes)[number], user: string, prefix: string) => {
        let filedBody = "";
        const file = await time(async () => {
          filedBody = (await handlers[m](slash(user, `request prefix ${prefix}/* read`), {})).body;
        });
        const id = /Request `([^`]+)` filed/.exec(JSON.parse(filedBody).text ?? "")?.[1] ?? "";
        const card = [...slack.messages.values()].find((msg) => JSON.stringify(msg.blocks).includes(id));
        const blocks = (card?.blocks ?? []) as Array<{
          elements?: Array<{ action_id?: string; value?: string }>;
        }>;
        const value =
          blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === "cytoskel_approve")?.value ??
          "";
        const click = signedEvent(
          SECRET,
          blockActionBody({
            userId: ADMIN,
            teamId: TEAM,
            actionId: "cytoskel_approve",
            value,
            channelId: card?.channel ?? "",
            messageTs: card?.ts ?? "",
            responseUrl: slack.responseUrl(),
          }),
        );
        const approve = await time(() => handlers[m](click, {}));
        return { id, file, approve };
      };
      for (let i = 0; i < ACKS; i++) {
        for (const m of modes) {
          const { id, file, approve } = await fileAndApprove(
            m,
            `UAZ${m === "root" ? "R" : "E"}${i}`,
            `cpg${i}`,
          );
          ms.file[m].push(file);
          ms.approve[m].push(approve);
          if (i < PROVISIONS) ms.provision[m].push(await time(() => provisionRequest(serviceDeps[m], id)));
        }
      }
      // The acks never wait on IAM or S3 Control (the provisioner does that work from the stream): with
      // every IAM/STS and S3 Control answer 1 s late, they must not move.
      local.setLatency({ iam: 1_000, s3control: 1_000 });
      const slowAcks = { file: [] as number[], approve: [] as number[] };
      for (let i = 0; i < SLOW_ACKS; i++) {
        const { file, approve } = await fileAndApprove("enforced", `UAZS${i}`, `slow${i}`);
        slowAcks.file.push(file);
        slowAcks.approve.push(approve);
      }
      local.setLatency({ iam: 0, s3control: 0 });
      const figures: BenchFigure[] = [];
      for (const [what, label] of [
        ["file", `ack: /cytoskel request (n=${ACKS})`],
        ["approve", `ack: Approve click (n=${ACKS})`],
        ["provision", `provisionRequest, new person (n=${PROVISIONS})`],
      ] as const) {
        const root = [...ms[what].root].sort((a, b) => a - b);
        const enforced = [...ms[what].enforced].sort((a, b) => a - b);
        for (const p of [50, 99]) {
          figures.push({ metric: `${label} p${p}, unjudged (root)`, value: percentile(root, p), unit: "ms" });
          figures.push({
            metric: `${label} p${p}, as its synthesized role`,
            value: percentile(enforced, p),
            unit: "ms",
          });
          figures.push({
            metric: `${label} p${p}, ratio judged/unjudged`,
            value: percentile(enforced, p) / percentile(root, p),
            unit: "x",
          });
        }
      }
      for (const [what, label] of [
        ["file", "ack: /cytoskel request"],
        ["approve", "ack: Approve click"],
      ] as const) {
        const slow = [...slowAcks[what]].sort((a, b) => a - b);
        const fast = [...ms[what].enforced].sort((a, b) => a - b);
        for (const p of [50, 99]) {
          figures.push({
            metric: `${label} p${p} with 1 s on every IAM/S3 Control call (n=${SLOW_ACKS})`,
            value: percentile(slow, p),
            unit: "ms",
          });
          figures.push({
            metric: `${label} p${p}, ratio 1 s latency / none`,
            value: percentile(slow, p) / percentile(fast, p),
            unit: "x",
          });
        }
      }
      roles.close();
      return figures;
    } finally {
      admin.iam.destroy();
      admin.s3control.destroy();
      await slack.stop();
      await local.stop();
      await db.stop();
    }
  },
};
