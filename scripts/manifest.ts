// `npm run manifest -- [REQUEST_URL] [--outputs cdk-outputs.json] [--out manifest.json] [--usergroups]`
// Writes the Slack app manifest for the deployed bot. The request URL is the CytoskelBot stack's
// SlackRequestUrl output: given as an argument, or read from the file `cdk deploy --outputs-file` wrote.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildSlackManifest, ManifestInputError, requestUrlFromOutputs } from "../cdk/lib/manifest.ts";
import { BOT_STACK_NAME } from "../cdk/lib/names.ts";

const USAGE =
  "usage: npm run manifest -- [REQUEST_URL] [--outputs FILE] [--out FILE] [--usergroups] [--name NAME]";

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      outputs: { type: "string", default: "cdk-outputs.json" },
      out: { type: "string", default: "manifest.json" },
      usergroups: { type: "boolean" },
      name: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 1) throw new ManifestInputError(`expected at most one REQUEST_URL\n${USAGE}`);

  let requestUrl = positionals[0];
  if (requestUrl === undefined) {
    const file = resolve(values.outputs);
    if (!existsSync(file)) {
      throw new ManifestInputError(
        `no REQUEST_URL given and no ${values.outputs}; deploy with \`npx cdk deploy --all --outputs-file cdk-outputs.json\` or pass the SlackRequestUrl output\n${USAGE}`,
      );
    }
    requestUrl = requestUrlFromOutputs(JSON.parse(readFileSync(file, "utf8")), BOT_STACK_NAME);
  }

  const manifest = buildSlackManifest({
    requestUrl,
    adminUserGroup: values.usergroups ?? adminUserGroupConfigured(),
    ...(values.name ? { appName: values.name } : {}),
  });
  writeFileSync(values.out, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`Wrote ${values.out} for ${requestUrl}`);
  console.log('Paste it at https://api.slack.com/apps -> "Create New App" -> "From a manifest".');
}

/** usergroups:read is only asked for when cdk.json names an admin user group. */
function adminUserGroupConfigured(): boolean {
  if (!existsSync("cdk.json")) return false;
  const context = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context?: Record<string, unknown> })
    .context;
  return typeof context?.adminUserGroupId === "string" && context.adminUserGroupId.trim() !== "";
}

try {
  main(process.argv.slice(2));
} catch (err) {
  if (err instanceof ManifestInputError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`manifest: ${(err as Error).message}`);
    process.exit(2);
  }
  throw err;
}
