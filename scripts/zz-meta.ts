import { build } from "esbuild";
import { esbuildOptions } from "../cdk/lib/bundling.ts";
const entries: Record<string,string> = { prov: "src/provisioner/lambda.ts", secret: "src/secret-link/lambda.ts", expiry: "src/expiry/lambda.ts", bot: "src/bot/lambda.ts" };
for (const [name, entry] of Object.entries(entries)) {
  const r = await build(esbuildOptions(entry, `/tmp/zz-${name}.mjs`));
  const out = Object.values(r.metafile!.outputs).find(o => o.entryPoint)!;
  const byPkg: Record<string, number> = {};
  for (const [file, info] of Object.entries(out.inputs)) {
    const m = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const k = m ? m[1] : file.split("/").slice(0,2).join("/");
    byPkg[k] = (byPkg[k] ?? 0) + info.bytesInOutput;
  }
  console.log(name, out.bytes, Object.entries(byPkg).sort((a,b)=>b[1]-a[1]).slice(0,25).map(([k,v])=>`${k}:${(v/1024).toFixed(0)}`).join(" "));
}
