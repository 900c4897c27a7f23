// What enforcing IAM in the local stand-ins costs: the bot's ack (slash command and Approve click) and
// one provisioning, each measured with the function's store and clients signing as its synthesized role
// through the judging local AWS, beside the same code talking to DynamoDB Local and the stand-in as the
// account root (nothing judged). Runs are interleaved so machine noise falls on both alike.

import { deployRoles, seedUploadersGroup } from "../dev/deployed-roles.ts";
import { startDynamo } from "../dev/dynamodb.ts";
import { startFakeSlack } from "../dev/fake-slack.ts";
import { seedAccessGrantsLocation, startLocalAws } from "../dev/local-aws/index.ts";
import { blockActionBody, signedEvent, slashCommandBody } from "../dev/slack-requests.ts";
import { createIamClient, createS3ControlClient } from "../src/aws/clients.ts";
import { loadBotConfig, resolveBotConfig } from "../src/bot/config.ts";
import { createBotHandler } from "../src/bot/handler.ts";
import { getTarget } from "../src/config/targets.ts";
import type { ServiceDeps } from "../src/service/deps.ts";
import { silentLogger } from "../src/service/deps.ts";
import { createSlackNotifier, createWebClient } from "../src/service/notifier.ts";
import { provisionRequest } from "../src/service/provision.ts";
import { createDynamoUserLocks } from "../src/service/user-lock.ts";
import { createStores } from "../src/store/index.ts";
import { type BenchFigure, type BenchSection, percentile } from "./section.ts";

const ACKS = 300;
const PROVISIONS = 30;
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
      const { locationId, instanceArn } = seedAccessGrantsLocation(local, { scope: target.locationScope });
      const deployment = { tableName: db.tableName, instanceArn, locationId };
      await seedUploadersGroup(admin.iam, local, deployment);
      const roles = await deployRoles(local, deployment);

      const config = await resolveBotConfig(
        loadBotConfig({
          SLACK_SIGNING_SECRET: SECRET,
          SLACK_BOT_TOKEN: "xoxb-bench-authz",
          SLACK_API_URL: slack.apiUrl,
          SLACK_BOT_ID: "BBENCHAZ",
          SLACK_BOT_USER_ID: "UBENCHAZBOT",
          ADMIN_USER_IDS: ADMIN,
          ADMIN_CHANNEL_ID: "CBENCHAZ",
          TABLE_NAME: db.tableName,
          AWS_REGION: "us-east-1",
        }),
      );
      const bot = (doc: typeof db.doc) =>
        createBotHandler({
          config,
          store: createStores({ client: doc, tableName: db.tableName }).requests,
          clientOptions: { retryConfig: { retries: 0 } },
          logger: silentLogger,
          receiverLogger: silentLogger,
        });
      const handlers = { root: bot(db.doc), enforced: bot(roles.doc("bot")) };
      const web = createWebClient({ token: "xoxb-bench-authz", slackApiUrl: slack.apiUrl, retries: 0 });
      const deps = (as: "root" | "enforced"): ServiceDeps => {
        const doc = as === "root" ? db.doc : roles.doc("provisioner");
        const stores = createStores({ client: doc, tableName: db.tableName });
        const clients = as === "root" ? admin : roles.aws("provisioner");
        return {
          store: stores.requests,
          secrets: stores.secrets,
          iam: clients.iam,
          s3control: clients.s3control,
          accountId: local.accountId,
          target,
          locationId,
          notifier: createSlackNotifier(web, { adminChannelId: "CBENCHAZ" }),
          locks: createDynamoUserLocks({ doc, tableName: db.tableName }),
          secretLinkBaseUrl: "http://127.0.0.1:9/links",
          log: silentLogger,
        };
      };
      const serviceDeps = { root: deps("root"), enforced: deps("enforced") };
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
      for (let i = 0; i < ACKS; i++) {
        for (const m of modes) {
          const user = `UAZ${m === "root" ? "R" : "E"}${i}`;
          let filedBody = "";
          ms.file[m].push(
            await time(async () => {
              filedBody = (await handlers[m](slash(user, `request prefix cpg${i}/* read`), {})).body;
            }),
          );
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
          ms.approve[m].push(await time(() => handlers[m](click, {})));
          if (i < PROVISIONS) ms.provision[m].push(await time(() => provisionRequest(serviceDeps[m], id)));
        }
      }
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
