// Test-only CDK app: the real app, except that Lambda entries named in CYTOSKEL_STUB_ENTRIES (JSON of
// { bot?, provisioner?, secretLink?, expiry? } -> path) replace entry files that do not exist yet, so the
// stacks' wiring is tested before every function is written. Never used by `cdk deploy`.
import { App } from "aws-cdk-lib";
import { buildCytoskelApp, DEFAULT_ENTRIES } from "../../cdk/lib/app.ts";
import type { FunctionEntries } from "../../cdk/lib/bot-functions.ts";
import { readDeployConfig } from "../../cdk/lib/config.ts";

const app = new App();
const stubs = JSON.parse(process.env.CYTOSKEL_STUB_ENTRIES ?? "{}") as Partial<FunctionEntries>;
buildCytoskelApp(
  app,
  readDeployConfig((key) => app.node.tryGetContext(key)),
  {
    entries: { ...DEFAULT_ENTRIES, ...stubs },
  },
);
app.synth();
