// One set of books (issue 12 item 9): `create grant`, `delete grant`, `delete user` write the same request
// records and audit events as the bot, and `sync` reports (and with --fix repairs) drift between the
// table and Access Grants. In process, signing as the operator (docs/operator-policy.json), every call
// judged by the local AWS; the table is named as the deployed one is.
import { AddUserToGroupCommand, CreateUserCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { createGrant, deleteGrant } from "../../src/aws/access-grants.ts";
import { createS3ControlClient } from "../../src/aws/clients.ts";
import { GrantScope } from "../../src/rules/grant-scope.ts";
import { computeExpiresAt } from "../../src/rules/lifecycle.ts";
import { createStores, type Stores } from "../../src/store/index.ts";
import {
  BOOKS_NOTE,
  type CliAccount,
  DEPLOYED_TABLE_PREFIX,
  runInProcess,
  snapshot,
  startCliAccount,
  writesSince,
} from "./helpers.ts";

const TEAM = "T0CYTOSKEL";
const BUCKET = "staging-cellpainting-gallery";
let dynamo: LocalDynamo;
let account: CliAccount;
let stores: Stores;
let table: string;

beforeAll(async () => {
  dynamo = await startDynamo({ tableName: DEPLOYED_TABLE_PREFIX });
  table = dynamo.tableName;
  account = await startCliAccount({ dynamo });
  stores = createStores({ client: dynamo.doc, tableName: table });
}, 120_000);

afterAll(async () => {
  await account?.stop();
  await dynamo?.stop();
});

/** A user as the provisioner makes them: slack-<TEAM>-<USER> under /cytoskel/, in the uploaders group. */
async function botUser(userId: string, team = TEAM): Promise<string> {
  const name = `slack-${team}-${userId}`;
  await account.rootIam.send(new CreateUserCommand({ UserName: name, Path: "/cytoskel/" }));
  await account.rootIam.send(
    new AddUserToGroupCommand({ UserName: name, GroupName: "staging_cpg_uploaders" }),
  );
  return `arn:aws:iam::${account.local.accountId}:user/cytoskel/${name}`;
}

/** A grant made or removed behind the CLI's back (as an administrator would, by hand). */
async function byHand<T>(fn: (s3control: ReturnType<typeof createS3ControlClient>) => Promise<T>) {
  const s3control = createS3ControlClient({ env: account.local.env, maxAttempts: 1 });
  try {
    return await fn(s3control);
  } finally {
    s3control.destroy();
  }
}
const handGrant = (prefix: string, granteeArn: string) =>
  byHand((s3control) =>
    createGrant(s3control, {
      accountId: account.local.accountId,
      location: { id: account.locationId, scope: `s3://${BUCKET}/` },
      scope: GrantScope.of(BUCKET, prefix),
      permission: "READWRITE",
      granteeArn,
    }),
  );
const handDelete = (grantId: string) =>
  byHand((s3control) => deleteGrant(s3control, { accountId: account.local.accountId, grantId }));

const cli = (...args: string[]) => runInProcess(["cpgstaging", ...args], account);
const createGrantJson = async (...args: string[]) => {
  const run = await runInProcess(["--json", "cpgstaging", "create", "grant", ...args], account);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as {
    grant: { id: string };
    books: { recordedRequestIds: string[]; note?: string; table?: string };
  };
};

describe("create grant writes the books", () => {
  it("to a bot-made user: an ACTIVE request with the grant, seen by the status query and the audit", async () => {
    const arn = await botUser("UBOOKS1");
    const run = await cli(
      "create",
      "grant",
      arn,
      account.locationId,
      "cpg0042",
      "--days",
      "10",
      "--table",
      table,
      "--admin",
      "UOPS1",
    );
    expect(run.code).toBe(0);
    const grantId = /^Grant ID: (\S+),/m.exec(run.stdout)?.[1] ?? "";
    const [active] = (await stores.requests.listActiveByUser("UBOOKS1")).items;
    expect(active).toMatchObject({
      status: "ACTIVE",
      requesterTeamId: TEAM,
      subPrefix: "cpg0042/*",
      permission: "READWRITE",
      durationDays: 10,
      decidedBy: "UOPS1",
      progress: { grant: { grantId } },
    });
    expect(active?.expiresAt).toBe(computeExpiresAt(new Date(active?.activatedAt ?? ""), 10));
    expect(run.stderr).toBe(
      `Recorded as request ${active?.id} for UBOOKS1, ACTIVE until ${active?.expiresAt}.\n`,
    );
    const trail = await cli("audit", "--user", "UBOOKS1", "--table", table);
    expect(trail.stdout).toContain(`request.created  ->ACTIVE  about "UBOOKS1"  by admin:"UOPS1"`);
    expect(trail.stdout).toContain(`"source"="cli"  "grantId"="${grantId}"`);
  });

  it("a second run for a grant it made but could not record records it instead of refusing", async () => {
    const arn = await botUser("UBOOKS2");
    const made = await createGrantJson(arn, account.locationId, "cpg0050/*");
    expect(made.books.recordedRequestIds).toEqual([]);
    const again = await createGrantJson(arn, account.locationId, "cpg0050/*", "--table", table);
    expect(again.grant.id).toBe(made.grant.id);
    const [active] = (await stores.requests.listActiveByUser("UBOOKS2")).items;
    expect(again.books.recordedRequestIds).toEqual([active?.id]);
    expect(active?.durationDays).toBe(30);
    // A third run finds it recorded and refuses as the original tool did: nothing changed.
    const third = await cli("create", "grant", arn, account.locationId, "cpg0050/*", "--table", table);
    expect(third.code).toBe(1);
    expect(third.stderr).toMatch(/already has grant .* nothing changed/);
    expect((await stores.requests.listActiveByUser("UBOOKS2")).items).toHaveLength(1);
  });

  it("a books write that fails after the grant was made says so (exit 1); running it again finishes the books", async () => {
    const arn = await botUser("UBOOKS5");
    // A table the operator may not write (not the deployed stack's name): the grant is made, the books are not.
    const run = await cli(
      "create",
      "grant",
      arn,
      account.locationId,
      "cpg0054/*",
      "--table",
      "not-the-table",
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^Error: created grant \S+, but could not update the books \(.*\); nothing else changed: run the same command again, or "sync --fix", to finish\n$/,
    );
    const again = await createGrantJson(arn, account.locationId, "cpg0054/*", "--table", table);
    expect(again.books.recordedRequestIds).toHaveLength(1);
    expect((await stores.requests.listActiveByUser("UBOOKS5")).items).toHaveLength(1);
  });

  it("to a user the bot did not make: the grant, and a note that nothing was recorded", async () => {
    await account.rootIam.send(new CreateUserCommand({ UserName: "handmade_user", Path: "/cytoskel/" }));
    const arn = `arn:aws:iam::${account.local.accountId}:user/cytoskel/handmade_user`;
    const made = await createGrantJson(arn, account.locationId, "cpg0051/*", "--table", table);
    expect(made.books).toEqual({
      table,
      recordedRequestIds: [],
      endedRequestIds: [],
      note: `Not recorded: ${arn} is not a user the bot made (slack-<TEAM>-<USER>); "sync" lists its grants as hand-made.`,
    });
  });

  it("without a table: the grant as before, and one line saying the books were not updated", async () => {
    const arn = await botUser("UBOOKS3");
    const run = await cli("create", "grant", arn, account.locationId, "cpg0052/*");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Created grant with ARN: \S+\nGrant ID: /);
    expect(run.stderr).toBe(BOOKS_NOTE);
    expect((await stores.requests.listByRequester("UBOOKS3")).items).toEqual([]);
  });

  it("bad --days or --admin is a usage error (exit 2) and nothing is sent", async () => {
    const arn = await botUser("UBOOKS4");
    const state = snapshot(account.local);
    const from = account.local.state.requests.length;
    for (const [extra, message] of [
      [["--days", "0"], /invalid --days "0"; allowed: 1-90/],
      [["--days", "91"], /invalid --days "91"; allowed: 1-90/],
      [["--days", "ten"], /invalid --days "ten"/],
      [["--admin", "bob"], /--admin "bob" is not a Slack user ID/],
    ] as const) {
      const run = await cli(
        "create",
        "grant",
        arn,
        account.locationId,
        "cpg0053/*",
        "--table",
        table,
        ...extra,
      );
      expect(run.code, extra.join(" ")).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(snapshot(account.local)).toEqual(state);
    expect(writesSince(account.local, from)).toEqual([]);
    expect((await stores.requests.listByRequester("UBOOKS4")).items).toEqual([]);
  });
});

describe("delete grant and delete user end the records", () => {
  it("delete grant: every ACTIVE request recorded on it ends REVOKED with the reason, audited", async () => {
    const arn = await botUser("UDEL1");
    const made = await createGrantJson(arn, account.locationId, "cpg0060/*", "--table", table);
    const [id] = made.books.recordedRequestIds;
    const run = await cli("delete", "grant", made.grant.id, "--table", table, "--reason", "left the lab");
    expect(run).toEqual({
      code: 0,
      stdout: `Deleted grant with ID: ${made.grant.id}\n`,
      stderr: `Ended 1 request(s) recorded on it: ${id}.\n`,
    });
    expect((await stores.requests.get(id ?? ""))?.status).toBe("REVOKED");
    const events = (await stores.audit.listForRequest(id ?? "")).items;
    expect(events.at(-1)).toMatchObject({
      action: "request.transition",
      from: "ACTIVE",
      to: "REVOKED",
      reason: "left the lab",
      actor: { kind: "admin", id: "cytoskel-cli" },
    });
  });

  it("delete grant of a grant already gone still ends its records (a run that died halfway converges); then it fails as before", async () => {
    const arn = await botUser("UDEL2");
    const made = await createGrantJson(arn, account.locationId, "cpg0061/*", "--table", table);
    await handDelete(made.grant.id);
    const run = await cli("delete", "grant", made.grant.id, "--table", table);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^The grant was already gone\. Ended 1 request/);
    const [id] = made.books.recordedRequestIds;
    expect((await stores.requests.get(id ?? ""))?.lastTransition).toMatchObject({
      to: "REVOKED",
      reason: "deleted from the CLI",
    });
    const again = await cli("delete", "grant", made.grant.id, "--table", table);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/does not exist/);
  });

  it("delete user of a bot-made user: the IAM user goes and every request of the person ends REVOKED", async () => {
    const arn = await botUser("UDEL3");
    const a = await createGrantJson(arn, account.locationId, "cpg0062/*", "--table", table);
    const b = await createGrantJson(arn, account.locationId, "cpg0063/*", "--table", table);
    const run = await cli("delete", "user", `slack-${TEAM}-UDEL3`, "--table", table);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`User with username: slack-${TEAM}-UDEL3 is deleted`);
    const ids = [...a.books.recordedRequestIds, ...b.books.recordedRequestIds];
    expect(run.stderr).toMatch(/^Ended 2 request\(s\) of UDEL3 in the books/);
    for (const id of ids) expect((await stores.requests.get(id))?.status).toBe("REVOKED");
    expect((await stores.requests.listActiveByUser("UDEL3")).items).toEqual([]);
    expect(account.local.state.iam.users.has(`slack-${TEAM}-UDEL3`.toLowerCase())).toBe(false);
    // Again: the user is gone and so are its records: the original's error.
    const again = await cli("delete", "user", `slack-${TEAM}-UDEL3`, "--table", table);
    expect(again.code).toBe(1);
  });

  it("delete user ends only the requests that IAM user served: the person's requests under another team stay ACTIVE", async () => {
    const mine = await createGrantJson(
      await botUser("UDEL4"),
      account.locationId,
      "cpg0064/*",
      "--table",
      table,
    );
    const other = await createGrantJson(
      await botUser("UDEL4", "T0SECONDWS"),
      account.locationId,
      "cpg0065/*",
      "--table",
      table,
    );
    const run = await cli("delete", "user", `slack-${TEAM}-UDEL4`, "--table", table);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^Ended 1 request\(s\) of UDEL4 in the books/);
    expect((await stores.requests.get(mine.books.recordedRequestIds[0] ?? ""))?.status).toBe("REVOKED");
    expect((await stores.requests.get(other.books.recordedRequestIds[0] ?? ""))?.status).toBe("ACTIVE");
    expect(account.local.state.iam.users.has("slack-T0SECONDWS-UDEL4".toLowerCase())).toBe(true);
  });
});

describe("sync reports drift and --fix repairs it", () => {
  let goneRecordId = "";
  let unrecordedGrantId = "";
  let handGrantId = "";

  beforeAll(async () => {
    const arn = await botUser("USYNC1");
    // (a) a record whose grant was deleted by hand; (b) a grant made without the books; (c) a role's grant.
    const recorded = await createGrantJson(arn, account.locationId, "cpg0070/*", "--table", table);
    goneRecordId = recorded.books.recordedRequestIds[0] ?? "";
    await handDelete(recorded.grant.id);
    unrecordedGrantId = (await createGrantJson(arn, account.locationId, "cpg0071/*")).grant.id;
    handGrantId = (await handGrant("cpg0072/*", `arn:aws:iam::${account.local.accountId}:role/hand-made`)).id;
  });

  it("reports each kind of drift and exits 3 without changing anything", async () => {
    const from = account.local.state.requests.length;
    const run = await cli("sync", "--table", table);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(
      `Record without grant: request ${goneRecordId}, Person: USYNC1, Scope: cpg0070/*, Grant: `,
    );
    expect(run.stdout).toContain(
      `Grant without record: Grant ID: ${unrecordedGrantId}, Person: USYNC1, Scope: cpg0071/*, Permission: READWRITE`,
    );
    expect(run.stdout).toContain(`Hand-made grant (not in the books, left alone): Grant ID: ${handGrantId}`);
    expect(run.stderr).toMatch(/drift\(s\) found; run with --fix to repair/);
    expect(writesSince(account.local, from).filter((op) => op !== "Query")).toEqual([]);
    expect((await stores.requests.get(goneRecordId))?.status).toBe("ACTIVE");
  });

  it("--fix ends records whose grant is gone, records grants without one, leaves hand-made grants; a second run finds no drift", async () => {
    const fix = await runInProcess(["--json", "cpgstaging", "sync", "--fix", "--table", table], account);
    expect(fix.stderr).toBe("");
    expect(fix.code).toBe(0);
    const doc = JSON.parse(fix.stdout);
    expect(doc).toMatchObject({ fixed: true, failures: [], exitCode: 0 });
    expect(doc.done).toContain(`Ended request ${goneRecordId} (REVOKED): its grant is gone`);
    expect((await stores.requests.get(goneRecordId))?.lastTransition).toMatchObject({
      to: "REVOKED",
      reason: "sync: grant no longer in Access Grants",
    });
    const adopted = (await stores.requests.listActiveByUser("USYNC1")).items;
    expect(adopted).toEqual([
      expect.objectContaining({ subPrefix: "cpg0071/*", durationDays: 30, progress: expect.anything() }),
    ]);
    expect(adopted[0]?.progress.grant?.grantId).toBe(unrecordedGrantId);
    const events = (await stores.audit.listForRequest(adopted[0]?.id ?? "")).items;
    expect(events[0]).toMatchObject({ action: "request.created", to: "ACTIVE", details: { source: "sync" } });
    const grants = [...(account.local.state.accessGrants.get("us-east-1")?.grants.keys() ?? [])];
    expect(grants).toContain(handGrantId);

    const again = await cli("sync", "--fix", "--table", table);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/without/);
    expect(again.stderr).toBe(`No drift between ${table} and the grants on s3://${BUCKET}/.\n`);
  });

  it("a second grant for a scope already recorded is a fix that fails (exit 1) naming the grant to delete; deleting it ends the drift", async () => {
    const arn = await botUser("USYNC2");
    const held = await createGrantJson(
      arn,
      account.locationId,
      "cpg0080/*",
      "--permission",
      "read",
      "--table",
      table,
    );
    const extra = await handGrant("cpg0080/*", arn);
    const fix = await cli("sync", "--fix", "--table", table);
    expect(fix.code).toBe(1);
    expect(fix.stderr).toContain(
      `Failed: Grant ${extra.id}: Not recorded: request ${held.books.recordedRequestIds[0]} (ACTIVE) already holds cpg0080/* for USYNC2 on grant ${held.grant.id}; delete grant ${extra.id} if it is not needed.`,
    );
    const removed = await cli("delete", "grant", extra.id, "--table", table);
    expect(removed).toMatchObject({ code: 0, stderr: "Ended 0 request(s) recorded on it.\n" });
    const after = await cli("sync", "--table", table);
    expect(after.code).toBe(0);
    expect((await stores.requests.get(held.books.recordedRequestIds[0] ?? ""))?.status).toBe("ACTIVE");
  });

  it("needs the table: a usage error naming --table, nothing sent", async () => {
    const from = account.local.state.authorizations.length;
    const run = await cli("sync");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--table or set CYTOSKEL_TABLE_NAME/);
    expect(account.local.state.authorizations.slice(from)).toEqual([]);
  });
});

// After the blocks above: every call the books made as the operator was allowed by the policy as it
// stands (no statement was added: close prefix's CloseFindRequests / CloseEndRequests cover them).
describe("the books and docs/operator-policy.json", () => {
  it("every call was allowed, and the table calls are only those close prefix already needs", () => {
    const all = account.local.state.authorizations.filter((a) => a.principalArn === account.operator.arn);
    // The one refusal is the test's own: the lock's PutItem on a table that is not the bot's.
    const elsewhere = all.filter((c) => c.resource.endsWith(":table/not-the-table"));
    expect(elsewhere.map((c) => `${c.action} ${c.allowed}`)).toEqual(["dynamodb:PutItem false"]);
    const calls = all.filter((c) => !elsewhere.includes(c));
    expect(calls.filter((c) => !c.allowed)).toEqual([]);
    const tableArn = `arn:aws:dynamodb:us-east-1:${account.local.accountId}:table/${table}`;
    const dynamo = [
      ...new Set(
        calls.filter((c) => c.action.startsWith("dynamodb:")).map((c) => `${c.action} ${c.resource}`),
      ),
    ].sort();
    expect(dynamo).toEqual(
      [
        `dynamodb:Query ${tableArn}/index/byStatus`,
        `dynamodb:Query ${tableArn}/index/byRequester`,
        `dynamodb:Query ${tableArn}/index/auditByUser`,
        `dynamodb:GetItem ${tableArn}`,
        `dynamodb:PutItem ${tableArn}`,
        `dynamodb:UpdateItem ${tableArn}`,
        `dynamodb:DeleteItem ${tableArn}`,
      ].sort(),
    );
  });
});
