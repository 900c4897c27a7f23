// The one client factory: endpoint, region and profile come from the environment; S3 Control keeps a
// custom endpoint exactly as given instead of prefixing the account ID to its host.
import { GetUserCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LOCAL_ADMIN_CREDENTIALS,
  type LocalAws,
  seedAccessGrantsLocation,
  startLocalAws,
} from "../../dev/local-aws/index.ts";
import { listLocations } from "../../src/aws/access-grants.ts";
import { getAccountId } from "../../src/aws/account.ts";
import {
  configuredEndpoint,
  createIamClient,
  createS3ControlClient,
  createStsClient,
} from "../../src/aws/clients.ts";
import { ServiceUnavailableError } from "../../src/aws/errors.ts";

let local: LocalAws;
const creds = {
  AWS_ACCESS_KEY_ID: LOCAL_ADMIN_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_ADMIN_CREDENTIALS.secretAccessKey,
};

beforeAll(async () => {
  local = await startLocalAws();
});
afterAll(async () => {
  await local.stop();
});

describe("configuredEndpoint", () => {
  it("prefers AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL", () => {
    const env = { AWS_ENDPOINT_URL: "http://generic:1", AWS_ENDPOINT_URL_S3_CONTROL: "http://s3c:2" };
    expect(configuredEndpoint("s3control", env)).toBe("http://s3c:2");
    expect(configuredEndpoint("iam", env)).toBe("http://generic:1");
    expect(configuredEndpoint("dynamodb", { AWS_ENDPOINT_URL_DYNAMODB: "http://ddb:3" })).toBe(
      "http://ddb:3",
    );
    expect(configuredEndpoint("secretsManager", { AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://sm:4" })).toBe(
      "http://sm:4",
    );
  });

  it("has none when nothing is set or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", () => {
    expect(configuredEndpoint("sts", {})).toBeUndefined();
    expect(
      configuredEndpoint("sts", {
        AWS_ENDPOINT_URL_STS: "http://x:1",
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
      }),
    ).toBeUndefined();
  });
});

describe("S3 Control with a custom endpoint", () => {
  it("resolves to the URL as given, with no account ID in front of the host", async () => {
    const client = createS3ControlClient({ env: { ...local.env } });
    try {
      const endpoint = await client.config.endpointProvider({
        AccountId: local.accountId,
        RequiresAccountId: true,
        Region: "us-east-1",
        UseFIPS: false,
        UseDualStack: false,
      });
      expect(endpoint.url.href).toBe(`${local.url}/`);
    } finally {
      client.destroy();
    }
  });

  it("sends Access Grants calls to that URL with the account in x-amz-account-id", async () => {
    seedAccessGrantsLocation(local);
    const client = createS3ControlClient({ env: { ...local.env }, maxAttempts: 1 });
    const before = local.state.requests.length;
    try {
      const locations = await listLocations(client, { accountId: local.accountId });
      expect(locations.map((l) => l.scope)).toEqual(["s3://staging-cellpainting-gallery/"]);
    } finally {
      client.destroy();
    }
    const [request] = local.state.requests.slice(before);
    expect(request).toMatchObject({
      service: "s3control",
      operation: "ListAccessGrantsLocations",
      status: 200,
    });
    expect(request?.host).toBe(`127.0.0.1:${local.port}`);
  });

  it("keeps AWS's own endpoint rules when no endpoint is configured", async () => {
    const client = createS3ControlClient({ env: { AWS_REGION: "us-east-1" } });
    try {
      const endpoint = await client.config.endpointProvider({
        AccountId: "123456789012",
        RequiresAccountId: true,
        Region: "us-east-1",
        UseFIPS: false,
        UseDualStack: false,
      });
      expect(endpoint.url.hostname).toBe("123456789012.s3-control.us-east-1.amazonaws.com");
    } finally {
      client.destroy();
    }
  });
});

describe("IAM and STS endpoints, region and profile", () => {
  it("uses AWS_ENDPOINT_URL when no service-specific variable is set", async () => {
    const sts = createStsClient({ env: { AWS_ENDPOINT_URL: local.url, AWS_REGION: "us-east-1", ...creds } });
    try {
      expect(await getAccountId(sts)).toBe(local.accountId);
    } finally {
      sts.destroy();
    }
  });

  it("lets AWS_ENDPOINT_URL_IAM win over a wrong AWS_ENDPOINT_URL", async () => {
    const iam = createIamClient({
      env: { AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_ENDPOINT_URL_IAM: local.url, ...creds },
      maxAttempts: 1,
    });
    try {
      const out = await iam.send(new GetUserCommand({}));
      expect(out.User?.Arn).toBe(`arn:aws:iam::${local.accountId}:root`);
    } finally {
      iam.destroy();
    }
  });

  it("takes the region from AWS_REGION, an explicit region winning; IAM falls back to us-east-1", async () => {
    expect(await createStsClient({ env: { AWS_REGION: "eu-west-1" } }).config.region()).toBe("eu-west-1");
    expect(
      await createStsClient({ region: "us-west-2", env: { AWS_REGION: "eu-west-1" } }).config.region(),
    ).toBe("us-west-2");
    expect(await createIamClient({ env: {} }).config.region()).toBe("us-east-1");
  });

  it("passes AWS_PROFILE (or an explicit profile) to the client", () => {
    expect(createIamClient({ env: { AWS_PROFILE: "cpg-admin" } }).config.profile).toBe("cpg-admin");
    expect(createIamClient({ profile: "other", env: { AWS_PROFILE: "cpg-admin" } }).config.profile).toBe(
      "other",
    );
  });

  it("turns an unreachable endpoint into ServiceUnavailableError", async () => {
    const sts = createStsClient({
      env: { AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9", AWS_REGION: "us-east-1", ...creds },
      maxAttempts: 1,
    });
    try {
      await expect(getAccountId(sts)).rejects.toBeInstanceOf(ServiceUnavailableError);
    } finally {
      sts.destroy();
    }
  });
});
