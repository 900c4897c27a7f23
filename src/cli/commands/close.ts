// `close prefix <prefix> [--reason …]`: closing a dataset from the CLI, with the operator's credentials —
// the same closePrefix the provisioner runs for `/cytoskel close prefix` (src/service/close.ts): every
// ACTIVE request at or under the prefix ends REVOKED through the revoke path (under each person's lock,
// the reason on the audit events), every grant there goes (hand-made ones too), and the result lists who
// had access. The requests table comes from --table / CYTOSKEL_TABLE_NAME, as for `audit` (src/cli/books.ts).
//
// Slack: only when SLACK_BOT_TOKEN and CYTOSKEL_ADMIN_CHANNEL_ID are both set are the people DMed and
// the summary posted (SLACK_API_URL overrides the Web API base). Otherwise nobody is told, and the
// output says so: the operator tells them.
import { listLocations } from "../../aws/access-grants.ts";
import { createSlackClient } from "../../runtime/slack-client.ts";
import { type CloseResult, closablePrefix, closePrefix } from "../../service/close.ts";
import type { Notifier } from "../../service/notifier.ts";
import { createSlackNotifier } from "../../service/notifier.ts";
import { cliActor, requireBooks, requireTableName } from "../books.ts";
import type { AdminContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { ADMIN_CHANNEL_ENV, SLACK_TOKEN_ENV } from "./close-output.ts";

export interface CloseArgs {
  prefix: string;
  reason?: string;
  /** The operator's Slack user ID, recorded as the actor and named in the DMs. */
  admin?: string;
  table?: string;
  env: Record<string, string | undefined>;
}

export interface PrefixClosedResult extends Omit<CloseResult, "text" | "posted"> {
  kind: "prefix-closed";
  bucket: string;
  /** People were DMed and the summary posted to the admin channel (false: no Slack token given). */
  slackNotified: boolean;
  posted: boolean;
}

/** Throws: Slack is not configured; the revoke path catches it and records the person as not told. */
const SILENT_NOTIFIER: Notifier = {
  async dmUser() {
    throw new Error(`Slack not configured (${SLACK_TOKEN_ENV} / ${ADMIN_CHANNEL_ENV})`);
  },
  async updateAdminMessage() {
    throw new Error("Slack not configured");
  },
  async postAdminChannel() {
    throw new Error("Slack not configured");
  },
};

export async function closePrefixCommand(ctx: AdminContext, args: CloseArgs): Promise<PrefixClosedResult> {
  requireTableName(args);
  cliActor(args.admin);
  try {
    closablePrefix(args.prefix, ctx.target.bucket);
  } catch (err) {
    throw new UsageError(
      `${(err as Error).message.replace(/^refused prefix/, "can't close")}; name one dataset's prefix, e.g. cpg0042/ (never the whole bucket)`,
    );
  }
  const { stores, locks, actor } = requireBooks(ctx, args);
  const accountId = await ctx.accountId();
  const token = args.env[SLACK_TOKEN_ENV];
  const channel = args.env[ADMIN_CHANNEL_ENV];
  const slackNotified = Boolean(token && channel);
  const notifier =
    token && channel
      ? createSlackNotifier(
          createSlackClient(token, args.env.SLACK_API_URL ? { apiUrl: args.env.SLACK_API_URL } : {}),
          { adminChannelId: channel },
        )
      : SILENT_NOTIFIER;
  // Only needed if a request that stays must be re-granted (src/service/revoke.ts keepStayingGranted).
  const location = (await listLocations(ctx.clients.s3control, { accountId })).find(
    (l) => l.scope === ctx.target.locationScope,
  );
  const result = await closePrefix(
    {
      store: stores.requests,
      secrets: stores.secrets,
      iam: ctx.clients.iam,
      s3control: ctx.clients.s3control,
      accountId,
      target: ctx.target,
      locationId: location?.id ?? "",
      notifier,
      locks,
      secretLinkBaseUrl: "",
    },
    { prefix: args.prefix, actor, ...(args.reason ? { reason: args.reason } : {}), notify: slackNotified },
  );
  const { text: _text, ...rest } = result;
  return { kind: "prefix-closed", bucket: ctx.target.bucket, ...rest, slackNotified };
}
