// Whether the machine's AWS CLI can be pointed at the local stand-in, and the environment that
// keeps it there. Old CLIs (e.g. Debian 12's 2.9) ignore AWS_ENDPOINT_URL_* and lack the Access Grants
// commands: they would call the real AWS endpoints, so tests skip them.
import { execFileSync } from "node:child_process";

/** True for AWS CLI v1 ≥ 1.31 or v2 ≥ 2.15 (service endpoint variables and Access Grants). */
export function cliIsRecentEnough(versionLine: string): boolean {
  const m = /aws-cli\/(\d+)\.(\d+)\./.exec(versionLine);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major === 1 ? minor >= 31 : major === 2 ? minor >= 15 : major > 2;
}

/** Why the AWS CLI can't be used here, or undefined when it can. */
export function awsCliUnusableReason(): string | undefined {
  let version: string;
  try {
    version = execFileSync("aws", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return "`aws` is not on PATH";
  }
  return cliIsRecentEnough(version) ? undefined : `${version.trim()} predates Access Grants`;
}

/** Proxy settings that send every AWS CLI request, http or https, to `proxyUrl` on this machine. */
export function proxyEnvTo(proxyUrl: string): Record<string, string> {
  return {
    HTTP_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY: "",
    no_proxy: "",
  };
}
