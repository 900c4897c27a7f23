import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allGrants, seedAccessGrantsLocation } from "../../dev/local-aws/index.ts";
import {
  ADMIN_ID,
  type Harness,
  iamCallsSince,
  newUserId,
  SECRET_LINK_BASE,
  startHarness,
  TARGET,
  TEAM_ID,
} from "../../dev/service-harness.ts";
import { createDynamoDbClient, createS3ControlClient } from "../../src/aws/clients.ts";
import { getDataAccess } from "../../src/aws/data-access.ts";
import { GrantScope, ScopeOutsideLocationError } from "../../src/rules/grant-scope.ts";
import { describeFailure, isRetryable } from "../../src/service/errors.ts";
import { NoSuchRequestToProvisionError, provisionRequest } from "../../src/service/provision.ts";
import { revokeAccess } from "../../src/service/revoke.ts";
import { createDynamoUserLocks } from "../../src/service/user-lock.ts";
import { iamUserNameFor } from "../../src/service/users.ts";
import { createDocumentClient } from "../../src/store/client.ts";
import { createStores } from "../../src/store/index.ts";
import { denyGetUserLikeAwsOnMissingUser, expectGetUserFaultUnused } from "./missing-user.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const blocksText = (call: { args: Record<string, unknown> }) => JSON.stringify(call.args.blocks ?? []);

describe("provisionRequest", () => {
  it("creates the tagged IAM user in the uploaders group, one key, one grant, a one-time link DM, and ACTIVE", async () => {
    const userId = newUserId();
    const req = await h.approved(userId, { subPrefix: "cpg0042/*", permission: "WRITE", durationDays: 30 });
    const result = await provisionRequest(h.deps(), req.id);

    expect(result.outcome).toBe("activated");
    const user = h.iamUser(userId);
    expect(user?.path).toBe("/cytoskel/");
    expect(user?.tags.get("cytoskel:slack-user-id")).toBe(userId);
    expect(user?.tags.get("cytoskel:slack-team-id")).toBe(TEAM_ID);
    expect([...(user?.groups ?? [])]).toEqual(["staging_cpg_uploaders"]);
    expect(user?.accessKeys).toHaveLength(1);

    const grants = await h.grantsOf(userId);
    expect(grants).toEqual([{ id: expect.any(String), subPrefix: "cpg0042/*", permission: "WRITE" }]);

    const dms = h.dmsTo(userId);
    expect(dms).toHaveLength(1);
    const dm = dms[0];
    // Form-encoded by the WebClient, so booleans arrive as strings.
    expect(String(dm?.args.unfurl_links)).toBe("false");
    expect(String(dm?.args.unfurl_media)).toBe("false");
    expect(blocksText(dm ?? { args: {} })).toContain(`${SECRET_LINK_BASE}/s/`);
    expect(blocksText(dm ?? { args: {} })).toContain("take a few seconds to become usable");
    expect(blocksText(dm ?? { args: {} })).toContain("get-data-access");
    // The secret access key itself never goes to Slack.
    const secret = user?.accessKeys[0]?.secretAccessKey;
    expect(secret).toMatch(/.{20,}/);
    expect(JSON.stringify(dm?.args)).not.toContain(secret ?? "");

    const active = await h.stores.requests.get(req.id);
    expect(active?.status).toBe("ACTIVE");
    expect(active?.expiresAt).toBeDefined();
    const days = (Date.parse(active?.expiresAt ?? "") - Date.parse(active?.activatedAt ?? "")) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(Object.keys(active?.progress ?? {}).sort()).toEqual([
      "accessKey",
      "dm",
      "grant",
      "iamUser",
      "secret",
    ]);
    expect(active?.progress.accessKey?.created).toBe(true);
  });

  it("stores only ciphertext for the link: the key in the URL fragment decrypts it, DynamoDB alone cannot", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    await provisionRequest(h.deps(), req.id);
    const linkId = (await h.stores.requests.get(req.id))?.progress.secret?.linkId ?? "";
    const record = await h.stores.secrets.consume(linkId, Math.floor(Date.now() / 1000));
    expect(record?.requestId).toBe(req.id);
    const user = h.iamUser(userId);
    const secret = user?.accessKeys[0]?.secretAccessKey;
    expect(secret).toMatch(/.{20,}/);
    expect(record?.ciphertext).not.toContain(secret);
  });

  it("for a second prefix of the same person makes no new key and says the existing keys now cover it", async () => {
    const userId = newUserId();
    const first = await h.approved(userId, { subPrefix: "cpg0042/*" });
    await provisionRequest(h.deps(), first.id);
    const keysBefore = h.awsStateOf(userId).keyIds;

    const second = await h.approved(userId, { subPrefix: "cpg0099/*" });
    const result = await provisionRequest(h.deps(), second.id);

    expect(result.outcome === "activated" && result.newKey).toBe(false);
    expect(h.awsStateOf(userId).keyIds).toEqual(keysBefore);
    expect((await h.grantsOf(userId)).map((g) => g.subPrefix).sort()).toEqual(["cpg0042/*", "cpg0099/*"]);
    const dms = h.dmsTo(userId);
    expect(dms).toHaveLength(2);
    expect(String(dms[1]?.args.text)).toContain("existing cytoskel keys now also cover");
    expect(blocksText(dms[1] ?? { args: {} })).not.toContain("/s/");
    const done = await h.stores.requests.get(second.id);
    expect(done?.status).toBe("ACTIVE");
    expect(done?.progress.accessKey).toMatchObject({ accessKeyId: keysBefore[0], created: false });
  });

  it("reuses a grant that already covers a narrower prefix instead of creating a duplicate", async () => {
    const userId = newUserId();
    const broad = await h.approved(userId, { subPrefix: "cpg0042/*", permission: "READWRITE" });
    await provisionRequest(h.deps(), broad.id);
    const narrow = await h.approved(userId, { subPrefix: "cpg0042/plates/*", permission: "READ" });
    const result = await provisionRequest(h.deps(), narrow.id);

    expect(result.outcome === "activated" && result.grantReused).toBe(true);
    const grants = await h.grantsOf(userId);
    expect(grants).toHaveLength(1);
    expect((await h.stores.requests.get(narrow.id))?.progress.grant).toMatchObject({
      grantId: grants[0]?.id,
      created: false,
    });
  });

  it("is a no-op for a request that is already ACTIVE or not approved", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    await provisionRequest(h.deps(), req.id);
    const again = await provisionRequest(h.deps(), req.id);
    expect(again).toMatchObject({ outcome: "skipped", reason: "request is ACTIVE" });
    expect(h.dmsTo(userId)).toHaveLength(1);

    const { request: pending } = await h.stores.requests.create({
      requesterUserId: newUserId(),
      requesterTeamId: TEAM_ID,
      subPrefix: "cpg0001/*",
      permission: "READ",
    });
    expect(await provisionRequest(h.deps(), pending.id)).toMatchObject({ outcome: "skipped" });
    await expect(provisionRequest(h.deps(), "no-such-request")).rejects.toBeInstanceOf(
      NoSuchRequestToProvisionError,
    );
  });

  it("updates the admin card in place when the request has one", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    const card = await h.deps().notifier.postAdminChannel({ text: "request card" });
    await h.stores.requests.annotate(req.id, { adminMessage: card });
    await provisionRequest(h.deps(), req.id);
    const stored = h.slack.messages.get(`${card.channel}:${card.ts}`);
    expect(stored?.updates).toBe(1);
    expect(stored?.text).toContain("access is active");
  });
});

describe("the IAM user under a role scoped to the cytoskel path", () => {
  it("a first provisioning's first IAM call is CreateUser, never GetUser on the missing user (AWS would deny it)", async () => {
    const userId = newUserId();
    const req = await h.approved(userId);
    denyGetUserLikeAwsOnMissingUser(h, iamUserNameFor(TEAM_ID, userId));
    const start = h.aws.state.requests.length;

    const result = await provisionRequest(h.deps(), req.id);

    expect(result.outcome).toBe("activated");
    const calls = iamCallsSince(h, start);
    expect(calls[0]).toBe("CreateUser:200");
    expect(calls.filter((c) => c.startsWith("GetUser"))).toEqual([]);
    expect(h.iamUser(userId)?.path).toBe("/cytoskel/");
    await expectGetUserFaultUnused(h);
  });

  it("a later provisioning of the same person reads the user with GetUser only after CreateUser says it exists", async () => {
    const userId = newUserId();
    await provisionRequest(h.deps(), (await h.approved(userId, { subPrefix: "cpg0042/*" })).id);
    const second = await h.approved(userId, { subPrefix: "cpg0099/*" });
    const start = h.aws.state.requests.length;

    const result = await provisionRequest(h.deps(), second.id);

    expect(result.outcome).toBe("activated");
    expect(iamCallsSince(h, start).slice(0, 2)).toEqual(["CreateUser:409", "GetUser:200"]);
    expect((await h.stores.requests.get(second.id))?.progress.iamUser).toMatchObject({
      userArn: h.iamUser(userId)?.arn,
      created: false,
    });
  });
});

describe("under an Access Grants location that is not the bucket root", () => {
  /** The service's deps with the target's location at s3://<bucket>/incoming/. */
  const underIncoming = () => {
    const incoming = seedAccessGrantsLocation(h.aws, { scope: `${TARGET.locationScope}incoming/` });
    const target = { ...TARGET, locationScope: incoming.scope };
    return { deps: h.deps({ target, locationId: incoming.locationId }), locationId: incoming.locationId };
  };

  it("grants the bucket-relative prefix with a sub-prefix relative to the location; GetDataAccess for it works and revoke finds it", async () => {
    const { deps, locationId } = underIncoming();
    const userId = newUserId();
    const req = await h.approved(userId, { subPrefix: "incoming/cpg0042/*", permission: "READWRITE" });

    expect((await provisionRequest(deps, req.id)).outcome).toBe("activated");

    const user = h.iamUser(userId);
    const grants = allGrants(h.aws.state).filter((g) => g.granteeIdentifier === user?.arn);
    expect(grants).toEqual([
      expect.objectContaining({
        locationId,
        subPrefix: "cpg0042/*",
        scope: "s3://staging-cellpainting-gallery/incoming/cpg0042/*",
      }),
    ]);
    expect(await h.grantsOf(userId)).toEqual([
      { id: grants[0]?.id, subPrefix: "incoming/cpg0042/*", permission: "READWRITE" },
    ]);
    expect(blocksText(h.dmsTo(userId)[0] ?? { args: {} })).toContain(
      "s3://staging-cellpainting-gallery/incoming/cpg0042/*",
    );

    // The contributor's own key (as the link delivers it) gets credentials for the prefix.
    const key = user?.accessKeys[0];
    const contributor = createS3ControlClient({
      env: {
        ...h.aws.env,
        AWS_ACCESS_KEY_ID: key?.accessKeyId ?? "",
        AWS_SECRET_ACCESS_KEY: key?.secretAccessKey ?? "",
      },
    });
    try {
      const access = await getDataAccess(contributor, {
        accountId: h.aws.accountId,
        target: GrantScope.of(TARGET.bucket, "incoming/cpg0042/plate1/*").uri,
        permission: "WRITE",
      });
      expect(access.matchedGrantTarget).toBe("s3://staging-cellpainting-gallery/incoming/cpg0042/*");
    } finally {
      contributor.destroy();
    }

    const removal = await revokeAccess(deps, {
      userId,
      subPrefix: "incoming/cpg0042/*",
      actor: { kind: "admin", id: ADMIN_ID },
    });
    expect(removal).toMatchObject({
      outcome: "removed",
      deletedGrantIds: [grants[0]?.id],
      revokedPrefixes: ["incoming/cpg0042/*"],
      userDeleted: true,
    });
  });

  it("refuses a prefix outside the location before any S3 Control call", async () => {
    const { deps } = underIncoming();
    const userId = newUserId();
    const req = await h.approved(userId, { subPrefix: "cpg0042/*" });
    const start = h.aws.state.requests.length;

    const err = await provisionRequest(deps, req.id).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ScopeOutsideLocationError);
    expect(isRetryable(err)).toBe(false);
    expect(describeFailure(err)).toBe(
      "s3://staging-cellpainting-gallery/cpg0042/* is outside the Access Grants location s3://staging-cellpainting-gallery/incoming/, so no grant there can cover it.",
    );
    const calls = h.aws.state.requests.slice(start).map((r) => r.operation);
    expect(calls).not.toContain("CreateAccessGrant");
    expect(allGrants(h.aws.state).filter((g) => g.granteeIdentifier === h.iamUser(userId)?.arn)).toEqual([]);
  });
});

describe("DynamoDB calls of a first provisioning", () => {
  /** What one DynamoDB command is, by its operation and the keys it touches (LOCK#, REQ#, SECRET#, AUDIT#). */
  function describeCall(name: string, input: Record<string, unknown>): string {
    const kind = (key: unknown): string => {
      const { pk, sk } = (key ?? {}) as { pk?: unknown; sk?: unknown };
      if (typeof sk === "string" && sk.startsWith("AUDIT#")) return "audit";
      const prefix = typeof pk === "string" ? pk.slice(0, pk.indexOf("#")) : "?";
      return (
        ({ LOCK: "lock", REQ: "request", SECRET: "secret", OPEN: "scope lock" } as Record<string, string>)[
          prefix
        ] ?? prefix
      );
    };
    const op = name.replace(/Command$/, "");
    if (op === "TransactWriteItems") {
      const items = (input.TransactItems ?? []) as Record<string, { Key?: unknown; Item?: unknown }>[];
      const parts = items.map((it) => {
        const [verb, body] = Object.entries(it)[0] ?? ["?", {}];
        return `${verb} ${kind(body?.Key ?? body?.Item)}`;
      });
      return `${op}[${parts.join(", ")}]`;
    }
    if (op === "Query") return `${op} ${String(input.IndexName ?? "table")}`;
    return `${op} ${kind(input.Key ?? input.Item)}`;
  }

  it("a first provisioning (new person: user, key, grant, link, DM, ACTIVE) makes at most 8, each named", async () => {
    // The provisioner's own DynamoDB client (its role's credentials, as the harness's deps), with a
    // middleware that names every command the store, the secrets and the lock send.
    const dynamodb = createDynamoDbClient({ env: h.roles.functions.provisioner.env });
    const calls: string[] = [];
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(describeCall(String(context.commandName), args.input as Record<string, unknown>));
        return next(args);
      },
      { step: "initialize", name: "countDynamoDbCalls" },
    );
    const doc = createDocumentClient(dynamodb);
    const stores = createStores({ client: doc, tableName: h.dynamo.tableName });
    const deps = h.deps({
      store: stores.requests,
      secrets: stores.secrets,
      locks: createDynamoUserLocks({ doc, tableName: h.dynamo.tableName }),
    });
    try {
      const userId = newUserId();
      const req = await h.approved(userId, { subPrefix: "cpg0042/*" });
      const wireBefore = h.aws.state.requests.filter((r) => r.service === "dynamodb").length;

      const result = await provisionRequest(deps, req.id);

      expect(result.outcome).toBe("activated");
      const onTheWire = h.aws.state.requests.filter((r) => r.service === "dynamodb").length - wireBefore;
      const named = `${calls.length} calls:\n  ${calls.join("\n  ")}`;
      expect(onTheWire, named).toBe(calls.length);
      expect(calls.length, named).toBeLessThanOrEqual(8);
    } finally {
      dynamodb.destroy();
    }
  });
});
