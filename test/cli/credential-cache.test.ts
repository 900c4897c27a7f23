// `cytoskel credentials --format credential-process` and its cache (src/cli/credential-cache.ts): in
// process through runCli against the local AWS stand-in, which counts every request, with a temporary
// XDG_CACHE_HOME and a clock the test sets. The pure parts (key, freshness, entry, identity) first.

import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalAws } from "../../dev/local-aws/index.ts";
import {
  type CacheKey,
  cacheDirFromEnv,
  callerIdentity,
  entryFileName,
  formatEntry,
  isFresh,
  parseEntry,
  REFRESH_BEFORE_EXPIRY_MS,
} from "../../src/cli/credential-cache.ts";
import { type CliAccount, type CliRun, type Keys, runInProcess, startCliAccount } from "./helpers.ts";

const ACCOUNT = "123456789012";
const SCOPE = "s3://staging-cellpainting-gallery/";

const KEY: CacheKey = {
  identity: "key:AKIAEXAMPLE",
  accountId: "",
  region: "us-east-1",
  endpoint: "",
  targetName: "cpgstaging",
  s3Target: `${SCOPE}cpg0042/*`,
  permission: "READWRITE",
  durationSeconds: 3600,
};
const CREDS = {
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "temporary-secret",
  sessionToken: "token",
  expiration: "2030-01-01T12:00:00.000Z",
  matchedGrantTarget: `${SCOPE}cpg0042/*`,
};

describe("cache key, freshness and entries (pure)", () => {
  it("every part of the key gives its own file", () => {
    const names = new Set([entryFileName(KEY)]);
    for (const [field, value] of Object.entries({
      identity: "key:AKIAOTHER",
      accountId: ACCOUNT,
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:1",
      targetName: "other",
      s3Target: `${SCOPE}cpg0042/sub/*`,
      permission: "READ",
      durationSeconds: 43_200,
    })) {
      names.add(entryFileName({ ...KEY, [field]: value }));
    }
    expect(names.size).toBe(9);
    expect(entryFileName(KEY)).toMatch(/^[0-9a-f]{40}\.json$/);
    // Nothing of the key shows in the name.
    expect(entryFileName(KEY)).not.toContain("cpg0042");
  });

  it("is fresh until 15 minutes before expiry, and never when it outlives the duration asked", () => {
    const expires = Date.parse(CREDS.expiration);
    expect(isFresh(CREDS.expiration, expires - REFRESH_BEFORE_EXPIRY_MS - 1, 3600)).toBe(true);
    expect(isFresh(CREDS.expiration, expires - REFRESH_BEFORE_EXPIRY_MS, 3600)).toBe(false);
    expect(isFresh(CREDS.expiration, expires + 1, 3600)).toBe(false);
    // A 12 h entry is not handed to a 1 h request.
    expect(isFresh(CREDS.expiration, expires - 12 * 3600_000, 3600)).toBe(false);
    expect(isFresh(CREDS.expiration, expires - 12 * 3600_000, 43_200)).toBe(true);
    expect(isFresh("not a date", 0, 43_200)).toBe(false);
  });

  it("an entry is read back for its own key only; anything malformed is no entry", () => {
    const text = formatEntry(KEY, CREDS);
    expect(parseEntry(text, KEY)).toEqual(CREDS);
    expect(parseEntry(text, { ...KEY, s3Target: `${SCOPE}cpg0043/*` })).toBeUndefined();
    for (const bad of ["", "{", "null", "[]", JSON.stringify({ ...JSON.parse(text), version: 2 })]) {
      expect(parseEntry(bad, KEY), bad).toBeUndefined();
    }
    expect(parseEntry(JSON.stringify({ ...JSON.parse(text), sessionToken: 7 }), KEY)).toBeUndefined();
    expect(parseEntry(JSON.stringify({ ...JSON.parse(text), expiration: "soon" }), KEY)).toBeUndefined();
  });

  it("lives in $XDG_CACHE_HOME/cytoskel (absolute only), else ~/.cache/cytoskel", () => {
    expect(cacheDirFromEnv({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/a" })).toBe("/x/cache/cytoskel");
    expect(cacheDirFromEnv({ XDG_CACHE_HOME: "relative", HOME: "/home/a" })).toBe("/home/a/.cache/cytoskel");
    expect(cacheDirFromEnv({}, () => "/home/b")).toBe("/home/b/.cache/cytoskel");
  });

  it("identity: the environment's key ID, else the profile with the key ID it holds (a profile wins, as in the SDK)", () => {
    const home = mkdtempSync(join(tmpdir(), "cytoskel-identity-"));
    mkdirSync(join(home, ".aws"));
    writeFileSync(
      join(home, ".aws/credentials"),
      "[cpg_staging]\naws_access_key_id = AKIAPROFILEKEY\naws_secret_access_key = never-read\n",
    );
    writeFileSync(
      join(home, ".aws/config"),
      "[profile sso]\nsso_session = x\n[default]\naws_access_key_id=AKIADEF\n",
    );
    const env = { HOME: home, AWS_ACCESS_KEY_ID: "AKIAENVKEY" };
    expect(callerIdentity(env, undefined)).toBe("key:AKIAENVKEY");
    expect(callerIdentity({ ...env, AWS_PROFILE: "cpg_staging" }, undefined)).toBe(
      "profile:cpg_staging/key:AKIAPROFILEKEY",
    );
    expect(callerIdentity(env, "cpg_staging")).toBe("profile:cpg_staging/key:AKIAPROFILEKEY");
    expect(callerIdentity(env, "sso")).toBe("profile:sso/key:");
    expect(callerIdentity({ HOME: home }, undefined)).toBe("profile:default/key:AKIADEF");
    // Re-keying a profile changes its identity.
    writeFileSync(join(home, ".aws/credentials"), "[cpg_staging]\naws_access_key_id = AKIANEWKEY\n");
    expect(callerIdentity(env, "cpg_staging")).toBe("profile:cpg_staging/key:AKIANEWKEY");
    expect(callerIdentity(env, "cpg_staging")).not.toContain("never-read");
  });
});

describe("credentials --format credential-process with the cache", () => {
  let account: CliAccount;
  let local: LocalAws;
  let alice: Keys;
  let bob: Keys;
  let aliceGrantId = "";

  const newUser = async (name: string, prefix: string): Promise<{ keys: Keys; grantId: string }> => {
    const created = await runInProcess(["--json", "cpgstaging", "create", "user", name], account);
    expect(created.code).toBe(0);
    const doc = JSON.parse(created.stdout);
    const granted = await runInProcess(
      ["--json", "cpgstaging", "create", "grant", doc.user.arn, account.locationId, prefix],
      account,
    );
    expect(granted.code).toBe(0);
    return {
      keys: { accessKeyId: doc.accessKeyId, secretAccessKey: doc.secretAccessKey },
      grantId: JSON.parse(granted.stdout).grant.id,
    };
  };

  beforeAll(async () => {
    account = await startCliAccount();
    local = account.local;
    const a = await newUser("alice", "cpg0042/*");
    alice = a.keys;
    aliceGrantId = a.grantId;
    bob = (await newUser("bob", "cpg0042/*")).keys;
  });

  afterAll(async () => {
    await account?.stop();
  });

  /** A fresh cache home per test, and a clock the test moves. */
  function setup() {
    const cacheHome = mkdtempSync(join(tmpdir(), "cytoskel-cache-test-"));
    const dir = join(cacheHome, "cytoskel");
    let now = Date.now();
    const run = async (
      extra: string[] = [],
      opts: { as?: Keys; prefix?: string } = {},
    ): Promise<CliRun & { requests: string[]; doc?: Record<string, unknown> }> => {
      const from = local.state.requests.length;
      const result = await runInProcess(
        ["credentials", "--prefix", opts.prefix ?? "cpg0042/", "--format", "credential-process", ...extra],
        account,
        { credentials: opts.as ?? alice, env: { XDG_CACHE_HOME: cacheHome }, now: () => now },
      );
      const secrets = [alice.secretAccessKey, bob.secretAccessKey];
      for (const secret of secrets) expect(result.stderr).not.toContain(secret);
      const requests = local.state.requests.slice(from).map((r) => r.operation);
      return { ...result, requests, ...(result.code === 0 ? { doc: JSON.parse(result.stdout) } : {}) };
    };
    const files = (): string[] => {
      try {
        return readdirSync(dir).sort();
      } catch {
        return [];
      }
    };
    return {
      dir,
      run,
      files,
      setNow: (ms: number) => {
        now = ms;
      },
    };
  }

  it("a second call while the entry is fresh sends no request at all (not even STS) and prints the same credentials", async () => {
    const { run, files } = setup();
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.requests).toEqual(["GetCallerIdentity", "GetDataAccess"]);
    expect(files()).toHaveLength(1);
    const second = await run();
    expect(second).toMatchObject({ code: 0, stdout: first.stdout, stderr: "", requests: [] });
  });

  it("asks for 1 h by default as a credential_process (12 h for a shell), and --duration still allows 12 h", async () => {
    const { run, files } = setup();
    expect((await run()).code).toBe(0);
    expect(local.state.dataAccessCalls.at(-1)?.durationSeconds).toBe(3600);
    // A 1 h entry does not serve a 12 h request, nor the reverse: each has its own entry.
    const long = await run(["--duration", "12h"]);
    expect(long.requests).toEqual(["GetCallerIdentity", "GetDataAccess"]);
    expect(local.state.dataAccessCalls.at(-1)?.durationSeconds).toBe(43_200);
    expect((await run(["--duration", "12h"])).requests).toEqual([]);
    expect((await run()).requests).toEqual([]);
    expect(files()).toHaveLength(2);

    const env = await runInProcess(["credentials", "--prefix", "cpg0042/"], account, { credentials: alice });
    expect(env.code).toBe(0);
    expect(local.state.dataAccessCalls.at(-1)?.durationSeconds).toBe(43_200);
  });

  it("within 15 minutes of expiry it asks AWS again and replaces the entry", async () => {
    const { run, setNow, files } = setup();
    const first = await run();
    const expires = Date.parse(String(first.doc?.Expiration));
    setNow(expires - REFRESH_BEFORE_EXPIRY_MS - 1000);
    expect((await run()).requests).toEqual([]);
    setNow(expires - REFRESH_BEFORE_EXPIRY_MS + 1000);
    const renewed = await run();
    expect(renewed.requests).toEqual(["GetCallerIdentity", "GetDataAccess"]);
    expect(renewed.doc?.AccessKeyId).not.toBe(first.doc?.AccessKeyId);
    expect(files()).toHaveLength(1);
  });

  it("another prefix, permission, account or person's keys gets its own entry, never another's credentials", async () => {
    const { run, files } = setup();
    const base = await run();
    const variants = [
      await run([], { prefix: "cpg0042/sub/" }),
      await run(["--permission", "READ"]),
      await run(["--account-id", ACCOUNT]),
      await run([], { as: bob }),
    ];
    for (const v of variants) {
      expect(v.code).toBe(0);
      expect(v.requests).toContain("GetDataAccess");
      expect(v.doc?.AccessKeyId).not.toBe(base.doc?.AccessKeyId);
    }
    // Given the account, no GetCallerIdentity is needed.
    expect(variants[2]?.requests).toEqual(["GetDataAccess"]);
    expect(files()).toHaveLength(5);
    // Bob's entry holds a session of bob's, alice's of alice's.
    expect(local.state.dataAccessCalls.at(-1)?.callerArn).toBe(`arn:aws:iam::${ACCOUNT}:user/cytoskel/bob`);
    expect((await run([], { as: bob })).doc?.AccessKeyId).toBe(variants[3]?.doc?.AccessKeyId);
    expect((await run()).doc?.AccessKeyId).toBe(base.doc?.AccessKeyId);
  });

  it("--no-cache always asks AWS and neither reads nor writes the cache", async () => {
    const { run, files } = setup();
    for (let i = 0; i < 2; i++) {
      const r = await run(["--no-cache"]);
      expect(r).toMatchObject({ code: 0, stderr: "", requests: ["GetCallerIdentity", "GetDataAccess"] });
    }
    expect(files()).toEqual([]);
    const cached = await run();
    expect((await run(["--no-cache"])).doc?.AccessKeyId).not.toBe(cached.doc?.AccessKeyId);
  });

  it("entries are 0600 files in a 0700 directory, and hold the temporary credentials only", async () => {
    const { run, dir, files } = setup();
    const r = await run();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [file] = files();
    expect(file).toMatch(/^[0-9a-f]{40}\.json$/);
    const path = join(dir, file as string);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(alice.secretAccessKey);
    expect(text).toContain(String(r.doc?.SecretAccessKey));
    // No temp file left behind.
    expect(files()).toHaveLength(1);
  });

  it("a cache directory with wider permissions is tightened to 0700; one that is a symlink is not used", async () => {
    const wide = setup();
    mkdirSync(wide.dir, { recursive: true });
    chmodSync(wide.dir, 0o777);
    expect((await wide.run()).code).toBe(0);
    expect(statSync(wide.dir).mode & 0o777).toBe(0o700);

    const linked = setup();
    const elsewhere = mkdtempSync(join(tmpdir(), "cytoskel-elsewhere-"));
    symlinkSync(elsewhere, linked.dir);
    const r = await linked.run();
    expect(r.code).toBe(0);
    expect(r.doc?.AccessKeyId).toMatch(/^ASIA/);
    expect(r.stderr).toBe(`Warning: credential cache not used: ${linked.dir} is not a directory\n`);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it("a corrupt or loosened entry is ignored and replaced", async () => {
    const { run, dir, files } = setup();
    await run();
    const path = join(dir, files()[0] as string);
    writeFileSync(path, "{ not json");
    const replaced = await run();
    expect(replaced).toMatchObject({ code: 0, stderr: "", requests: ["GetCallerIdentity", "GetDataAccess"] });
    expect(JSON.parse(readFileSync(path, "utf8")).accessKeyId).toBe(replaced.doc?.AccessKeyId);
    expect((await run()).requests).toEqual([]);
    chmodSync(path, 0o644);
    expect((await run()).requests).toEqual(["GetCallerIdentity", "GetDataAccess"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("a refused refresh (the grant was deleted) removes the entry and fails as without the cache", async () => {
    const { run, setNow, files } = setup();
    const first = await run();
    expect(files()).toHaveLength(1);
    const deleted = await runInProcess(["cpgstaging", "delete", "grant", aliceGrantId], account);
    expect(deleted.code).toBe(0);
    // While fresh, the entry still answers: issued credentials cannot be recalled (the 1 h default bounds it).
    expect((await run()).requests).toEqual([]);
    setNow(Date.parse(String(first.doc?.Expiration)) - REFRESH_BEFORE_EXPIRY_MS + 1000);
    const refused = await run();
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(
      `Error: no access grant gives you READWRITE on ${SCOPE}cpg0042/*: ask an admin for one, or check ` +
        "--prefix and --permission (a READ or WRITE grant does not give READWRITE)\n",
    );
    expect(refused.stderr).not.toContain(String(first.doc?.SecretAccessKey));
    expect(files()).toEqual([]);
  });
});
