/**
 * Closing a dataset (issue 12 item 6): every grant at or under one prefix goes, through the revoke path.
 *
 * - What is closed: ACTIVE requests whose scope lies at or under the prefix (`cpg0042/*` covers
 *   `cpg0042/*` and `cpg0042/a/*`, never `cpg00421/*`: GrantScope.covers), and every grant of the
 *   Access Grants instance whose scope lies there, including grants no request knows of (made by hand).
 *   ListAccessGrants' GrantScope filter matches one scope exactly (AWS and the local stand-in alike), so
 *   the instance's grants are listed once and filtered here.
 * - Per person (a request's requester, or a cytoskel IAM user `slack-<ORG>-<USER>` holding a grant),
 *   each scope goes through `revokeAccess` with that sub-prefix, under the person's lock: the requests end
 *   REVOKED with the reason on their audit events, the person gets the revoke DM, and keys and the IAM
 *   user go when no grant is left. Narrower scopes go first, so a request that reused a broader grant
 *   ends before that grant goes (nothing is re-granted only to be taken away).
 * - A grant under the prefix that no revoke took away (its grantee is no cytoskel user: a role, a
 *   directory user, a user made by hand) is deleted here directly.
 * - Then ONE admin-channel post: who had access (people and scopes), what was revoked, what failed.
 * - Idempotent: a second run finds only what is left (the revoke path's own guarantees: a request that
 *   already ended is not DMed again), so after a crash it finishes the rest. What the first run did
 *   is not in the second run's post (it lists what that run found).
 */

import type { types } from "@slack/bolt";
import { deleteGrant, type Grant, listGrants } from "../aws/access-grants.ts";
import { NoSuchGrantError } from "../aws/errors.ts";
import { GrantScope } from "../rules/grant-scope.ts";
import type { Actor } from "../rules/lifecycle.ts";
import { InvalidPrefixError, parsePrefix } from "../rules/prefix.ts";
import { code, escapeMrkdwn, section } from "../slack/blocks.ts";
import { collectAll } from "../store/paging.ts";
import type { AccessRequest } from "../store/types.ts";
import { type ServiceDeps, silentLogger } from "./deps.ts";
import { describeFailure } from "./errors.ts";
import type { SlackMessage } from "./messages.ts";
import { type AccessRemoval, revokeAccess } from "./revoke.ts";
import { iamUserTeamFor, slackIdsFromIamUserName } from "./users.ts";

export interface CloseInput {
  /** As typed or as the parser made it ("cpg0042", "cpg0042/*", "s3://bucket/cpg0042/"); never the bucket. */
  prefix: string;
  /** The admin (bot) or operator (CLI). */
  actor: Actor;
  reason?: string;
  /** Post the summary to the admin channel (default true; the CLI without a Slack token passes false). */
  notify?: boolean;
}

export interface ClosedPerson {
  userId: string;
  teamId?: string;
  /** Scopes at or under the prefix this person had (requests and grants), most specific first. */
  scopes: string[];
  /** Of those, the ones revoked by this run. */
  revoked: string[];
  endedRequestIds: string[];
  deletedGrantIds: string[];
  userDeleted: boolean;
  /** The revoke DM went out (false: Slack failed or was not asked). */
  notified: boolean;
}

export interface OrphanGrant {
  grantId: string;
  granteeType: string;
  granteeArn: string;
  scope: string;
  permission: string;
  deleted: boolean;
}

export interface CloseFailure {
  /** The person, or the grant deleted directly. */
  userId?: string;
  grantId?: string;
  scope?: string;
  reason: string;
}

export interface CloseResult {
  /** The normalised prefix, e.g. "cpg0042/*". */
  prefix: string;
  people: ClosedPerson[];
  /** Grants under the prefix held by no cytoskel user, deleted directly. */
  otherGrants: OrphanGrant[];
  failures: CloseFailure[];
  /** The admin-channel summary went out. */
  posted: boolean;
  /** One line for the admin who asked. */
  text: string;
}

/** Normalises a prefix for closing; throws InvalidPrefixError for the whole bucket and anything parsePrefix refuses. */
export function closablePrefix(input: string, bucket: string): string {
  const parsed = parsePrefix(input, { bucket });
  if (!parsed.ok) throw new InvalidPrefixError(input, parsed.reason);
  return parsed.subPrefix;
}

export async function closePrefix(deps: ServiceDeps, input: CloseInput): Promise<CloseResult> {
  const log = deps.log ?? silentLogger;
  const bucket = deps.target.bucket;
  const prefix = closablePrefix(input.prefix, bucket);
  const closing = GrantScope.of(bucket, prefix);
  const under = (p: string) => closing.covers(GrantScope.of(bucket, p));

  const active = (
    await collectAll((cursor) => deps.store.listByStatus("ACTIVE", cursor ? { cursor } : {}))
  ).filter((r) => under(r.subPrefix));
  const grants = (await listGrants(deps.s3control, { accountId: deps.accountId })).filter((g) =>
    closing.covers(g.scope),
  );

  const people = groupByPerson(active, grants);
  const failures: CloseFailure[] = [];
  const closed: ClosedPerson[] = [];
  const deletedByRevoke = new Set<string>();
  for (const person of people.values()) {
    const done: ClosedPerson = {
      userId: person.userId,
      ...(person.teamId ? { teamId: person.teamId } : {}),
      scopes: sortSpecificFirst([...person.scopes]),
      revoked: [],
      endedRequestIds: [],
      deletedGrantIds: [],
      userDeleted: false,
      notified: true,
    };
    for (const scope of done.scopes) {
      let removal: AccessRemoval;
      try {
        removal = await revokeAccess(deps, {
          userId: person.userId,
          ...(person.teamId ? { teamId: person.teamId } : {}),
          subPrefix: scope,
          actor: input.actor,
          ...(input.reason ? { reason: input.reason } : {}),
        });
      } catch (err) {
        log.warn("close.revoke_failed", { userId: person.userId, scope, error: err });
        failures.push({ userId: person.userId, scope, reason: describeFailure(err) });
        continue;
      }
      if (removal.outcome === "noop") continue;
      done.revoked.push(scope);
      done.endedRequestIds.push(...removal.endedRequestIds);
      done.deletedGrantIds.push(...removal.deletedGrantIds);
      for (const id of removal.deletedGrantIds) deletedByRevoke.add(id);
      done.userDeleted ||= removal.userDeleted;
      done.notified &&= removal.notified;
    }
    if (done.revoked.length === 0) done.notified = false;
    closed.push(done);
  }

  const otherGrants: OrphanGrant[] = [];
  for (const g of grants) {
    if (deletedByRevoke.has(g.id)) continue;
    const orphan: OrphanGrant = {
      grantId: g.id,
      granteeType: g.granteeType,
      granteeArn: g.granteeArn,
      scope: g.scope.prefix,
      permission: g.permission,
      deleted: false,
    };
    try {
      await deleteGrant(deps.s3control, { accountId: deps.accountId, grantId: g.id });
      orphan.deleted = true;
    } catch (err) {
      if (err instanceof NoSuchGrantError) orphan.deleted = true;
      else {
        log.warn("close.grant_delete_failed", { grantId: g.id, error: err });
        failures.push({ grantId: g.id, scope: g.scope.prefix, reason: describeFailure(err) });
      }
    }
    otherGrants.push(orphan);
  }

  const result: Omit<CloseResult, "posted" | "text"> = { prefix, people: closed, otherGrants, failures };
  const message = closedAdminPost(bucket, input, result);
  let posted = false;
  if (input.notify !== false) {
    try {
      await deps.notifier.postAdminChannel(message);
      posted = true;
    } catch (err) {
      log.warn("close.post_failed", { prefix, error: err });
    }
  }
  log.info("prefix.closed", {
    prefix,
    people: closed.map((p) => p.userId),
    otherGrants: otherGrants.map((g) => g.grantId),
    failures: failures.length,
  });
  return { ...result, posted, text: message.text };
}

interface PersonScopes {
  userId: string;
  teamId?: string;
  scopes: Set<string>;
}

/** Requesters of the requests and cytoskel users holding the grants, each with their scopes there. */
function groupByPerson(
  active: readonly AccessRequest[],
  grants: readonly Grant[],
): Map<string, PersonScopes> {
  const people = new Map<string, PersonScopes>();
  const add = (userId: string, teamId: string | undefined, scope: string) => {
    const p = people.get(userId) ?? { userId, scopes: new Set<string>() };
    if (!p.teamId && teamId) p.teamId = teamId;
    p.scopes.add(scope);
    people.set(userId, p);
  };
  for (const r of active) add(r.requesterUserId, r.requesterTeamId, r.subPrefix);
  const requesters = [...new Set(active.map((r) => r.requesterUserId))];
  for (const g of grants) {
    if (g.granteeType !== "IAM") continue;
    const name = /:user\/(?:.*\/)?([^/]+)$/.exec(g.granteeArn)?.[1];
    if (!name) continue;
    // A name too long to spell out (hashed) is matched against the requesters found here.
    const ids =
      slackIdsFromIamUserName(name) ??
      requesters
        .map((userId) => ({ userId, teamId: iamUserTeamFor(name, userId) }))
        .find((p): p is { userId: string; teamId: string } => p.teamId !== undefined);
    if (ids) add(ids.userId, ids.teamId, g.scope.prefix);
  }
  return people;
}

/** Longest (most specific) scope first; ties by name, so runs are repeatable. */
function sortSpecificFirst(scopes: string[]): string[] {
  return scopes.sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/** The one admin-channel post of a close: who had access, what was revoked, what failed. */
export function closedAdminPost(
  bucket: string,
  input: Pick<CloseInput, "actor" | "reason">,
  r: Omit<CloseResult, "posted" | "text">,
): SlackMessage {
  // Scopes of grants no request knew of come from AWS as they are: inert.
  const s3 = (p: string) => code(`s3://${bucket}/${p}`);
  const reason = input.reason ? ` Reason: ${escapeMrkdwn(input.reason)}` : "";
  const nobody = r.people.length === 0 && r.otherGrants.length === 0;
  const head = nobody
    ? `<@${input.actor.id}> closed ${s3(r.prefix)}: nobody had access at or under it; nothing to revoke.${reason}`
    : `<@${input.actor.id}> closed ${s3(r.prefix)}.${reason}`;
  const lines: string[] = [head];
  if (r.people.length > 0) {
    lines.push("*Who had access*");
    for (const p of r.people) {
      const kept = p.scopes.filter((s) => !p.revoked.includes(s));
      const revoked = p.revoked.length > 0 ? `revoked ${p.revoked.map(s3).join(", ")}` : "nothing revoked";
      const left = kept.length > 0 ? `; not revoked: ${kept.map(s3).join(", ")}` : "";
      const keys = p.userDeleted ? "; no grant left, keys and IAM user deleted" : "";
      const dm = p.revoked.length > 0 && !p.notified ? "; :warning: not told (Slack failed)" : "";
      lines.push(`• <@${p.userId}>: ${revoked}${left}${keys}${dm}`);
    }
  }
  if (r.otherGrants.length > 0) {
    lines.push("*Grants no request knew of*");
    for (const g of r.otherGrants) {
      const who = escapeMrkdwn(g.granteeArn);
      lines.push(
        `• \`${g.grantId}\` ${g.permission} on ${s3(g.scope)} to ${g.granteeType} \`${who}\`: ${g.deleted ? "deleted" : "NOT deleted"}`,
      );
    }
  }
  if (r.failures.length > 0) {
    lines.push("*Failed* (running the close again is safe and finishes what is left)");
    for (const f of r.failures) {
      const what = f.userId ? `<@${f.userId}>` : `grant \`${f.grantId}\``;
      lines.push(`• ${what}${f.scope ? ` on ${s3(f.scope)}` : ""}: ${escapeMrkdwn(f.reason)}`);
    }
  }
  return { text: lines.join("\n"), blocks: fitSections(lines) };
}

/** Slack takes at most 3,000 characters in one section and 50 blocks: long lists are cut, and say so. */
function fitSections(lines: readonly string[]): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [];
  let current = "";
  for (const [i, line] of lines.entries()) {
    if (current.length + line.length + 1 > 2_900) {
      blocks.push(section(current));
      current = "";
      if (blocks.length === 49) {
        blocks.push(
          section(`… and ${lines.length - i} more lines (\`cytoskel cpgstaging audit\` has them all).`),
        );
        return blocks;
      }
    }
    current = current ? `${current}\n${line}` : line.slice(0, 2_900);
  }
  if (current) blocks.push(section(current));
  return blocks;
}
