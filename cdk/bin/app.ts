// CDK entry (cdk.json: "npx tsx cdk/bin/app.ts"). Settings come from CDK context only; see README.md, "Deploy to AWS".
import { App } from "aws-cdk-lib";
import { buildCytoskelApp } from "../lib/app.ts";
import { ConfigError, readDeployConfig } from "../lib/config.ts";

const app = new App();
try {
  buildCytoskelApp(
    app,
    readDeployConfig((key) => app.node.tryGetContext(key)),
  );
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
app.synth();
