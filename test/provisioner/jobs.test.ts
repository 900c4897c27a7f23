/**
 * Admin revoke / re-issue off the Slack listener: the bot queues ONE job item and answers; the
 * provisioner runs it from the stream. Real edges throughout: signed requests to the bot's Lambda
 * handler, the fake Slack Web API (and response_url hooks), the local AWS stand-in, the store on the
 * local DynamoDB engine (served through the stand-in), and the local stream stand-in delivering every
 * write. Each function runs as its synthesized role (dev/deployed-roles.ts): the bot's store
 * and job queue sign as the bot, the provisioner's deps as the provisioner; the tests' own seeding and
 * inspecting use the admin's clients.
 *
 * The bot has its own DynamoDB client (as its own Lambda would), so its calls are counted apart from
 * the provisioner's; the stream stand-in's before/after reads of each write go through the same
 * client and are told apart by nesting (they happen inside the write).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeployedRoles, deployRoles, seedUploadersGroup } from "../../dev/deployed-roles.ts";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type FakeSlack, startFakeSlack } from "../../dev/fake-slack.ts";
import { type LocalAws, seedAccessGrantsLocation, startLocalAws } from "../../dev/local-aws/index.ts";
import { signedEvent, slashCommandBody, toReply, viewSubmissionBody } from "../../dev/slack-requests.ts";
import { type LocalStream, startLocalStream } from "../../dev/stream.ts";
import { type AwsClients, createAwsClients } from "../../src/aws/clients.ts";
import { loadBotConfig, resolveBotConfig } from "../../src/bot/config.ts";
import { createBotHandler } from "../../src/bot/handler.ts";
import type { LambdaHttpHandler } from "../../src/bot/receiver.ts";
import { getTarget } from "../../src/config/targets.ts";
import { handleProvisionerEvent } from "../../src/provisioner/handler.ts";
import { createSlackClient } from "../../src/runtime/slack-client.ts";
import { personLockName, type ServiceDeps, silentLogger } from "../../src/service/deps.ts";
import { createSlackNotifier } from "../../src/service/notifier.ts";
import { createDynamoUserLocks } from "../../src/service/user-lock.ts";
import { createStores, type Stores } from "../../src/store/index.ts";
import { JobStore } from "../../src/store/jobs.ts";
import type { AccessRequest } from "../../src/store/types.ts";
import { expectInert, HOSTILE, TYPED_ENTITIES } from "../slack/hostile.ts";

const SECRET = "jobs-test-signing-secret-0123456789";
const ADMIN = "UJOBADMIN";
const ADMIN_CHANNEL = "CJOBADMINS";
const TEAM = "T0CYTOSKEL";
const TARGET = getTarget("cpgstaging");
const WRITES = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "TransactWriteItemsCommand",
]);

let dynamo: LocalDynamo;
let localAws: LocalAws;
/** The admin's (root) clients: seeding only. */
let aws: AwsClients;
let roles: DeployedRoles;
let slack: FakeSlack;
let stores: Stores;
let jobs: JobStore;
let deps: ServiceDeps;
let stream: LocalStream;
let botClient: DynamoDBClient;
let handler: LambdaHttpHandler;
/** Commands the bot's own DynamoDB client sent (not the stream stand-in's reads around them). */
const botCalls: string[] = [];
/** Closed: records wait (the Lambda has not been invoked yet). */
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  dynamo = await startDynamo();
  // DynamoDB goes through the local AWS, which judges each call by the caller's role.
  localAws = await startLocalAws({ dynamodbEndpoint: dynamo.endpoint });
  const seeded = seedAccessGrantsLocation(localAws, { scope: TARGET.locationScope, region: TARGET.region });
  aws = createAwsClients({ env: localAws.env, region: TARGET.region });
  const deployment = {
    tableName: dynamo.tableName,
    instanceArn: seeded.instanceArn,
    locationId: seeded.locationId,
  };
  await seedUploadersGroup(aws.iam, localAws, deployment);
  roles = await deployRoles(localAws, deployment);
  slack = await startFakeSlack({ teamId: TEAM });
  stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  jobs = new JobStore({ client: dynamo.doc, tableName: dynamo.tableName });
  const provisionerDoc = roles.doc("provisioner");
  const provisionerStores = createStores({ client: provisionerDoc, tableName: dynamo.tableName });
  deps = {
    store: provisionerStores.requests,
    secrets: provisionerStores.secrets,
    iam: roles.aws("provisioner").iam,
    s3control: roles.aws("provisioner").s3control,
    accountId: localAws.accountId,
    target: TARGET,
    locationId: seeded.locationId,
    notifier: createSlackNotifier(createSlackClient("xoxb-prov", { apiUrl: slack.apiUrl, maxRetries: 0 }), {
      adminChannelId: ADMIN_CHANNEL,
    }),
    locks: createDynamoUserLocks({ doc: provisionerDoc, tableName: dynamo.tableName }),
    jobs: new JobStore({ client: provisionerDoc, tableName: dynamo.tableName }),
    secretLinkBaseUrl: "http://127.0.0.1:9/links",
    log: silentLogger,
  };
  stream = startLocalStream({
    client: dynamo.client,
    tableName: dynamo.tableName,
    onRecords: async (event) => {
      await gate;
      return handleProvisionerEvent(deps, event, { backoffMs: 5, maxAttempts: 2 });
    },
    onWarning: () => {},
  });

  // The provisioner's own writes (job claims, progress) reach the stream too, as on AWS.
  stream.attach(roles.aws("provisioner").dynamodb);
  botClient = roles.aws("bot").dynamodb;
  let insideWrite = 0;
  botClient.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? "";
      if (insideWrite === 0) botCalls.push(name);
      const write = WRITES.has(name);
      if (write) insideWrite += 1;
      try {
        return await next(args);
      } finally {
        if (write) insideWrite -= 1;
      }
    },
    { step: "initialize", name: "countBotCalls" },
  );
  stream.attach(botClient);
  const botDoc = roles.doc("bot");
  const config = await resolveBotConfig(
    loadBotConfig({
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: "xoxb-bot",
      SLACK_API_URL: slack.apiUrl,
      SLACK_BOT_ID: "BJOBS",
      SLACK_BOT_USER_ID: "UJOBSBOT",
      ADMIN_USER_IDS: ADMIN,
      ADMIN_CHANNEL_ID: ADMIN_CHANNEL,
      TABLE_NAME: dynamo.tableName,
    }),
  );
  handler = createBotHandler({
    config,
    store: createStores({ client: botDoc, tableName: dynamo.tableName }).requests,
    jobs: new JobStore({ client: botDoc, tableName: dynamo.tableName }),
    clientOptions: { retryConfig: { retries: 0 } },
    logger: silentLogger,
    receiverLogger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await stream?.stop();
  roles?.close();
  for (const client of Object.values(aws ?? {})) (client as { destroy(): void }).destroy();
  await slack?.stop();
  await localAws?.stop();
  await dynamo?.stop();
});

let userCounter = 0;
const freshUser = () =>
  `UJOB${String(++userCounter).padStart(4, "0")}${Date.now().toString(36).slice(-3).toUpperCase()}`;

const slash = async (userId: string, text: string, responseUrl = slack.responseUrl()) =>
  toReply(
    await handler(signedEvent(SECRET, slashCommandBody({ userId, text, teamId: TEAM, responseUrl })), {}),
  );

/** A request filed and approved through the store; the stream provisions it (ACTIVE, key DMed). */
async function activeAccess(userId: string, subPrefix = "cpg0042/*"): Promise<AccessRequest> {
  const { request } = await stores.requests.create({
    requesterUserId: userId,
    requesterTeamId: TEAM,
    subPrefix,
    permission: "READWRITE",
    durationDays: 30,
  });
  await stores.requests.transition(request.id, {
    from: "PENDING",
    to: "APPROVED",
    actor: { kind: "admin", id: ADMIN },
  });
  await stream.drain();
  const active = await stores.requests.get(request.id);
  expect(active?.status).toBe("ACTIVE");
  return active as AccessRequest;
}

const iamUserOf = (userId: string) =>
  [...localAws.state.iam.users.values()].find((u) => u.userName.endsWith(`-${userId}`));
const grantsNow = () => [...(localAws.state.accessGrants.get(TARGET.region)?.grants.values() ?? [])];
const dmsTo = (userId: string) => slack.callsTo("chat.postMessage").filter((c) => c.args.channel === userId);
const adminPosts = () => slack.callsTo("chat.postMessage").filter((c) => c.args.channel === ADMIN_CHANNEL);
const answersAt = (url: string) => {
  const hook = url.slice(url.lastIndexOf("/") + 1);
  return slack.callsTo("response_url").filter((c) => c.hook === hook);
};
const jobInsert = (jobId: string): DynamoDBRecord | undefined =>
  stream.records.find((r) => r.eventName === "INSERT" && r.dynamodb?.Keys?.pk?.S === `JOB#${jobId}`);
const jobIdIn = (text: string | undefined) => /job `([^`]+)`/.exec(text ?? "")?.[1] ?? "";

/** Jobs not finished that name this person (the openJobs index). */
const queuedJobsFor = async (userId: string) =>
  (await jobs.listOpen({ limit: 100 })).items.filter((j) => j.targetUserId === userId);

describe("revoke runs from the stream, not in the Slack listener", () => {
  it("the listener makes two DynamoDB writes (its delivery's replay claim, the job), no Slack call and no IAM / S3 Control call before answering", async () => {
    const user = freshUser();
    await activeAccess(user);
    expect(grantsNow().length).toBeGreaterThan(0);

    let open!: () => void;
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    botCalls.length = 0;
    const slackBefore = slack.calls.length;
    // DynamoDB goes through the stand-in too; the listener's one write is counted above.
    const awsCalls = () => localAws.state.requests.filter((r) => r.service !== "dynamodb").length;
    const awsBefore = awsCalls();
    const url = slack.responseUrl();
    const reply = await slash(ADMIN, `revoke <@${user}|someone>`, url);
    const counted = {
      dynamo: [...botCalls],
      slack: slack.calls.length - slackBefore,
      aws: awsCalls() - awsBefore,
    };
    open();

    expect(reply.status).toBe(200);
    expect(reply.json.response_type).toBe("ephemeral");
    expect(reply.json.text).toContain(`Revoking access for <@${user}>`);
    expect(reply.json.text).toContain("I'll confirm here and in the admin channel");
    expect(counted.dynamo).toEqual(["PutItemCommand", "PutItemCommand"]);
    expect(counted.slack).toBe(0);
    expect(counted.aws).toBe(0);
    // Nothing was revoked yet when Slack got its answer.
    expect(iamUserOf(user)).toBeDefined();

    await stream.drain();
    expect(iamUserOf(user)).toBeUndefined();
    expect(grantsNow().filter((g) => g.granteeIdentifier.endsWith(`-${user}`))).toHaveLength(0);
    const dm = dmsTo(user).at(-1);
    expect(String(dm?.args.text)).toMatch(/revoked by <@UJOBADMIN>/);
    expect(adminPosts().some((c) => String(c.args.text).includes(`revoked access of <@${user}>`))).toBe(true);
    const answer = answersAt(url);
    expect(answer).toHaveLength(1);
    expect(String(answer[0]?.args.text)).toMatch(/Temporary credentials already issued stay valid/);
    expect(answer[0]?.args.response_type).toBe("ephemeral");
    const job = await jobs.get(jobIdIn(reply.json.text));
    expect(job).toMatchObject({ jobState: "DONE", kind: "revoke", targetUserId: user, attempts: 1 });
  });

  it("a revoke for one prefix leaves the person's other grant", async () => {
    const user = freshUser();
    await activeAccess(user, "cpg0042/*");
    await activeAccess(user, "cpg0043/*");
    const reply = await slash(ADMIN, `revoke <@${user}> cpg0043`);
    expect(reply.json.text).toContain("s3://staging-cellpainting-gallery/cpg0043/*");
    await stream.drain();
    const left = grantsNow().filter((g) => g.granteeIdentifier.endsWith(`-${user}`));
    expect(left.map((g) => g.subPrefix)).toEqual(["cpg0042/*"]);
    expect((await jobs.get(jobIdIn(reply.json.text)))?.subPrefix).toBe("cpg0043/*");
  });

  it("a revoke's reason is recorded on the ended request's audit event and told, escaped, in the DM", async () => {
    const user = freshUser();
    const request = await activeAccess(user, "cpg0044/*");
    const hostile = "done &lt;!channel&gt; see <https://evil.example|x> &amp; more";
    const reply = await slash(ADMIN, `revoke <@${user}> cpg0044/ ${hostile}`);
    const reason = "done <!channel> see <https://evil.example|x> & more";
    expect((await jobs.get(jobIdIn(reply.json.text)))?.reason).toBe(reason);
    await stream.drain();
    const events = (await stores.audit.listForRequest(request.id)).items;
    expect(events.at(-1)).toMatchObject({ to: "REVOKED", actor: { id: ADMIN }, reason, scope: "cpg0044/*" });
    const dm = JSON.stringify(dmsTo(user).at(-1)?.args);
    expect(dm).toContain("Reason: done &lt;!channel&gt; see &lt;https://evil.example|x&gt; &amp; more");
    expect(dm).not.toContain("<!channel>");
    expect(dm).not.toContain("<https://evil.example");
    const post = JSON.stringify(adminPosts().at(-1)?.args);
    expect(post).toContain("Reason: done &lt;!channel&gt;");
    expect(post).not.toContain("<!channel>");
  });

  it("a non-admin's revoke queues nothing (its one write is the delivery's replay claim)", async () => {
    botCalls.length = 0;
    const reply = await slash("UMALLORY", "revoke <@UANYONE>");
    expect(reply.json.text).toContain("Only cytoskel admins");
    expect(botCalls.filter((c) => WRITES.has(c))).toEqual(["PutItemCommand"]);
    expect(await queuedJobsFor("UANYONE")).toEqual([]);
  });
});

describe("redelivered and failed jobs", () => {
  it("a redelivered re-issue record rotates the key once and DMs once", async () => {
    const user = freshUser();
    await activeAccess(user);
    const firstKey = iamUserOf(user)?.accessKeys[0]?.accessKeyId;
    const reply = await slash(ADMIN, `reissue <@${user}>`);
    expect(reply.json.text).toContain(`Re-issuing keys for <@${user}>`);
    await stream.drain();
    const keys = iamUserOf(user)?.accessKeys.map((k) => k.accessKeyId) ?? [];
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toBe(firstKey);
    const dms = dmsTo(user).length;
    expect(String(dmsTo(user).at(-1)?.args.text)).toContain("http://127.0.0.1:9/links/s/");

    const record = jobInsert(jobIdIn(reply.json.text));
    expect(record).toBeDefined();
    const again = await handleProvisionerEvent(deps, { Records: [record as DynamoDBRecord] });
    expect(again.batchItemFailures).toEqual([]);
    expect(iamUserOf(user)?.accessKeys.map((k) => k.accessKeyId)).toEqual(keys);
    expect(dmsTo(user)).toHaveLength(dms);
    expect((await jobs.get(jobIdIn(reply.json.text)))?.jobState).toBe("DONE");
  });

  it("a redelivered revoke record messages nobody again", async () => {
    const user = freshUser();
    await activeAccess(user);
    const reply = await slash(ADMIN, `revoke <@${user}>`);
    await stream.drain();
    const calls = slack.calls.length;
    const again = await handleProvisionerEvent(deps, {
      Records: [jobInsert(jobIdIn(reply.json.text)) as DynamoDBRecord],
    });
    expect(again.batchItemFailures).toEqual([]);
    expect(slack.calls.length).toBe(calls);
  });

  it("a job that fails after its tries is FAILED and the admin channel gets the reason", async () => {
    const user = freshUser();
    await activeAccess(user);
    localAws.failNext("DeleteAccessGrant", {
      code: "AccessDenied",
      status: 403,
      message: "not allowed",
      times: 5,
    });
    const url = slack.responseUrl();
    const reply = await slash(ADMIN, `revoke <@${user}>`, url);
    await stream.drain();
    localAws.state.injectedFaults.length = 0;
    const job = await jobs.get(jobIdIn(reply.json.text));
    expect(job?.jobState).toBe("FAILED");
    expect(job?.failureReason).toBeTruthy();
    const notice = adminPosts().find((c) => String(c.args.text).includes(`revoke of <@${user}>`));
    expect(String(notice?.args.text)).toContain("failed");
    expect(String(notice?.args.text)).toContain(String(job?.failureReason));
    expect(String(answersAt(url)[0]?.args.text)).toContain("failed");
    // Nothing was taken away: the grant is still there.
    expect(iamUserOf(user)).toBeDefined();
  });

  it("a busy person lock hands the job and its record back; the redelivery then runs it once", async () => {
    const user = freshUser();
    await activeAccess(user);
    let open!: () => void;
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const reply = await slash(ADMIN, `revoke <@${user}>`);
    const jobId = jobIdIn(reply.json.text);
    const impatient = {
      ...deps,
      locks: createDynamoUserLocks({
        doc: roles.doc("provisioner"),
        tableName: dynamo.tableName,
        waitMs: 50,
      }),
    };
    const returned = await deps.locks.withLock(personLockName(user), () =>
      handleProvisionerEvent(
        impatient,
        { Records: [jobInsert(jobId) as DynamoDBRecord] },
        { maxAttempts: 1 },
      ),
    );
    expect(returned.batchItemFailures).toHaveLength(1);
    expect((await jobs.get(jobId))?.jobState).toBe("QUEUED");
    expect(iamUserOf(user)).toBeDefined();

    open();
    await stream.drain();
    expect(await jobs.get(jobId)).toMatchObject({ jobState: "DONE", attempts: 2 });
    expect(iamUserOf(user)).toBeUndefined();
    expect(dmsTo(user).filter((c) => String(c.args.text).includes("was revoked"))).toHaveLength(1);
  });

  it("a transient AWS error is retried and the job still finishes once", async () => {
    const user = freshUser();
    await activeAccess(user);
    localAws.failNext("DeleteAccessGrant", { code: "InternalError", status: 500, times: 1 });
    const reply = await slash(ADMIN, `revoke <@${user}>`);
    await stream.drain();
    expect(await jobs.get(jobIdIn(reply.json.text))).toMatchObject({ jobState: "DONE" });
    expect(iamUserOf(user)).toBeUndefined();
  });
});

describe("the requester hears about a denial", () => {
  it("PENDING → DENIED DMs the requester with the admin's reason", async () => {
    const user = freshUser();
    const { request } = await stores.requests.create({
      requesterUserId: user,
      requesterTeamId: TEAM,
      subPrefix: "cpg0099/*",
      permission: "READ",
      durationDays: 7,
    });
    const body = viewSubmissionBody({
      userId: ADMIN,
      teamId: TEAM,
      callbackId: "cytoskel_deny_modal",
      privateMetadata: JSON.stringify({ id: request.id }),
      values: {
        reason: { reason_input: { type: "plain_text_input", value: "ask for cpg0099/images only" } },
      },
    });
    const reply = toReply(await handler(signedEvent(SECRET, body), {}));
    expect(reply.status).toBe(200);
    await stream.drain();
    expect((await stores.requests.get(request.id))?.status).toBe("DENIED");
    const dms = dmsTo(user);
    expect(dms).toHaveLength(1);
    const text = JSON.stringify(dms[0]?.args);
    expect(text).toContain(request.id);
    expect(text).toContain("was denied by <@UJOBADMIN>");
    expect(text).toContain("ask for cpg0099/images only");
  });

  it("a cancelled request DMs nobody (the requester did it)", async () => {
    const user = freshUser();
    const { request } = await stores.requests.create({
      requesterUserId: user,
      requesterTeamId: TEAM,
      subPrefix: "cpg0098/*",
      permission: "READ",
      durationDays: 7,
    });
    const reply = await slash(user, `cancel ${request.id}`);
    expect(reply.json.text).toContain("cancelled");
    await stream.drain();
    expect(dmsTo(user)).toHaveLength(0);
  });
});

describe("close prefix runs from the stream, not in the Slack listener", () => {
  it("an admin's close is two DynamoDB writes (replay claim, job); the provisioner revokes everyone at or under the prefix, spares the sibling, and posts who had access", async () => {
    const alice = freshUser();
    const bob = freshUser();
    const aBroad = await activeAccess(alice, "cpg0090/*");
    const aNarrow = await activeAccess(alice, "cpg0090/a/*");
    const bSibling = await activeAccess(bob, "cpg00901/*");

    let open!: () => void;
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    botCalls.length = 0;
    const slackBefore = slack.calls.length;
    const awsCalls = () => localAws.state.requests.filter((r) => r.service !== "dynamodb").length;
    const awsBefore = awsCalls();
    const judgedBefore = localAws.state.authorizations.length;
    const url = slack.responseUrl();
    const reply = await slash(ADMIN, "close prefix cpg0090/ published &lt;today&gt;", url);
    const counted = {
      dynamo: [...botCalls],
      slack: slack.calls.length - slackBefore,
      aws: awsCalls() - awsBefore,
    };
    open();

    expect(reply.json.response_type).toBe("ephemeral");
    expect(reply.json.text).toContain("Closing `s3://staging-cellpainting-gallery/cpg0090/*`");
    expect(counted).toEqual({ dynamo: ["PutItemCommand", "PutItemCommand"], slack: 0, aws: 0 });
    const jobId = jobIdIn(reply.json.text);
    expect(await jobs.get(jobId)).toMatchObject({
      kind: "close",
      subPrefix: "cpg0090/*",
      reason: "published <today>",
    });

    await stream.drain();
    expect(localAws.state.authorizations.slice(judgedBefore).filter((a) => !a.allowed)).toEqual([]);
    expect((await stores.requests.get(aBroad.id))?.status).toBe("REVOKED");
    expect((await stores.requests.get(aNarrow.id))?.status).toBe("REVOKED");
    expect((await stores.requests.get(bSibling.id))?.status).toBe("ACTIVE");
    expect(iamUserOf(alice)).toBeUndefined();
    expect(
      grantsNow()
        .filter((g) => g.granteeIdentifier.endsWith(`-${bob}`))
        .map((g) => g.subPrefix),
    ).toEqual(["cpg00901/*"]);
    expect(String(dmsTo(alice).at(-1)?.args.text)).toMatch(/revoked by <@UJOBADMIN>/);
    const summary = adminPosts().filter((c) => String(c.args.text).includes("closed"));
    expect(summary).toHaveLength(1);
    const posted = JSON.stringify(summary[0]?.args);
    expect(posted).toContain(`<@${alice}>`);
    expect(posted).not.toContain(bob);
    expect(posted).toContain("published &lt;today&gt;");
    expect(answersAt(url)).toHaveLength(1);
    expect(await jobs.get(jobId)).toMatchObject({ jobState: "DONE", attempts: 1 });

    // A redelivered record runs nothing again: no DM, no second post.
    const calls = slack.calls.length;
    const again = await handleProvisionerEvent(deps, { Records: [jobInsert(jobId) as DynamoDBRecord] });
    expect(again.batchItemFailures).toEqual([]);
    expect(slack.calls.length).toBe(calls);
  });

  it("a non-admin's close is refused and queues nothing (its one write is the delivery's replay claim)", async () => {
    botCalls.length = 0;
    const reply = await slash("UMALLORY", "close prefix cpg0090/");
    expect(reply.json.text).toBe("Only cytoskel admins can close a prefix — nothing was changed.");
    expect(botCalls.filter((c) => WRITES.has(c))).toEqual(["PutItemCommand"]);
    expect(await queuedJobsFor("UMALLORY")).toEqual([]);
  });

  it("closing the whole bucket is refused, saying what is allowed, and queues nothing", async () => {
    for (const text of [
      "close prefix *",
      "close prefix s3://staging-cellpainting-gallery/",
      "close prefix",
    ]) {
      botCalls.length = 0;
      const reply = await slash(ADMIN, text);
      expect(reply.json.text).toContain("Closing the whole bucket (`*`) is refused");
      expect(reply.json.text).toContain("close prefix cpg0042/");
      expect(botCalls).toEqual([]);
    }
    const noKeyword = await slash(ADMIN, "close cpg0090/");
    // Escaped like all text that quotes what was typed; Slack shows `<prefix>`.
    expect(noKeyword.json.text).toContain("Write `close prefix &lt;prefix&gt;`");
  });
});

describe("text a person typed reaches Slack inert on the flows", () => {
  it("a revoke with a hostile reason: the admin post, the DM and the answer to the admin show it inert", async () => {
    const user = freshUser();
    await activeAccess(user, "cpg0046/*");
    const url = slack.responseUrl();
    // A signed request can carry raw control sequences (a Slack client would have escaped them).
    const reply = await slash(ADMIN, `revoke <@${user}> cpg0046/ ${HOSTILE}`, url);
    await stream.drain();
    expect((await jobs.get(jobIdIn(reply.json.text)))?.jobState).toBe("DONE");
    const post = adminPosts().at(-1)?.args;
    expect(String(post?.text)).toContain(`revoked access of <@${user}>`);
    expect(String(post?.text)).toContain("Re-approve here");
    for (const sent of [post, dmsTo(user).at(-1)?.args, ...answersAt(url).map((a) => a.args)])
      expectInert(sent);
  });

  it("a denial with a hostile reason: the requester's DM shows it inert in its blocks and its notification text", async () => {
    const user = freshUser();
    const { request } = await stores.requests.create({
      requesterUserId: user,
      requesterTeamId: TEAM,
      subPrefix: "cpg0098/*",
      permission: "READ",
      durationDays: 7,
    });
    const body = viewSubmissionBody({
      userId: ADMIN,
      teamId: TEAM,
      callbackId: "cytoskel_deny_modal",
      privateMetadata: JSON.stringify({ id: request.id }),
      values: {
        reason: { reason_input: { type: "plain_text_input", value: `${HOSTILE} ${TYPED_ENTITIES}` } },
      },
    });
    expect(toReply(await handler(signedEvent(SECRET, body), {})).status).toBe(200);
    await stream.drain();
    const dm = dmsTo(user).at(-1)?.args;
    expect(String(dm?.text)).toContain("Re-approve here");
    expectInert(dm);
  });

  it("a refused command quotes what was typed inert", async () => {
    const reply = await slash(ADMIN, `${HOSTILE} now`);
    expect(reply.json.response_type).toBe("ephemeral");
    expect(reply.json.text).toContain("I don't know");
    expectInert(reply.json);
  });
});
