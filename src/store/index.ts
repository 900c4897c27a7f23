// One call to build the store from a DocumentClient (entry points make the client with createDocumentClient).
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AuditLog } from "./audit.ts";
import { RequestStore } from "./requests.ts";
import { SecretStore } from "./secrets.ts";

export interface Stores {
  requests: RequestStore;
  audit: AuditLog;
  secrets: SecretStore;
}

export function createStores(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: () => Date;
}): Stores {
  const audit = new AuditLog(options);
  return { audit, requests: new RequestStore({ ...options, audit }), secrets: new SecretStore(options) };
}
