// vitest setupFiles: hands the run's shared DynamoDB Local (started by dynamodb-global-setup.ts) to
// dev/dynamodb.ts, which stays free of vitest imports so scripts can use it too.
import { inject } from "vitest";
import { SHARED_ENDPOINT_ENV } from "../../dev/dynamodb.ts";

const endpoint = inject("dynamodbEndpoint");
if (endpoint) process.env[SHARED_ENDPOINT_ENV] = endpoint;
