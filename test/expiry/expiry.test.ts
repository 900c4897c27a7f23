/**
 * The scheduled sweep with a fake clock: grants past expiresAt go (EXPIRED), a reminder comes once
 * before that with a way to ask for an extension, and undecided requests expire.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext } from "../../dev/lambda-context.ts";
import {
  ADMIN_CHANNEL,
  type Harness,
  iamCallsSince,
  newUserId,
  startHarness,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { deleteUserCompletely } from "../../src/aws/iam-users.ts";
import { createExpiryHandlerFromEnv } from "../../src/expiry/lambda.ts";
import { runExpiry } from "../../src/service/expiry.ts";
import { EXTEND_ACTION_ID } from "../../src/service/messages.ts";
import { iamUserNameFor } from "../../src/service/users.ts";
import { denyGetUserLikeAwsOnMissingUser, expectGetUserFaultUnused } from "../service/missing-user.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const DAY = 86_400_000;
const OPTS = { reminderDays: 3, pendingExpiryDays: 14 };
/** A clock `days` from now (the store stamps real times; the sweep compares against this). */
const at = (days: number) => () => new Date(Date.now() + days * DAY);

const activeFor = (
  userId: string,
  subPrefix: string,
  durationDays: number,
  permission: "READ" | "READWRITE" = "READWRITE",
) => h.active(userId, { subPrefix, durationDays, permission });

const statusOf = async (id: string) => (await h.stores.requests.get(id))?.status;

describe("expiry sweep", () => {
  it("reminds once, N days before, with an extension button and the command to re-request", async () => {
    const userId = newUserId();
    const req = await activeFor(userId, "cpg0042/*", 30);
    const dmsBefore = h.dmsTo(userId).length;

    const early = await runExpiry(h.deps({ now: at(20) }, "expiry"), OPTS);
    expect(early.reminded).not.toContain(req.id);

    const first = await runExpiry(h.deps({ now: at(28) }, "expiry"), OPTS);
    expect(first.reminded).toContain(req.id);
    const reminder = h.dmsTo(userId).at(-1);
    expect(h.dmsTo(userId)).toHaveLength(dmsBefore + 1);
    const blocks = JSON.stringify(reminder?.args.blocks);
    expect(blocks).toContain(EXTEND_ACTION_ID);
    expect(blocks).toContain(`"value":"${req.id}"`);
    expect(blocks).toContain("/cytoskel request prefix cpg0042/* readwrite for 30d");
    expect((await h.stores.requests.get(req.id))?.reminderSentAt).toBeDefined();

    const second = await runExpiry(h.deps({ now: at(29) }, "expiry"), OPTS);
    expect(second.reminded).not.toContain(req.id);
    expect(h.dmsTo(userId)).toHaveLength(dmsBefore + 1);
    expect(await statusOf(req.id)).toBe("ACTIVE");
  });

  it("ends access past expiresAt: grant, key and user gone when nothing else is granted; EXPIRED; person and admins told", async () => {
    const userId = newUserId();
    const req = await activeFor(userId, "cpg0043/*", 7);
    const report = await runExpiry(h.deps({ now: at(8) }, "expiry"), OPTS);

    expect(report.expired).toContain(req.id);
    expect(await statusOf(req.id)).toBe("EXPIRED");
    expect(h.iamUser(userId)).toBeUndefined();
    expect(h.awsStateOf(userId).grants).toEqual([]);
    const dm = JSON.stringify(h.dmsTo(userId).at(-1)?.args);
    expect(dm).toContain("has expired");
    expect(dm).toContain("stay valid until they expire");
    const post = h.slack
      .callsTo("chat.postMessage")
      .filter((c) => c.args.channel === ADMIN_CHANNEL)
      .at(-1);
    expect(JSON.stringify(post?.args)).toContain(userId);

    const again = await runExpiry(h.deps({ now: at(9) }, "expiry"), OPTS);
    expect(again.expired).not.toContain(req.id);
  });

  it("expiring one of two grants keeps the other, the key and the user", async () => {
    const userId = newUserId();
    const short = await activeFor(userId, "cpg0044/*", 7);
    const long = await activeFor(userId, "cpg0045/*", 60);
    const keys = h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId);

    await runExpiry(h.deps({ now: at(8) }, "expiry"), OPTS);

    expect(await statusOf(short.id)).toBe("EXPIRED");
    expect(await statusOf(long.id)).toBe("ACTIVE");
    expect((await h.grantsOf(userId)).map((g) => g.subPrefix)).toEqual(["cpg0045/*"]);
    expect(h.iamUser(userId)?.accessKeys.map((k) => k.accessKeyId)).toEqual(keys);
  });

  it("when the broader request expires, a narrower one that reused its grant keeps only its own scope", async () => {
    const userId = newUserId();
    const broad = await activeFor(userId, "cpg0046/*", 7);
    const narrow = await activeFor(userId, "cpg0046/plates/*", 60, "READ");
    expect(await h.grantsOf(userId)).toHaveLength(1);

    await runExpiry(h.deps({ now: at(8) }, "expiry"), OPTS);

    expect(await statusOf(broad.id)).toBe("EXPIRED");
    expect(await statusOf(narrow.id)).toBe("ACTIVE");
    expect(await h.grantsOf(userId)).toEqual([
      { id: expect.any(String), subPrefix: "cpg0046/plates/*", permission: "READ" },
    ]);
  });

  it("expires PENDING requests nobody decided, updating the admin card and telling the requester", async () => {
    const userId = newUserId();
    const { request } = await h.stores.requests.create({
      requesterUserId: userId,
      requesterTeamId: TEAM_ID,
      subPrefix: "cpg0047/*",
      permission: "READ",
    });
    const card = await h.deps().notifier.postAdminChannel({ text: "request card" });
    await h.stores.requests.annotate(request.id, { adminMessage: card });

    const tooEarly = await runExpiry(h.deps({ now: at(13) }, "expiry"), OPTS);
    expect(tooEarly.pendingExpired).not.toContain(request.id);

    const report = await runExpiry(h.deps({ now: at(15) }, "expiry"), OPTS);
    expect(report.pendingExpired).toContain(request.id);
    expect(await statusOf(request.id)).toBe("EXPIRED");
    expect(h.slack.messages.get(`${card.channel}:${card.ts}`)?.text).toContain("expired without a decision");
    expect(String(h.dmsTo(userId).at(-1)?.args.text)).toContain("expired after 14 days");
  });
});

describe("expiry of a person whose IAM user is gone", () => {
  it("ends the requests EXPIRED without asking GetUser about the missing user, and records no error", async () => {
    const userId = newUserId();
    // Shorter than anything the tests above leave ACTIVE, so this sweep only touches this person.
    const req = await activeFor(userId, "cpg0042/*", 1);
    const userName = iamUserNameFor(TEAM_ID, userId);
    await deleteUserCompletely({ iam: h.iam, s3control: h.s3control, accountId: h.aws.accountId }, userName);
    denyGetUserLikeAwsOnMissingUser(h, userName);
    const start = h.aws.state.requests.length;

    const report = await runExpiry(h.deps({ now: at(2) }, "expiry"), OPTS);

    expect(report.errors).toEqual([]);
    expect(report.expired).toContain(req.id);
    expect(await statusOf(req.id)).toBe("EXPIRED");
    expect(iamCallsSince(h, start).filter((c) => c.startsWith("GetUser"))).toEqual([]);
    await expectGetUserFaultUnused(h);
  });
});

describe("expiry Lambda entry", () => {
  it("runs the sweep with config from the environment and returns counts", async () => {
    // As deployed: the expiry role's credentials, the bot token read by ARN, the location by ID.
    const handler = createExpiryHandlerFromEnv({
      ...h.roles.functions.expiry.env,
      TABLE_NAME: h.dynamo.tableName,
      ADMIN_CHANNEL_ID: ADMIN_CHANNEL,
      SLACK_BOT_TOKEN_ARN: h.botTokenArn,
      ACCESS_GRANTS_LOCATION_ID: h.locationId,
      SLACK_API_URL: h.slack.apiUrl,
      SECRET_LINK_BASE_URL: "http://127.0.0.1:9/links",
      AWS_ACCOUNT_ID: h.aws.accountId,
    });
    const result = await handler({}, lambdaContext("expiry", 60_000));
    expect(result).toMatchObject({ errors: [] });
    expect(typeof result.expired).toBe("number");
  });
});
