// The contract between the code and the roles `cdk synth` writes. The playground runs every flow with
// each function signing as its synthesized role (the local AWS enforces IAM, DynamoDB included); this
// suite then prints, per function, every (action, resource) its flows used, asserts each was allowed,
// and proves each statement necessary: re-judged without it, some recorded call of a named flow step is
// denied. Actions no flow used must be ones Lambda itself exercises on the role's behalf (logs, the
// stream poller, the DLQ). Negatives: the bot and the secret link hold no IAM or S3 rights, the secret
// link reads and deletes only SECRET# items, contributors cannot create grants, users or keys.
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_SPECS } from "../../cdk/lib/bot-functions.ts";
import { FUNCTION_NAMES, type FunctionName } from "../../dev/deployed-roles.ts";
import { lambdaContext } from "../../dev/lambda-context.ts";
import { type Check, evaluateCheck } from "../../dev/local-aws/authz/evaluate.ts";
import { type NamedPolicy, userPolicies } from "../../dev/local-aws/authz/principals.ts";
import type { AuthorizationRecord } from "../../dev/local-aws/index.ts";
import { PLAYGROUND_DEFAULTS, type Playground, startPlayground } from "../../dev/playground.ts";
import { playgroundSlack } from "../../dev/playground-slack.ts";
import { getTarget } from "../../src/config/targets.ts";

/**
 * Actions only a recovery path calls, each exercised (as the same synthesized role) by the named suite.
 */
const RECOVERY_ONLY: Record<string, string> = {
  "s3:GetAccessGrant":
    "the provisioner re-reads a grant it recorded before a crash (test/service/crash.test.ts)",
};

/** Actions Lambda's own machinery uses with the function's role; no code of ours calls them. */
const LAMBDA_RUNTIME_ACTIONS = new Set([
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "dynamodb:ListStreams",
  "dynamodb:DescribeStream",
  "dynamodb:GetRecords",
  "dynamodb:GetShardIterator",
  "sqs:SendMessage",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
]);

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

let p: Playground;
/** Which flow step made each recorded call (index into state.authorizations → step name). */
const steps: { from: number; name: string }[] = [];
const ADMIN = PLAYGROUND_DEFAULTS.adminUserId;
const USER = "UCONTRACT1";
const USER2 = "UCONTRACT2";
const USER3 = "UCONTRACT3";

function iamUserOf(slackUser: string) {
  return [...p.localAws.state.iam.users.values()].find(
    (u) => u.tags.get("slack-user-id") === slackUser || u.userName.endsWith(`-${slackUser}`),
  );
}

/** What an admin might add by hand in the console; the tear-down must remove each (as root here). */
async function handTouch(slackUser: string): Promise<void> {
  const user = iamUserOf(slackUser);
  if (!user) throw new Error(`no IAM user for ${slackUser}`);
  const UserName = user.userName;
  await p.aws.iam.send(new CreateLoginProfileCommand({ UserName, Password: "Console-Passw0rd!" }));
  await p.aws.iam.send(
    new PutUserPolicyCommand({
      UserName,
      PolicyName: "by-hand",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*" }],
      }),
    }),
  );
  await p.aws.iam.send(
    new AttachUserPolicyCommand({ UserName, PolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }),
  );
  // The stand-in has no API to make these; AWS users can have them.
  user.mfaDevices.push(`arn:aws:iam::${p.localAws.accountId}:mfa/${UserName}`);
  user.signingCertificates.push("CERTIDBYHAND0001");
  user.sshPublicKeys.push("APKABYHAND0000000001");
}

function step(name: string): void {
  steps.push({ from: p.localAws.state.authorizations.length, name });
}
function stepOf(index: number): string {
  return [...steps].reverse().find((s) => s.from <= index)?.name ?? "setup";
}

const slash = (user: string, text: string) => playgroundSlack(p).slash(user, text);

async function fileAndApprove(text: string, who = USER): Promise<string> {
  step(`bot: /cytoskel ${text}`);
  const reply = await slash(who, text);
  const id = /Request `([^`]+)` filed/.exec(reply.json.text ?? "")?.[1] ?? "";
  const card = playgroundSlack(p).card(id);
  step("bot: admin clicks Approve");
  await playgroundSlack(p).click(ADMIN, "cytoskel_approve", card.value, card);
  step("provisioner: provision the approved request");
  await p.stream.drain();
  return id;
}

async function openLatestLink(): Promise<void> {
  const dm = p.slack
    .callsTo("chat.postMessage")
    .filter((c) => c.args.channel === USER)
    .at(-1);
  const url = new RegExp(`${p.secretLinkUrl}/s/[^#\\s>|]+`).exec(JSON.stringify(dm?.args))?.[0] ?? "";
  step("secret link: GET the page");
  await (await fetch(url)).text();
  step("secret link: POST reveal (consume once, tell the requester)");
  const res = await fetch(url, { method: "POST", headers: { "x-requested-with": "cytoskel-reveal" } });
  expect(res.status).toBe(200);
  await new Promise((r) => setTimeout(r, 200)); // the "opened" notice is sent after the answer
}

beforeAll(async () => {
  p = await startPlayground({ quiet: true, retry: { backoffMs: 10, maxAttempts: 2 } });
  const first = await fileAndApprove("request prefix cpg0042/* readwrite for 30d contract");
  expect((await p.stores.requests.get(first))?.status).toBe("ACTIVE");
  await openLatestLink();
  await fileAndApprove("request prefix cpg0043/* read for 30d second prefix");
  // An upgrade of a held prefix: the bot files a change request (its own lock item), the provisioner
  // replaces the grant (CreateAccessGrant, then DeleteAccessGrant of the old one) with no key made.
  step("bot: the requester asks for more on a held prefix (a change request)");
  const asked = await slash(USER, "request prefix cpg0043/* readwrite for 30d more plates");
  const changeId = /Change request `([^`]+)` filed/.exec(asked.json.text ?? "")?.[1] ?? "";
  const changeCard = playgroundSlack(p).card(changeId);
  step("bot: admin clicks Approve on the change");
  await playgroundSlack(p).click(ADMIN, "cytoskel_approve", changeCard.value, changeCard);
  step("provisioner: apply the approved change (the wider grant replaces the old one)");
  await p.stream.drain();
  expect((await p.stores.requests.get(changeId))?.status).toBe("APPLIED");
  step("bot: /cytoskel status");
  await slash(USER, "status");
  step("bot: the requester cancels a pending request (the bot reads it first)");
  const filed = await slash(USER, "request prefix cpg0049/* read for 7d changed my mind");
  const pending = /Request `([^`]+)` filed/.exec(filed.json.text ?? "")?.[1] ?? "";
  await slash(USER, `cancel ${pending}`);
  expect((await p.stores.requests.get(pending))?.status).toBe("CANCELLED");
  step("bot: admin queues a re-issue; provisioner rotates the key");
  await slash(ADMIN, `reissue <@${USER}>`);
  await p.stream.drain();
  await openLatestLink();
  step("bot: admin queues a one-prefix revoke with a reason; provisioner revokes it");
  await slash(ADMIN, `revoke <@${USER}> cpg0043/* second prefix no longer needed`);
  await p.stream.drain();
  step("bot: admin reads the audit trail of a person and of a prefix");
  const trail = await slash(ADMIN, `audit <@${USER}>`);
  expect(JSON.stringify(trail.json)).toContain("second prefix no longer needed");
  const byPrefix = await slash(ADMIN, "audit prefix cpg0043/");
  expect(JSON.stringify(byPrefix.json)).toContain("REVOKED");
  // A person an admin also touched by hand (console password, MFA, an extra policy, SSH and signing
  // keys): a full revoke takes all of it apart, and so does the expiry sweep for USER below.
  for (const who of [USER2, USER]) {
    if (who === USER2) await fileAndApprove("request prefix cpg0044/* write for 30d hand-touched", USER2);
    await handTouch(who);
  }
  // A narrower, longer request that reuses the broader grant: when the broader one expires, the sweep
  // must re-grant the narrower scope on its own.
  await fileAndApprove("request prefix cpg0050/* read for 30d broad", USER3);
  await fileAndApprove("request prefix cpg0050/plate1/* read for 60d narrow", USER3);
  step("bot: admin queues a full revoke; provisioner takes the user apart");
  await slash(ADMIN, `revoke <@${USER2}>`);
  await p.stream.drain();
  expect(iamUserOf(USER2)).toBeUndefined();
  step(
    "bot: admin closes a prefix; provisioner revokes everyone at or under it (instance-wide grant listing)",
  );
  await fileAndApprove("request prefix cpg0060/a/* read for 30d to be closed", USER2);
  expect(iamUserOf(USER2)).toBeDefined();
  await slash(ADMIN, "close prefix cpg0060/ dataset published");
  await p.stream.drain();
  expect(iamUserOf(USER2)).toBeUndefined();
  step("bot: a request waits for a decision (its card's place recorded)");
  const waiting = await slash(USER3, "request prefix cpg0051/* read for 7d nobody decides");
  const waitingId = /Request `([^`]+)` filed/.exec(waiting.json.text ?? "")?.[1] ?? "";
  expect((await p.stores.requests.get(waitingId))?.adminMessage).toBeDefined();
  step("expiry: the sweep re-announces the waiting request (claims it, links its card)");
  const reminder = await p.expiry(() => new Date(Date.now() + 2 * 86_400_000))(
    {},
    lambdaContext("expiry", FUNCTION_SPECS.expiry.timeout.toMilliseconds()),
  );
  expect(reminder).toMatchObject({ announced: 1, errors: [] });
  step("bot: the requester asks twice for more time on a scope they hold (one change request filed)");
  const active = (await p.stores.requests.listActiveByUser(USER3)).items.find(
    (r) => r.subPrefix === "cpg0050/*",
  );
  for (let i = 0; i < 2; i++) await slash(USER3, "request prefix cpg0050/* read for 60d longer");
  const changes = (await p.stores.requests.listByRequester(USER3)).items.filter(
    (r) => r.changeOf === active?.id,
  );
  expect(changes).toHaveLength(1);
  step("expiry: the sweep expires what ran out");
  // The expiry function as its Lambda entry builds it (cold start included), 40 days from now.
  const sweep = p.expiry(() => new Date(Date.now() + 40 * 86_400_000));
  const report = await sweep({}, lambdaContext("expiry", FUNCTION_SPECS.expiry.timeout.toMilliseconds()));
  expect(report.errors).toEqual([]);
  expect(report.expired).toBeGreaterThan(0);
  expect((await p.stores.requests.get(first))?.status).toBe("EXPIRED");
}, 120_000);
afterAll(async () => {
  await p?.stop();
});

function records(fn: FunctionName): Array<AuthorizationRecord & { index: number }> {
  const arn = p.roles.functions[fn].sessionArn;
  return p.localAws.state.authorizations
    .map((a, index) => ({ ...a, index }))
    .filter((a) => a.principalArn === arn);
}

function roleDocuments(fn: FunctionName): { name: string; statements: Statement[] }[] {
  const arn = p.roles.functions[fn].roleArn;
  const role = [...p.localAws.state.iam.roles.values()].find((r) => r.arn === arn);
  return [...(role?.policies ?? [])].map(([name, doc]) => ({
    name,
    statements: (JSON.parse(doc) as { Statement: Statement[] }).Statement,
  }));
}

function policiesWithout(fn: FunctionName, skip?: { doc: number; st: number }): NamedPolicy[] {
  return roleDocuments(fn).map((d, i) => ({
    name: d.name,
    policy: {
      Version: "2012-10-17",
      Statement: d.statements.filter((_, j) => !(skip && skip.doc === i && skip.st === j)),
    },
  }));
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

async function rejudge(policies: NamedPolicy[], rec: AuthorizationRecord) {
  const check: Check = { action: rec.action, context: rec.context };
  return evaluateCheck(policies, rec.principalArn, check, rec.resource, { accountId: p.localAws.accountId });
}

describe.each(FUNCTION_NAMES)("the %s role", (fn) => {
  it("allowed every call its flows made (printed as the contract table)", () => {
    const used = records(fn);
    const rows = [
      ...new Set(used.map((r) => `${r.allowed ? "allowed" : "DENIED "}  ${r.action}  ${r.resource}`)),
    ];
    console.log(
      `\n${fn}: ${used.length} calls, ${rows.length} distinct (action, resource)\n  ${rows.join("\n  ")}`,
    );
    expect(used.filter((r) => !r.allowed)).toEqual([]);
    expect(used.length).toBeGreaterThan(0);
  });

  it("needs every statement: without any one of them a recorded call of a named flow step is denied", async () => {
    const used = records(fn);
    const docs = roleDocuments(fn);
    const proof: string[] = [];
    for (const [i, d] of docs.entries()) {
      for (const [j, st] of d.statements.entries()) {
        if (asList(st.Action).every((a) => LAMBDA_RUNTIME_ACTIONS.has(a))) continue;
        const without = policiesWithout(fn, { doc: i, st: j });
        let denied: (typeof used)[number] | undefined;
        for (const rec of used) {
          if ((await rejudge(without, rec)) !== "Allowed") {
            denied = rec;
            break;
          }
        }
        const label = st.Sid ?? `${d.name}#${j}`;
        expect(
          denied,
          `statement ${label} (${asList(st.Action).join(", ")}) is used by no flow`,
        ).toBeDefined();
        proof.push(
          `${label}: without it "${stepOf(denied?.index ?? 0)}" is denied ${denied?.action} on ${denied?.resource}`,
        );
      }
    }
    console.log(`\n${fn}: each statement is needed\n  ${proof.join("\n  ")}`);
  });

  it("grants no action that no flow used, except what Lambda itself calls", () => {
    const usedActions = new Set(records(fn).map((r) => r.action));
    const granted = roleDocuments(fn).flatMap((d) => d.statements.flatMap((s) => asList(s.Action)));
    const unused = [...new Set(granted)].filter(
      (a) => !usedActions.has(a) && !LAMBDA_RUNTIME_ACTIONS.has(a) && !(a in RECOVERY_ONLY),
    );
    expect(unused, `${fn} is granted actions no flow used: ${unused.join(", ")}`).toEqual([]);
  });
});

describe("negatives", () => {
  const probe = async (
    fn: FunctionName,
    action: string,
    resource: string,
    context: Record<string, string[]> = {},
  ) =>
    evaluateCheck(policiesWithout(fn), p.roles.functions[fn].sessionArn, { action, context }, resource, {
      accountId: p.localAws.accountId,
    });
  const account = () => p.localAws.accountId;
  const instance = () => `arn:aws:s3:us-east-1:${account()}:access-grants/default`;
  const IDENTITY_PROBES = () => [
    ["iam:CreateUser", `arn:aws:iam::${account()}:user/cytoskel/x`],
    ["iam:CreateAccessKey", `arn:aws:iam::${account()}:user/cytoskel/x`],
    ["iam:DeleteUser", `arn:aws:iam::${account()}:user/cytoskel/x`],
    ["s3:CreateAccessGrant", `${instance()}/grant/g`],
    ["s3:DeleteAccessGrant", `${instance()}/grant/g`],
    ["s3:ListAccessGrants", instance()],
  ];

  it.each(["bot", "secretLink"] as const)("the %s role holds no IAM or S3 Control right", async (fn) => {
    const granted = roleDocuments(fn).flatMap((d) => d.statements.flatMap((s) => asList(s.Action)));
    expect(granted.filter((a) => a.startsWith("iam:") || a.startsWith("s3:"))).toEqual([]);
    for (const [action, resource] of IDENTITY_PROBES()) {
      expect(await probe(fn, action as string, resource as string), `${fn} ${action}`).not.toBe("Allowed");
    }
  });

  it("the secret link reads and deletes only SECRET# items", async () => {
    const table = `arn:aws:dynamodb:us-east-1:${account()}:table/${p.dynamo.tableName}`;
    expect(
      await probe("secretLink", "dynamodb:GetItem", table, { "dynamodb:LeadingKeys": ["SECRET#abc"] }),
    ).toBe("Allowed");
    expect(
      await probe("secretLink", "dynamodb:DeleteItem", table, { "dynamodb:LeadingKeys": ["SECRET#abc"] }),
    ).toBe("Allowed");
    for (const action of ["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]) {
      expect(
        await probe("secretLink", action, table, { "dynamodb:LeadingKeys": ["REQ#abc"] }),
        action,
      ).not.toBe("Allowed");
    }
    expect(await probe("secretLink", "dynamodb:Query", `${table}/index/byRequester`)).not.toBe("Allowed");
  });

  it("the secret link cannot read, write or delete the scheduled job's failure records (SWEEP#)", async () => {
    const table = `arn:aws:dynamodb:us-east-1:${account()}:table/${p.dynamo.tableName}`;
    for (const action of [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DeleteItem",
      "dynamodb:UpdateItem",
    ]) {
      expect(
        await probe("secretLink", action, table, { "dynamodb:LeadingKeys": ["SWEEP#failures"] }),
        action,
      ).not.toBe("Allowed");
    }
  });

  it("the expiry job's sweep read its failure records as its own role (one Query on the table)", () => {
    const queries = records("expiry").filter(
      (r) => r.action === "dynamodb:Query" && r.resource.endsWith(`table/${p.dynamo.tableName}`),
    );
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((r) => r.allowed)).toBe(true);
  });

  it("contributors (the uploaders group) may only ask for data access: no grants, users or keys", async () => {
    // A contributor as the provisioner makes one: a user under the path, in the synthesized group.
    await p.aws.iam.send(new CreateUserCommand({ UserName: "contract-contributor", Path: "/cytoskel/" }));
    await p.aws.iam.send(
      new AddUserToGroupCommand({
        UserName: "contract-contributor",
        GroupName: getTarget("cpgstaging").uploadersGroup,
      }),
    );
    const contributor = p.localAws.state.iam.users.get("contract-contributor");
    if (!contributor) throw new Error("contributor not created");
    const policies = userPolicies(p.localAws.state, contributor);
    const judge = (action: string, resource: string) =>
      evaluateCheck(policies, contributor.arn, { action }, resource, { accountId: account() });
    expect(await judge("s3:GetDataAccess", instance())).toBe("Allowed");
    for (const [action, resource] of IDENTITY_PROBES()) {
      expect(await judge(action as string, resource as string), action).not.toBe("Allowed");
    }
  });
});
