// The one logger (Powertools for AWS Lambda's): JSON lines; an Error under any key carries its name,
// message, stack and cause; the Lambda request id is on each line once an entry hands over its context.
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonLogger, logLambdaContext } from "../../src/log.ts";

function captured(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }),
  );
  return {
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim().startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      for (const s of spies) s.mockRestore();
    },
  };
}

describe("jsonLogger", () => {
  let out: ReturnType<typeof captured> | undefined;
  afterEach(() => out?.restore());

  it("logs an error with its name, message, stack and cause, not just its name", () => {
    out = captured();
    const cause = Object.assign(new Error("User: arn:… is not authorized"), { name: "AccessDenied" });
    jsonLogger.error("provisioner.failed", {
      requestId: "r1",
      error: new Error("provision failed", { cause }),
    });
    const [line] = out.lines();
    expect(line).toMatchObject({ level: "ERROR", message: "provisioner.failed", requestId: "r1" });
    expect(line?.error).toMatchObject({
      name: "Error",
      message: "provision failed",
      stack: expect.stringContaining("provision failed"),
      cause: { name: "AccessDenied", message: "User: arn:… is not authorized" },
    });
  });

  it("puts the Lambda request id on each line once the entry hands over its context", () => {
    out = captured();
    logLambdaContext({
      awsRequestId: "lambda-request-7",
      functionName: "CytoskelBot-Provisioner",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:CytoskelBot-Provisioner",
      memoryLimitInMB: "512",
      getRemainingTimeInMillis: () => 1000,
    });
    jsonLogger.info("provision.activated", { requestId: "r2" });
    expect(out.lines()[0]).toMatchObject({ function_request_id: "lambda-request-7", requestId: "r2" });
  });
});
