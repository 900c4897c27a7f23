/** The admin card a pending request gets: a change request's (old → new) or a new request's. The bot
 *  posts them when a request is filed; the reconciler (src/service/reconcile.ts) posts one that never
 *  made it, from the expiry job, which is why this is one function beside the two builders. */
import type { SlackMessage } from "../slack/blocks.ts";
import type { AccessRequest } from "../store/types.ts";
import { changeRequestCard } from "./change-views.ts";
import { adminRequestCard } from "./views.ts";

export function adminCardFor(bucket: string): (request: AccessRequest) => SlackMessage {
  return (request) =>
    request.changeOf ? changeRequestCard(bucket, request) : adminRequestCard(bucket, request);
}
