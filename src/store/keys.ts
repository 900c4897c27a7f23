// Key builders for the single table (layout in table.ts). Keep every key format here.
export const requestKey = (id: string) => ({ pk: `REQ#${id}`, sk: "META" });

/** One lock per requester + scope; it points at the request that holds the scope. */
export const openLockKey = (teamId: string, userId: string, subPrefix: string) => ({
  pk: `OPEN#${teamId}#${userId}#${subPrefix}`,
  sk: "LOCK",
});

/** One open change request (extension / upgrade) per requester + held scope; same partition as the scope's lock. */
export const changeLockKey = (teamId: string, userId: string, subPrefix: string) => ({
  pk: openLockKey(teamId, userId, subPrefix).pk,
  sk: "CHANGE",
});

export const auditPartition = (requestId: string | undefined, subjectUserId: string) =>
  requestId ? `REQ#${requestId}` : `USER#${subjectUserId}`;
export const AUDIT_SK_PREFIX = "AUDIT#";
export const auditSortKey = (at: string, eventId: string) => `${AUDIT_SK_PREFIX}${at}#${eventId}`;

/** The auditByDataset partition of a scope: its first segment ("cpg0042/a/*" → "cpg0042"), "*" for the
 *  whole bucket. Every scope at or under "cpg0042/" is in partition "cpg0042", and no other is. */
export const auditDatasetOf = (subPrefix: string) =>
  subPrefix === "*" ? "*" : (subPrefix.split("/")[0] ?? "");

export const secretKey = (id: string) => ({ pk: `SECRET#${id}`, sk: "SECRET" });

/** The scheduled job's reported failure kinds (src/store/sweep-failures.ts): one partition, one item per kind. */
export const SWEEP_FAILURES_PK = "SWEEP#failures";
export const sweepFailureKey = (kind: string) => ({ pk: SWEEP_FAILURES_PK, sk: `KIND#${kind}` });

/** One Slack delivery already acted on (its trigger_id, or its signature): a replay finds it. TTL'd. */
export const deliveryKey = (key: string) => ({ pk: `DELIVERY#${key}`, sk: "DELIVERY" });
