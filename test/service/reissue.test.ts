// Re-issue against the local AWS stand-in (IAM, STS) and the real store on DynamoDB Local.
import type { IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { type LocalAws, startLocalAws } from "../../dev/local-aws/index.ts";
import { createAccessKey, listAccessKeys } from "../../src/aws/access-keys.ts";
import { createIamClient, createStsClient } from "../../src/aws/clients.ts";
import { createUser, deleteUserCompletely } from "../../src/aws/iam-users.ts";
import { TARGETS } from "../../src/config/targets.ts";
import type { Permission } from "../../src/rules/permission.ts";
import { open } from "../../src/secret-link/crypto.ts";
import { type CredentialsPayload, issueSecretLink } from "../../src/secret-link/issue.ts";
import {
  AUDIT_ACTION_REISSUED,
  IamUserGoneError,
  NothingToReissueError,
  type ReissueDeps,
  reissueCredentials,
} from "../../src/service/reissue.ts";
import { createStores, type Stores } from "../../src/store/index.ts";

const TEAM = "T0CYTOSKEL";
const ADMIN = { kind: "admin", id: "U0ADMIN" } as const;
const BASE = "https://links.example.org";
const target = TARGETS.cpgstaging;

let aws: LocalAws;
let iam: IAMClient;
let dynamo: LocalDynamo;
let stores: Stores;
let deps: ReissueDeps;
const logged: unknown[] = [];

/** What the provisioner leaves behind for one approved, delivered request. */
async function provisioned(
  userId: string,
  subPrefix: string,
  permission: Permission = "READWRITE",
  team = TEAM,
) {
  const userName = `slack-${team}-${userId}`;
  if (!aws.state.iam.users.has(userName.toLowerCase())) {
    await createUser(iam, { name: userName, path: target.iamPath, slackUserId: userId, slackTeamId: team });
  }
  const { requests } = stores;
  const { request } = await requests.create({
    requesterUserId: userId,
    requesterTeamId: team,
    subPrefix,
    permission,
  });
  await requests.transition(request.id, { from: "PENDING", to: "APPROVED", actor: ADMIN });
  const user = aws.state.iam.users.get(userName.toLowerCase());
  await requests.recordProgress(request.id, "iamUser", { userName, userArn: user?.arn ?? "" });
  const existing = await listAccessKeys(iam, userName);
  const key = existing[0] ?? (await createAccessKey(iam, userName));
  await requests.recordProgress(request.id, "accessKey", {
    accessKeyId: key.accessKeyId,
    created: existing.length === 0,
  });
  const link = await issueSecretLink({
    secrets: stores.secrets,
    baseUrl: BASE,
    payload: {
      accessKeyId: key.accessKeyId,
      secretAccessKey: "old",
      bucket: target.bucket,
      region: target.region,
      scopes: [subPrefix],
    },
    requestId: request.id,
    requesterUserId: userId,
  });
  await requests.recordProgress(request.id, "secret", {
    linkId: link.id,
    expiresAt: Math.floor(link.expiresAt.getTime() / 1000),
  });
  await requests.recordProgress(request.id, "dm", { channel: `D${userId}`, ts: "1700000000.000100" });
  await requests.transition(request.id, {
    from: "APPROVED",
    to: "ACTIVE",
    actor: { kind: "system", id: "provisioner" },
  });
  return { requestId: request.id, userName, oldKeyId: key.accessKeyId, oldLinkId: link.id };
}

async function callerArn(accessKeyId: string, secretAccessKey: string): Promise<string> {
  const sts = createStsClient({
    env: { ...aws.env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
  });
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    return out.Arn ?? "";
  } finally {
    sts.destroy();
  }
}

async function revealed(url: string): Promise<CredentialsPayload> {
  const u = new URL(url);
  const id = u.pathname.split("/").at(-1) ?? "";
  const record = await stores.secrets.consume(id, Math.floor(Date.now() / 1000));
  if (!record) throw new Error("link not stored");
  return JSON.parse(await open(record, u.hash.slice(1), id)) as CredentialsPayload;
}

beforeAll(async () => {
  [aws, dynamo] = await Promise.all([startLocalAws(), startDynamo()]);
  iam = createIamClient({ env: aws.env });
  stores = createStores({ client: dynamo.doc, tableName: dynamo.tableName });
  deps = {
    iam,
    store: stores.requests,
    secrets: stores.secrets,
    audit: stores.audit,
    target,
    secretLinkBaseUrl: BASE,
    log: { info: (event, fields) => logged.push({ event, fields }) },
  };
});

afterAll(async () => {
  iam?.destroy();
  await aws?.stop();
  await dynamo?.stop();
});

describe("reissueCredentials", () => {
  it("replaces the key: the old one stops working, the new one works and arrives in a fresh link", async () => {
    const p = await provisioned("U0LOST", "cpg0042/*");
    const oldSecret = aws.state.iam.users.get(p.userName.toLowerCase())?.accessKeys[0]?.secretAccessKey ?? "";
    expect(await callerArn(p.oldKeyId, oldSecret)).toMatch(new RegExp(`:user/cytoskel/${p.userName}$`));

    const result = await reissueCredentials(deps, { userId: "U0LOST", actor: ADMIN, reason: "link lost" });

    expect(result).toMatchObject({
      userId: "U0LOST",
      iamUserName: p.userName,
      deletedAccessKeyIds: [p.oldKeyId],
      requestId: p.requestId,
      scopes: ["cpg0042/*"],
      retiredLinkCount: 1,
    });
    expect(result.link.url).toMatch(new RegExp(`^${BASE}/s/${result.link.id}#[A-Za-z0-9_-]{43}$`));
    const keys = await listAccessKeys(iam, p.userName);
    expect(keys.map((k) => k.accessKeyId)).toEqual([result.accessKeyId]);

    const payload = await revealed(result.link.url);
    expect(payload).toMatchObject({
      accessKeyId: result.accessKeyId,
      bucket: target.bucket,
      region: target.region,
      scopes: ["cpg0042/*"],
      permission: "READWRITE",
    });
    expect(await callerArn(payload.accessKeyId, payload.secretAccessKey)).toMatch(
      new RegExp(`:user/cytoskel/${p.userName}$`),
    );
    await expect(callerArn(p.oldKeyId, oldSecret)).rejects.toMatchObject({ name: "InvalidClientTokenId" });
  });

  it("retires the earlier unopened link and records the new key as delivered, so provisioning keeps it", async () => {
    const p = await provisioned("U0LEAK", "cpg0050/*");
    expect(await stores.secrets.isAvailable(p.oldLinkId, Math.floor(Date.now() / 1000))).toBe(true);

    const result = await reissueCredentials(deps, { userId: "U0LEAK", actor: ADMIN });

    expect(await stores.secrets.isAvailable(p.oldLinkId, Math.floor(Date.now() / 1000))).toBe(false);
    expect(await stores.secrets.isAvailable(result.link.id, Math.floor(Date.now() / 1000))).toBe(true);
    const request = await stores.requests.get(p.requestId);
    expect(request?.status).toBe("ACTIVE");
    expect(request?.progress.accessKey).toMatchObject({ accessKeyId: result.accessKeyId, created: true });
    expect(request?.progress.secret?.linkId).toBe(result.link.id);
    // The provisioner's "delivered key" test: a request with a recorded DM names this key.
    expect(request?.progress.dm).toBeDefined();
  });

  it("covers every active prefix, and omits the permission when the grants differ", async () => {
    await provisioned("U0MULTI", "cpg0001/*", "READ");
    await provisioned("U0MULTI", "cpg0002/*", "READWRITE");
    const result = await reissueCredentials(deps, { userId: "U0MULTI", actor: ADMIN });
    expect(result.scopes).toEqual(["cpg0001/*", "cpg0002/*"]);
    expect(result.retiredLinkCount).toBe(2);
    const payload = await revealed(result.link.url);
    expect(payload.scopes).toEqual(["cpg0001/*", "cpg0002/*"]);
    expect(payload.permission).toBeUndefined();
  });

  it("names only the scopes the new key opens when the person has another IAM user under a second team", async () => {
    await provisioned("U0TWOTEAM", "cpg0003/*", "READ");
    const other = await provisioned("U0TWOTEAM", "cpg0004/*", "WRITE", "T0SECONDWS");
    const result = await reissueCredentials(deps, { userId: "U0TWOTEAM", actor: ADMIN });
    const payload = await revealed(result.link.url);
    const reissued = result.iamUserName === other.userName ? ["cpg0004/*"] : ["cpg0003/*"];
    expect(result.scopes).toEqual(reissued);
    expect(payload.scopes).toEqual(reissued);
    expect(result.retiredLinkCount).toBe(1);
  });

  it("deletes both keys when the user already holds IAM's maximum of two", async () => {
    const p = await provisioned("U0TWOKEYS", "cpg0060/*");
    const extra = await createAccessKey(iam, p.userName);
    const result = await reissueCredentials(deps, { userId: "U0TWOKEYS", actor: ADMIN });
    expect([...result.deletedAccessKeyIds].sort()).toEqual([p.oldKeyId, extra.accessKeyId].sort());
    expect((await listAccessKeys(iam, p.userName)).map((k) => k.accessKeyId)).toEqual([result.accessKeyId]);
  });

  it("audits who re-issued and why, with no secret in the audit trail or the log", async () => {
    const p = await provisioned("U0AUDIT", "cpg0070/*");
    const result = await reissueCredentials(deps, {
      userId: "U0AUDIT",
      actor: ADMIN,
      reason: "leaked in a screenshot",
    });
    const events = (await stores.audit.listForRequest(p.requestId)).items;
    const reissued = events.filter((e) => e.action === AUDIT_ACTION_REISSUED);
    expect(reissued).toEqual([
      expect.objectContaining({
        actor: ADMIN,
        subjectUserId: "U0AUDIT",
        reason: "leaked in a screenshot",
        details: expect.objectContaining({ accessKeyId: result.accessKeyId, deletedKeys: p.oldKeyId }),
      }),
    ]);
    const newSecret = aws.state.iam.users.get(p.userName.toLowerCase())?.accessKeys[0]?.secretAccessKey ?? "";
    expect(newSecret).not.toBe("");
    const key = new URL(result.link.url).hash.slice(1);
    for (const text of [JSON.stringify(events), JSON.stringify(logged)]) {
      expect(text).not.toContain(newSecret);
      expect(text).not.toContain(key);
    }
  });

  it("refuses, touching nothing, when the person holds no active access", async () => {
    const before = aws.state.requests.length;
    await expect(reissueCredentials(deps, { userId: "U0NOBODY", actor: ADMIN })).rejects.toThrow(
      NothingToReissueError,
    );
    expect(aws.state.requests.length).toBe(before);
  });

  it("refuses, making no access-key call, when the person's IAM user was deleted outside cytoskel", async () => {
    const { userName } = await provisioned("U0GONE", "cpg0090/*");
    await deleteUserCompletely({ iam }, userName);
    const before = aws.state.requests.length;

    const err = await reissueCredentials(deps, { userId: "U0GONE", actor: ADMIN }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(IamUserGoneError);
    expect(err).toBeInstanceOf(NothingToReissueError);
    expect((err as Error).message).toContain(`IAM user ${userName} no longer exists`);
    // Asked with ListUsers under the path: a path-scoped role gets AccessDenied, not NoSuchEntity, from
    // ListAccessKeys on a missing user.
    expect(aws.state.requests.slice(before).map((r) => r.operation)).toEqual(["ListUsers"]);
  });

  it("runs under the per-person lock when one is given", async () => {
    await provisioned("U0LOCKED", "cpg0080/*");
    const names: string[] = [];
    const result = await reissueCredentials(
      {
        ...deps,
        locks: {
          withLock: async (name, fn) => {
            names.push(name);
            return fn();
          },
        },
      },
      { userId: "U0LOCKED", actor: ADMIN },
    );
    expect(names).toEqual(["PERSON#U0LOCKED"]);
    expect(result.deletedAccessKeyIds).toHaveLength(1);
  });
});
