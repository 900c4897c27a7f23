// `npm run local-aws`: start the local AWS stand-in on its own and print the environment to use it.
// Options: --port N (default: a free port), --account 123456789012, --empty (no Access Grants seed).
import { seedAccessGrantsLocation, startLocalAws } from "./local-aws/index.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg("--port") ?? 0);
const local = await startLocalAws({ port, ...(arg("--account") ? { accountId: arg("--account") } : {}) });
const seeded = process.argv.includes("--empty") ? undefined : seedAccessGrantsLocation(local);

console.log(
  `Local AWS stand-in (IAM, STS, S3 Control Access Grants, Secrets Manager) listening on ${local.url}`,
);
console.log(`Account ${local.accountId}; the credentials below are dummies for the stand-in only.`);
if (seeded)
  console.log(
    `Seeded Access Grants instance ${seeded.instanceArn} with location ${seeded.scope} (ID: ${seeded.locationId})`,
  );
console.log("\nIn another shell:\n");
for (const [k, v] of Object.entries(local.env)) console.log(`export ${k}=${v}`);
console.log(
  `\nThe AWS CLI puts the account ID in front of a custom S3 Control host; for its s3control commands\nalso set HTTP_PROXY=${local.url} (the stand-in answers proxied requests too).`,
);
console.log("\nPress Ctrl-C to stop.");

const stop = () => {
  void local.stop().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
