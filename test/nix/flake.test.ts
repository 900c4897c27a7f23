// flake.nix, checked offline with Debian's nix-bin (Nix 2.8): the file parses; its `outputs` function,
// evaluated by nix-instantiate against a stand-in for nixpkgs written below (a small flake whose
// packages are tagged derivations that build nothing and whose mkShell records what the shell asks
// for), asks for Node.js 22, a JRE >= 17, AWS CLI v2, jq, and Chromium on Linux, for each of the four
// systems; and `nix flake check --no-build` passes with the nixpkgs input overridden by that stand-in.
// What this cannot tell — that nixos-26.05 really has these attributes and builds them, i.e. the real
// `nix flake check` and `nix develop` — needs a machine that can fetch nixpkgs.
//
// Nothing here can download: nix-instantiate runs with restrict-eval (a URI or a path outside the
// repo and the temporary folder is refused; the last test shows it) and a dummy store (nothing is
// written under /nix); `nix flake check` gets the stand-in for its only input, an empty flake
// registry and a store in the temporary folder; none has substituters, and HOME, NIX_CONF_DIR and the
// XDG folders are in the temporary folder too.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO_ROOT = resolve(import.meta.dirname, "../..");

function installed(tool: string): boolean {
  const probe = spawnSync(tool, ["--version"], { stdio: "ignore" });
  return !probe.error && probe.status === 0;
}
const nixMissing =
  installed("nix-instantiate") && installed("nix")
    ? undefined
    : "nix-instantiate / nix are not installed (Debian nix-bin; .ci/run installs it)";
if (nixMissing) console.warn(`SKIPPING flake.nix checks: ${nixMissing}`);

// The systems the flake is meant to declare; the stand-in has these and no others.
const SYSTEMS = ["x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"];
const NIXPKGS_URL = "github:NixOS/nixpkgs/nixos-26.05";

// The stand-in for the nixpkgs input, a flake: legacyPackages.<system> for the four systems, holding
// only the attributes named here (names as in nixpkgs' release branches; not checked against nixos-26.05 itself, which needs a fetch), so a misspelt or
// missing attribute fails. Chromium is Linux-only in nixpkgs: on darwin it throws when used.
const STAND_IN_FLAKE = `{
  description = "a stand-in for nixpkgs, written by cytoskel's test/nix/flake.test.ts";
  outputs = _:
    let
      packagesFor = system:
        let
          isLinux = builtins.match ".*-linux" system != null;
          fake = name: derivation {
            inherit name system;
            builder = "/bin/sh";
            args = [ "-c" "echo stand-in > $out" ];
          };
          pkg = attr: tag: fake ("stand-in-" + attr) // { standInTag = { inherit attr; } // tag; };
          tags = map (p: p.standInTag);
        in {
          nodejs_22 = pkg "nodejs_22" { kind = "node"; major = 22; };
          nodejs_20 = pkg "nodejs_20" { kind = "node"; major = 20; };
          jdk17_headless = pkg "jdk17_headless" { kind = "java"; major = 17; };
          jdk17 = pkg "jdk17" { kind = "java"; major = 17; };
          jdk21_headless = pkg "jdk21_headless" { kind = "java"; major = 21; };
          jdk21 = pkg "jdk21" { kind = "java"; major = 21; };
          awscli2 = pkg "awscli2" { kind = "awscli"; major = 2; };
          jq = pkg "jq" { kind = "jq"; major = 1; };
          chromium =
            if isLinux then pkg "chromium" { kind = "chromium"; major = 131; }
            else throw ("stand-in: chromium is not available on " + system);
          stdenv.hostPlatform = { inherit system isLinux; isDarwin = !isLinux; };
          mkShell = args: fake "stand-in-shell" // {
            standInRecord = {
              packages = tags (args.packages or [ ]);
              buildInputs = tags (args.buildInputs or [ ]);
              nativeBuildInputs = tags (args.nativeBuildInputs or [ ]);
              shellHook = args.shellHook or "";
            };
          };
        };
    in {
      legacyPackages = builtins.listToAttrs (map (system: { name = system; value = packagesFor system; })
        [ ${SYSTEMS.map((s) => `"${s}"`).join(" ")} ]);
    };
}
`;

// flake.nix's outputs called as a flake would be (self is the outputs), nixpkgs the stand-in's outputs.
const EVALUATE = `
{ root, standIn }:
let
  nixpkgs = (import (/. + standIn + "/flake.nix")).outputs { };
  flake = import (/. + root + "/flake.nix");
  self = flake.outputs { inherit self nixpkgs; };
in
{
  inherit (flake) description;
  inputs = builtins.mapAttrs (_: i: { inherit (i) url; }) flake.inputs;
  outputArgs = builtins.attrNames (builtins.functionArgs flake.outputs);
  outputNames = builtins.attrNames self;
  devShells = builtins.mapAttrs (_: builtins.mapAttrs (_: shell: shell.standInRecord)) self.devShells;
}
`;

interface Tag {
  attr: string;
  kind: string;
  major: number;
}
interface Shell {
  packages: Tag[];
  buildInputs: Tag[];
  nativeBuildInputs: Tag[];
  shellHook: string;
}
interface Evaluated {
  description: string;
  inputs: Record<string, { url: string }>;
  outputArgs: string[];
  outputNames: string[];
  devShells: Record<string, Record<string, Shell>>;
}

let home = "";
const standInDir = () => join(home, "stand-in");

function nixEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CACHE_HOME: join(home, "cache"),
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    XDG_STATE_HOME: join(home, "state"),
    NIX_CONF_DIR: home,
    NIX_PATH: "",
  };
}

function nixInstantiate(args: string[]) {
  return spawnSync(
    "nix-instantiate",
    [
      "--store",
      "dummy://",
      "--readonly-mode",
      "--option",
      "restrict-eval",
      "true",
      "--option",
      "substituters",
      "",
      "--option",
      "build-users-group",
      "",
      "-I",
      REPO_ROOT,
      "-I",
      standInDir(),
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 20_000,
      env: nixEnv(),
    },
  );
}

describe.skipIf(nixMissing !== undefined)("flake.nix (Nix 2.8 offline, stand-in nixpkgs)", () => {
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), "cytoskel-nix-"));
    mkdirSync(standInDir());
    writeFileSync(join(standInDir(), "flake.nix"), STAND_IN_FLAKE);
  });
  afterAll(() => {
    // Nix makes what it puts in a store read-only, which stops a user other than root deleting it.
    spawnSync("chmod", ["-R", "u+w", home], { stdio: "ignore" });
    rmSync(home, { recursive: true, force: true });
  });

  let evaluated: Evaluated | undefined;
  function evaluate(): Evaluated {
    if (!evaluated) {
      const run = nixInstantiate([
        "--eval",
        "--strict",
        "--json",
        "--argstr",
        "root",
        REPO_ROOT,
        "--argstr",
        "standIn",
        standInDir(),
        "-E",
        EVALUATE,
      ]);
      expect(run.stderr, "nix-instantiate --eval").toBe("");
      expect(run.status).toBe(0);
      evaluated = JSON.parse(run.stdout) as Evaluated;
    }
    return evaluated;
  }

  it("parses", () => {
    const run = nixInstantiate(["--parse", "flake.nix"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("outputs");
  });

  it("takes nixpkgs (nixos-26.05, the release the stand-in's attribute names are from) and nothing else", () => {
    const flake = evaluate();
    expect(flake.inputs).toEqual({ nixpkgs: { url: NIXPKGS_URL } });
    expect(flake.outputArgs.sort()).toEqual(["nixpkgs", "self"]);
    expect(flake.outputNames).toEqual(["devShells"]);
    expect(flake.description).toMatch(/cytoskel/);
  });

  it("declares a default dev shell for each of the four systems", () => {
    const flake = evaluate();
    expect(Object.keys(flake.devShells).sort()).toEqual([...SYSTEMS].sort());
    for (const system of SYSTEMS) {
      expect(Object.keys(flake.devShells[system] ?? {}), system).toEqual(["default"]);
      expect(flake.devShells[system]?.default?.packages, system).toBeInstanceOf(Array);
    }
  });

  for (const system of SYSTEMS) {
    const linux = system.endsWith("-linux");
    it(`${system}: the shell asks for Node.js 22, a JRE >= 17, AWS CLI v2, jq${linux ? " and Chromium" : " (no Chromium)"}`, () => {
      const shell = evaluate().devShells[system]?.default;
      if (!shell) throw new Error(`no devShells.${system}.default`);
      const asked = [...shell.packages, ...shell.buildInputs, ...shell.nativeBuildInputs];
      const of = (kind: string) => asked.filter((p) => p.kind === kind);
      expect(of("node").map((p) => p.attr)).toEqual(["nodejs_22"]);
      expect(of("java")).toHaveLength(1);
      expect(of("java")[0]?.major).toBeGreaterThanOrEqual(17);
      expect(of("awscli").map((p) => p.attr)).toEqual(["awscli2"]);
      expect(of("jq").map((p) => p.attr)).toEqual(["jq"]);
      expect(of("chromium").map((p) => p.attr)).toEqual(linux ? ["chromium"] : []);

      expect(shell.shellHook).toContain("export CDK_DISABLE_CLI_TELEMETRY=true");
      // The browser test finds the shell's Chromium through CHROMIUM_PATH (it defaults to /usr/bin).
      const chromiumPath = /export CHROMIUM_PATH=(\S+)/.exec(shell.shellHook)?.[1];
      if (linux)
        expect(chromiumPath).toMatch(/^\/nix\/store\/[0-9a-z]{32}-stand-in-chromium\/bin\/chromium$/);
      else expect(chromiumPath).toBeUndefined();
    });
  }

  it("`nix flake check --no-build` passes with nixpkgs overridden by the stand-in", () => {
    // A path: flake of flake.nix alone (a git+file one would copy the repo, node_modules and all).
    const flakeDir = join(home, "flake");
    mkdirSync(flakeDir, { recursive: true });
    copyFileSync(join(REPO_ROOT, "flake.nix"), join(flakeDir, "flake.nix"));
    const registry = join(home, "registry.json");
    writeFileSync(registry, JSON.stringify({ flakes: [], version: 2 }));
    const run = spawnSync(
      "nix",
      [
        "--store",
        join(home, "store"),
        "--option",
        "experimental-features",
        "nix-command flakes",
        "--option",
        "flake-registry",
        registry,
        "--option",
        "substituters",
        "",
        "--option",
        "build-users-group",
        "",
        "flake",
        "check",
        "--no-build",
        "--no-write-lock-file",
        "--override-input",
        "nixpkgs",
        `path:${standInDir()}`,
        `path:${flakeDir}`,
      ],
      { cwd: home, encoding: "utf8", timeout: 30_000, env: nixEnv() },
    );
    expect(run.stderr).not.toMatch(/error|unknown flake output/);
    expect(run.status, run.stderr).toBe(0);
  });

  it("cannot download: a fetch is refused at once in this evaluation mode", () => {
    const started = Date.now();
    const run = nixInstantiate(["--eval", "-E", 'builtins.fetchTarball "https://nixos.invalid/x.tar.gz"']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/forbidden in restricted mode/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
