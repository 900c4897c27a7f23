// IAM backends the IAM adapter suite runs against: our stand-in always, moto when installed.

import { type LocalAws, startLocalAws } from "../../dev/local-aws/index.ts";
import {
  findMotoPython,
  findMotoServer,
  MOTO_MISSING_REASON,
  MOTO_PYTHON_MISSING_REASON,
  startMoto,
} from "../../dev/moto.ts";
import { type AwsClients, createAwsClients, destroyAwsClients } from "../../src/aws/clients.ts";

export interface Backend {
  clients: AwsClients;
  /** Present only for the stand-in: its inspectable state. */
  local?: LocalAws;
  accountId: string;
  stop(): Promise<void>;
}

export interface BackendSpec {
  name: "stand-in" | "moto";
  /** Why this backend is skipped, or undefined when it runs. */
  skipReason: string | undefined;
  /**
   * Why IAM policies naming S3 Access Grants ARNs (arn:aws:s3:<region>:<account>:access-grants/…, which
   * IAM accepts) cannot be put here, or undefined when they can (moto: through dev/moto-server.py).
   */
  accessGrantsArnsSkipReason: string | undefined;
  start(): Promise<Backend>;
}

export const standIn: BackendSpec = {
  name: "stand-in",
  skipReason: undefined,
  accessGrantsArnsSkipReason: undefined,
  async start() {
    const local = await startLocalAws();
    const clients = createAwsClients({ env: local.env, maxAttempts: 1 });
    return {
      clients,
      local,
      accountId: local.accountId,
      async stop() {
        destroyAwsClients(clients);
        await local.stop();
      },
    };
  },
};

const motoInstalled = findMotoServer() !== undefined;

export const moto: BackendSpec = {
  name: "moto",
  skipReason: motoInstalled ? undefined : MOTO_MISSING_REASON,
  accessGrantsArnsSkipReason: !motoInstalled
    ? MOTO_MISSING_REASON
    : findMotoPython()
      ? undefined
      : MOTO_PYTHON_MISSING_REASON,
  async start() {
    const server = await startMoto();
    if (!server) throw new Error(MOTO_MISSING_REASON);
    const clients = createAwsClients({
      env: {
        AWS_ENDPOINT_URL_IAM: server.url,
        AWS_ENDPOINT_URL_STS: server.url,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
      },
      maxAttempts: 1,
    });
    return {
      clients,
      accountId: "123456789012",
      async stop() {
        destroyAwsClients(clients);
        await server.stop();
      },
    };
  },
};

/** Unique names so tests sharing one server never collide. */
let counter = 0;
export function uniqueName(base: string): string {
  counter += 1;
  return `${base}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}
