// The one bundling config of the Lambda functions: CytoskelFunction hands it to NodejsFunction (which
// runs esbuild's CLI), and the bench and the bundle test run esbuild's API with the same options, so
// what is measured is what is deployed.
//
// Bolt's index and its App load every receiver it ships (Express, Socket Mode, its own HTTP server with
// raw-body) even though cytoskel brings its own (src/bot/receiver.ts), and its index re-exports
// @slack/oauth (with jsonwebtoken and semver) for OAuth installs, which cytoskel, holding one
// workspace's bot token, never does; those packages are ~1.4 MB of the bot's bundle and most of its
// import time. They are aliased to a stub that throws if used
// (cdk/lib/bundle-stub.cjs). Aliasing by package name, not by Bolt's file paths, keeps working across
// Bolt upgrades: a new Bolt that really needed one of them at run time would fail the bundle smoke test
// (the bundled bot answers a signed request, bench/bot.ts and test/cdk/stacks.test.ts), not silently.
// The other functions import Slack's client from @slack/web-api and never load Bolt at all.
//
// The SDK's default credential chain is aliased to its environment link alone
// (cdk/lib/lambda-credentials.mjs): on Lambda the execution role's credentials are always in the
// environment, and the other links (SSO, profiles, web identity, credential_process, IMDS, with the
// nested STS/SSO clients they carry) are ~90 KB every function would load and never use.
import { join } from "node:path";
import type { BuildOptions } from "esbuild";

const CDK_LIB = import.meta.dirname;

/** Packages no function runs; aliased to the stub in every bundle. */
export const STUBBED_PACKAGES = ["express", "@slack/socket-mode", "raw-body", "@slack/oauth"] as const;
export const BUNDLE_STUB = join(CDK_LIB, "bundle-stub.cjs");
/** The default credential chain, replaced by the one link that answers on Lambda. */
export const CREDENTIAL_CHAIN = "@aws-sdk/credential-provider-node";
export const LAMBDA_CREDENTIALS = join(CDK_LIB, "lambda-credentials.mjs");

/** Must not appear in a bundle (test/cdk/bundles.test.ts reads each bundle's metafile). */
export const FORBIDDEN_PACKAGES = {
  // What Bolt's receivers would pull in.
  all: [
    "express",
    "@slack/socket-mode",
    "undici",
    "ws",
    "body-parser",
    "raw-body",
    "iconv-lite",
    // OAuth installs (cytoskel runs with one workspace's bot token) and the JWT library they carry.
    "@slack/oauth",
    "jsonwebtoken",
    "semver",
  ],
  // Only the bot needs Bolt.
  notBot: ["@slack/bolt"],
  // The credential chain's links that never answer on Lambda.
  credentialChain: [
    CREDENTIAL_CHAIN,
    "@aws-sdk/nested-clients",
    "@aws-sdk/credential-provider-ini",
    "@aws-sdk/credential-provider-sso",
    "@aws-sdk/credential-provider-process",
    "@aws-sdk/credential-provider-web-identity",
    "@aws-sdk/credential-provider-login",
    "@aws-sdk/credential-provider-http",
    "@smithy/credential-provider-imds",
  ],
} as const;

/** The esbuild settings both paths share (NodejsFunction spells some of them its own way). */
export const BUNDLE_SETTINGS = {
  format: "esm",
  target: "node24",
  platform: "node",
  mainFields: ["module", "main"],
  minify: true,
  // Maps without embedded sources: readable stack traces, small enough to load on a cold start.
  sourcemap: true,
  sourcesContent: false,
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner:
    "import { createRequire as __cytoskelCreateRequire } from 'node:module'; const require = __cytoskelCreateRequire(import.meta.url);",
} as const;

/** The aliases as esbuild's API takes them. */
export function bundleAliases(): Record<string, string> {
  return {
    ...Object.fromEntries(STUBBED_PACKAGES.map((p) => [p, BUNDLE_STUB])),
    [CREDENTIAL_CHAIN]: LAMBDA_CREDENTIALS,
  };
}

/** esbuild API options for one function's entry, as NodejsFunction builds it (plus a metafile). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  const { banner, mainFields, ...rest } = BUNDLE_SETTINGS;
  return {
    ...rest,
    mainFields: [...mainFields],
    entryPoints: [entry],
    outfile,
    bundle: true,
    banner: { js: banner },
    alias: bundleAliases(),
    metafile: true,
    logLevel: "silent",
  };
}
