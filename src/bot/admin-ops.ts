/**
 * Admin commands that need AWS (revoke, re-issue), wired from the shared service layer. These are the
 * only bot paths that call IAM / S3 Control before answering; they are rare, admin-only, and each is
 * one service call (see README: a revoke of a person with many grants may approach Slack's 3 s).
 */
import type { ServiceDeps } from "../service/deps.ts";
import { NothingToReissueError, reissueCredentials } from "../service/reissue.ts";
import { revokeAccess } from "../service/revoke.ts";
import type { AdminOperations } from "./app.ts";
import { reissuedDm } from "./views.ts";

export function serviceAdminOperations(
  deps: ServiceDeps & { audit?: { append(e: never): Promise<unknown> } },
): AdminOperations {
  return {
    async revoke({ userId, subPrefix, actor }) {
      const result = await revokeAccess(deps, { userId, actor, ...(subPrefix ? { subPrefix } : {}) });
      return { text: result.text };
    },
    async reissue({ userId, actor }) {
      try {
        const result = await reissueCredentials(
          {
            iam: deps.iam,
            store: deps.store,
            secrets: deps.secrets,
            target: deps.target,
            secretLinkBaseUrl: deps.secretLinkBaseUrl,
            ...(deps.secretLinkTtlSeconds ? { secretLinkTtlSeconds: deps.secretLinkTtlSeconds } : {}),
            locks: deps.locks,
            ...(deps.now ? { now: deps.now } : {}),
          },
          { userId, actor },
        );
        await deps.notifier.dmUser(
          userId,
          reissuedDm(result.link.url, result.link.expiresAt.toISOString(), result.scopes, deps.target.bucket),
        );
        return {
          text: `Sent <@${userId}> a new one-time link (key \`${result.accessKeyId}\`); their previous keys no longer work${result.retiredLinkCount ? ` and ${result.retiredLinkCount} unopened earlier link(s) were retired` : ""}.`,
        };
      } catch (err) {
        if (err instanceof NothingToReissueError) {
          return {
            text: `<@${userId}> has no active access with delivered keys, so there is nothing to re-issue.`,
          };
        }
        throw err;
      }
    },
  };
}

/**
 * Admin operations whose service layer is built on first use (a warm Lambda keeps it): a plain
 * request/approve never pays for IAM/S3 Control/STS clients. A build failure (e.g. missing
 * SECRET_LINK_BASE_URL) is retried on the next use and reported to the admin in neutral words.
 */
export function lazyAdminOperations(build: () => Promise<ServiceDeps>): AdminOperations {
  let ops: Promise<AdminOperations> | undefined;
  const get = () => {
    ops ??= build()
      .then(serviceAdminOperations)
      .catch((err: unknown) => {
        ops = undefined;
        throw err;
      });
    return ops;
  };
  return {
    revoke: async (input) => (await get()).revoke?.(input) ?? { text: "Revoking isn't available." },
    reissue: async (input) => (await get()).reissue?.(input) ?? { text: "Re-issuing isn't available." },
  };
}
