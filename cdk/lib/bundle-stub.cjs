// Stands in for a package Bolt loads for receivers no cytoskel function uses (Socket Mode, Express and
// its body parsing, OAuth installs); cdk/lib/bundling.ts aliases them here so they stay out of the Lambda bundles.
// Loading it is harmless; any use throws, naming why.
"use strict";
const fail = () => {
  throw new Error("cytoskel: this package is left out of the Lambda bundle (cdk/lib/bundling.ts)");
};
const stub = new Proxy(fail, {
  get: (_target, key) => (key === "__esModule" ? false : key === "default" ? stub : stub),
  apply: fail,
  construct: fail,
});
module.exports = stub;
