/** Admin membership: the configured IDs, plus the optional user group's members cached for a while. */

import type { webApi } from "@slack/bolt";
import type { Logger } from "../log.ts";
import { type AdminDirectory, isAdmin } from "../rules/authorization.ts";
import type { ResolvedBotConfig } from "./config.ts";

export class AdminResolver {
  private members: string[] | undefined;
  private fetchedAt = 0;

  constructor(
    private readonly config: ResolvedBotConfig["admins"],
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  async isAdmin(userId: string, client: webApi.WebClient): Promise<boolean> {
    const listed: AdminDirectory = { userIds: this.config.userIds };
    if (isAdmin(userId, listed) || !this.config.usergroupId) return isAdmin(userId, listed);
    const stale = this.now() - this.fetchedAt > this.config.usergroupCacheSeconds * 1000;
    if (this.members === undefined || stale) {
      try {
        const res = await client.usergroups.users.list({ usergroup: this.config.usergroupId });
        this.members = res.users ?? [];
        this.fetchedAt = this.now();
      } catch (err) {
        // Fail closed: without the group we only trust the listed IDs.
        this.logger.warn("usergroup_lookup_failed", { error: err });
        return false;
      }
    }
    return isAdmin(userId, { userIds: this.config.userIds, groupMemberIds: this.members ?? [] });
  }
}
