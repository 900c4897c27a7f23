# An optional Nix environment for cytoskel: `nix develop`, then the README's two commands
# (`npm ci && npm run dev`, `npm test`). See "With Nix" in README.md.
#
# No flake.lock is committed: one records the exact nixpkgs revision and its narHash, which only
# fetching nixpkgs can tell, and this file was written and checked offline. The first `nix develop`
# pins the newest nixos-26.05 and writes flake.lock; commit it to share that pin. (26.05: the newest
# release branch known to exist when this was written, Dec 2026; 24.11 and 25.11 were end-of-life.
# That it still carries nodejs_22 and jdk17_headless is expected — both are maintained LTS lines —
# but was not checked against nixpkgs.)
#
# No packages.default either: building the CLI with buildNpmPackage needs an npmDepsHash, which
# only Nix fetching every npm dependency can compute, and an unchecked hash is a broken build.
#
# test/nix/flake.test.ts evaluates `outputs`, and runs `nix flake check --no-build`, offline against
# a stand-in for nixpkgs that has only the package attributes used here, stdenv.hostPlatform and
# mkShell (so this file keeps to plain builtins, not nixpkgs.lib); keep the two in step. The check
# copies flake.nix alone, so this file must not read other files of the repository.
{
  description = "cytoskel dev shell: Node.js 22, a JRE 17 (DynamoDB Local), AWS CLI v2, jq, Chromium on Linux";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f nixpkgs.legacyPackages.${system};
          }) systems
        );
    in
    {
      devShells = forAllSystems (
        pkgs:
        let
          # nixpkgs builds Chromium for Linux only; on macOS the browser test skips with its message.
          linux = pkgs.stdenv.hostPlatform.isLinux;
        in
        {
          default = pkgs.mkShell {
            packages = [
              pkgs.nodejs_22 # npm ci, npm run dev, npm test (package.json: node >= 20)
              pkgs.jdk17_headless # java for DynamoDB Local (17+), used by the playground and most tests
              pkgs.awscli2 # the contributor script and its test (needs 2.15+ for Access Grants)
              pkgs.jq # the contributor script
            ]
            ++ (if linux then [ pkgs.chromium ] else [ ]);

            shellHook = ''
              # Nothing a test starts may phone home (as in .ci/run).
              export CDK_DISABLE_CLI_TELEMETRY=true
            ''
            + (
              if linux then
                ''
                  # The browser test looks for /usr/bin/chromium unless told otherwise.
                  export CHROMIUM_PATH=${pkgs.chromium}/bin/chromium
                ''
              else
                ""
            );
          };
        }
      );
    };
}
