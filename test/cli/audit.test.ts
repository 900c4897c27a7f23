// `cytoskel cpgstaging audit` in process, signing as the operator (docs/operator-policy.json), its
// DynamoDB calls judged by the local AWS and forwarded to a table named as the deployed one is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamo, startDynamo } from "../../dev/dynamodb.ts";
import { createStores } from "../../src/store/index.ts";
import type { NewAuditEvent } from "../../src/store/types.ts";
import { type CliAccount, DEPLOYED_TABLE_PREFIX, runInProcess, startCliAccount } from "./helpers.ts";

let dynamo: LocalDynamo;
let account: CliAccount;
let table: string;
const ADMIN = { kind: "admin" as const, id: "UADMIN1" };
const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 12, 0) + minute * 60_000).toISOString();

beforeAll(async () => {
  dynamo = await startDynamo({ tableName: DEPLOYED_TABLE_PREFIX });
  table = dynamo.tableName;
  account = await startCliAccount({ dynamo });
  const audit = createStores({ client: dynamo.doc, tableName: table }).audit;
  const seed: Omit<NewAuditEvent, "actor">[] = [
    { subjectUserId: "UALICE", scope: "cpg0042/*", action: "request.created", to: "PENDING", at: at(1) },
    { subjectUserId: "UBOB", scope: "cpg0042/a/*", action: "request.created", to: "PENDING", at: at(2) },
    { subjectUserId: "UCAROL", scope: "cpg00421/*", action: "request.created", to: "PENDING", at: at(3) },
    {
      subjectUserId: "UALICE",
      scope: "cpg0042/*",
      action: "request.transition",
      from: "ACTIVE",
      to: "REVOKED",
      reason: "left\u001b[31m the lab\nFAKE LINE",
      at: at(4),
    },
    { subjectUserId: "UBOB", scope: "cpg0043/*", action: "request.created", to: "PENDING", at: at(5) },
  ];
  for (const e of seed) await audit.append({ actor: ADMIN, ...e });
  // One person with more events than a page (100), for paging.
  for (let n = 0; n < 105; n++)
    await audit.append({
      subjectUserId: "UMANY",
      actor: ADMIN,
      action: "progress.grant",
      at: at(100 + n),
      details: { n },
    });
}, 120_000);

afterAll(async () => {
  await account?.stop();
  await dynamo?.stop();
});

const audit = (...args: string[]) => runInProcess(["cpgstaging", "audit", ...args], account);
const minuteOf = (line: string) => (Date.parse(line.split("  ")[0] ?? "") - Date.parse(at(0))) / 60_000;

describe("cytoskel cpgstaging audit", () => {
  it("prints one line per event about a person, newest first, with the reason quoted so it can't forge a line", async () => {
    const run = await audit("--user", "UALICE", "--table", table);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toEqual([
      `${at(4)}  request.transition  ACTIVE->REVOKED  about "UALICE"  by admin:"UADMIN1"  scope "cpg0042/*"  reason "left\\u001b[31m the lab\\nFAKE LINE"`,
      `${at(1)}  request.created  ->PENDING  about "UALICE"  by admin:"UADMIN1"  scope "cpg0042/*"`,
    ]);
  });

  it("merges several people newest first, and --prefix narrows them to scopes at or under it", async () => {
    const both = await audit("--user", "UALICE", "UBOB", "--table", table);
    expect(both.stdout.trimEnd().split("\n").map(minuteOf)).toEqual([5, 4, 2, 1]);
    const under = await audit(
      "--user",
      "UALICE",
      "--user",
      "UBOB",
      "--prefix",
      "cpg0042/a",
      "--table",
      table,
    );
    expect(under.stdout.trimEnd().split("\n").map(minuteOf)).toEqual([2]);
  });

  it("--prefix alone reads every scope at or under it (cpg0042/ has cpg0042/a/, not cpg00421/)", async () => {
    const run = await audit("--prefix", "cpg0042/", "--table", table);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n").map(minuteOf)).toEqual([4, 2, 1]);
  });

  it("walks every page of a long trail, newest first, without repeats", async () => {
    const run = await audit("--user", "UMANY", "--table", table);
    const minutes = run.stdout.trimEnd().split("\n").map(minuteOf);
    expect(minutes).toEqual(Array.from({ length: 105 }, (_, i) => 204 - i));
  });

  it("--json prints one document with the filters and the events, reading the table from CYTOSKEL_TABLE_NAME", async () => {
    const run = await runInProcess(["--json", "cpgstaging", "audit", "--prefix", "cpg0042"], account, {
      env: { CYTOSKEL_TABLE_NAME: table },
    });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ table, prefix: "cpg0042/*" });
    expect(doc.events.map((e: { at: string }) => e.at)).toEqual([at(4), at(2), at(1)]);
    expect(doc.events[0]).toMatchObject({ reason: "left\u001b[31m the lab\nFAKE LINE", actor: ADMIN });
  });

  it("refuses bad input with exit 2 and one line saying what is wrong, calling nothing", async () => {
    const before = account.local.state.authorizations.length;
    const cases: Array<[string[], RegExp]> = [
      [["--user", "UALICE"], /--table or set CYTOSKEL_TABLE_NAME/],
      [["--table", "t"], /give --user <slack-user-id> and\/or --prefix <prefix>/],
      [["--user", "alice", "--table", "t"], /--user "alice" is not a Slack user ID/],
      [["--prefix", "../x", "--table", "t"], /\.\./],
    ];
    for (const [args, message] of cases) {
      const run = await audit(...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    }
    expect(account.local.state.authorizations.slice(before)).toEqual([]);
  });

  it("makes only Query calls on the two audit indexes, each allowed by the operator policy", () => {
    const calls = account.local.state.authorizations.filter((a) => a.principalArn === account.operator.arn);
    const base = `arn:aws:dynamodb:us-east-1:${account.local.accountId}:table/${table}/index`;
    expect(calls.filter((c) => !c.allowed)).toEqual([]);
    expect([...new Set(calls.map((c) => `${c.action} ${c.resource}`))].sort()).toEqual(
      [`dynamodb:Query ${base}/auditByDataset`, `dynamodb:Query ${base}/auditByUser`].sort(),
    );
  });
});
