// Commander wiring only: parse the command line, call a command function, print its result through the
// one formatter, and turn any error into one stderr line + exit code (src/cli/errors.ts).

//
// The command modules are imported when their command runs, not here: they bring the AWS SDK (a third of
// a second to load), and `credentials --format credential-process` answering from its cache needs none.

import { Command, type CommanderError } from "commander";
import { getTarget, TARGET_NAMES, TARGETS, type TargetName } from "../config/targets.ts";
import { credentialsCommand, validateCredentialsArgs } from "./commands/credentials.ts";
import type { ProcessRunner } from "./commands/up.ts";
import type { AdminContext, CliClients } from "./context.ts";
import {
  type CacheKey,
  cacheDirFromEnv,
  callerIdentity,
  FileCredentialCache,
  s3ControlEndpoint,
} from "./credential-cache.ts";
import { describeError, type ErrorHints, HelpShown, UsageError } from "./errors.ts";
import { parseRegion } from "./input.ts";
import { type Listing, writeListing } from "./listing.ts";
import { type CommandResult, render } from "./output.ts";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CliDeps {
  io: CliIo;
  /** Builds the SDK clients for a region (the real one honours AWS_PROFILE and AWS_ENDPOINT_URL_*). */
  createClients(region: string, profile?: string): CliClients | Promise<CliClients>;
  /** Closes what createClients made, so the process can exit. */
  destroyClients?(clients: CliClients): void;
  /** Repository root, where `up` looks for cdk.json. */
  repoRoot: string;
  runProcess: ProcessRunner;
  /**
   * Environment read for AWS_REGION, and by the credential cache for XDG_CACHE_HOME/HOME and whose keys
   * these are (AWS_PROFILE, AWS_ACCESS_KEY_ID); default process.env.
   */
  env?: Record<string, string | undefined>;
  /** The credential cache's directory (default: from env, src/cli/credential-cache.ts) and clock. */
  cacheDir?: string;
  now?: () => number;
}

interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
  region?: string;
}

/** Runs one command line; returns the exit code (0 ok, 1 failure, 2 usage). Never calls process.exit. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const made: CliClients[] = [];
  let hints: ErrorHints = {};
  const clientsFor = async (region: string, profile?: string): Promise<CliClients> => {
    const clients = await deps.createClients(region, profile);
    made.push(clients);
    return clients;
  };
  const env = deps.env ?? process.env;
  // --region, else AWS_REGION, else the region the target's Access Grants live in.
  const regionFor = (flag: string | undefined, targetRegion: string): string => {
    if (flag) return parseRegion(flag, "--region");
    if (env.AWS_REGION) return parseRegion(env.AWS_REGION, "AWS_REGION");
    return targetRegion;
  };
  // A command that ran but found something wrong (sync's drift) says so with its result's exit code.
  let resultCode = 0;
  const emit = async (result: CommandResult | Listing<unknown>, json: boolean) => {
    if ("exitCode" in result) resultCode = result.exitCode;
    if (result.kind === "listing") {
      await writeListing(result, json, deps.io);
      return;
    }
    const out = render(result, json);
    if (out.stdout) deps.io.stdout(out.stdout);
    if (out.stderr) deps.io.stderr(out.stderr);
  };

  const booksArgs = (command: Command) => {
    const o = command.opts<{ table?: string; admin?: string; reason?: string }>();
    return {
      ...(o.table !== undefined ? { table: o.table } : {}),
      ...(o.admin !== undefined ? { admin: o.admin } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      env,
    };
  };

  const admin =
    (
      targetName: TargetName,
      run: (
        ctx: AdminContext,
        command: Command,
      ) => Promise<CommandResult | Listing<unknown>> | Listing<unknown>,
    ) =>
    async (...actionArgs: unknown[]) => {
      const command = actionArgs.at(-1) as Command;
      const globals = command.optsWithGlobals<GlobalOptions>();
      const target = getTarget(targetName);
      const region = regionFor(globals.region, target.region);
      hints = { commandPrefix: `cytoskel ${targetName}`, region, targetRegion: target.region };
      const { createAdminContext } = await import("./context.ts");
      await emit(
        await run(createAdminContext(target, region, await clientsFor(region)), command),
        globals.json ?? false,
      );
    };

  const program = new Command("cytoskel")
    .description("Scoped upload access to the Cell Painting Gallery staging bucket through S3 Access Grants.")
    .option("--json", "print one JSON document instead of lines for people")
    .option("--debug", "print stack traces on errors")
    .option("--region <region>", "AWS region to call (default: AWS_REGION, else the target's: us-east-1)")
    .configureHelp({ showGlobalOptions: true });

  for (const targetName of TARGET_NAMES) {
    const t = TARGETS[targetName];
    const target = program
      .command(targetName)
      .description(`manage access to s3://${t.bucket}/ (${t.region})`);

    target
      .command("up")
      .description(
        "deploy the CDK stacks (bucket, Access Grants instance and location, bot); run it from a clone of the cytoskel repository (it needs its cdk.json)",
      )
      .action(
        admin(targetName, async (ctx, command) =>
          (await import("./commands/up.ts")).upCommand(ctx.target, {
            repoRoot: deps.repoRoot,
            run: deps.runProcess,
            json: command.optsWithGlobals<GlobalOptions>().json ?? false,
          }),
        ),
      );

    const list = target.command("list").description("list locations, users or grants");
    list
      .command("location")
      .description("registered Access Grants locations for the bucket")
      .action(
        admin(targetName, async (ctx) => (await import("./commands/locations.ts")).listLocationsCommand(ctx)),
      );
    list
      .command("user")
      .description(`IAM users managed by cytoskel (path ${t.iamPath})`)
      .option("--all", "every IAM user in the account")
      .action(
        admin(targetName, async (ctx, command) =>
          (await import("./commands/users.ts")).listUsersCommand(ctx, { all: command.opts().all ?? false }),
        ),
      );
    list
      .command("grant")
      .description("access grants on the bucket: grantee, scope and permission")
      .action(
        admin(targetName, async (ctx) => (await import("./commands/grants.ts")).listGrantsCommand(ctx)),
      );

    const create = target.command("create").description("create a user or a grant");
    create
      .command("user")
      .description(`create an IAM user in group ${t.uploadersGroup} and print its access key once`)
      .argument("<name>", "IAM user name, e.g. test_user")
      .action(
        admin(targetName, async (ctx, command) =>
          (await import("./commands/users.ts")).createUserCommand(ctx, { name: command.args[0] as string }),
        ),
      );
    create
      .command("grant")
      .description("grant a user access to a prefix of the bucket")
      .argument("<user_arn>", 'the user\'s ARN (from "list user")')
      .argument("<location_id>", 'the location ID (from "list location")')
      .argument("<prefix>", "prefix in the bucket, e.g. cpg0042/*")
      .option("--permission <permission>", "READ, WRITE or READWRITE", "READWRITE")
      .option("--allow-root", "allow granting the whole bucket (*)")
      .option(
        "--days <n>",
        "with the books: how long the bot-made user's request lasts before expiry ends it (default: $DEFAULT_DURATION_DAYS or 30, at most $MAX_DURATION_DAYS or 90)",
      );
    booksOptions(create.commands.at(-1) as Command).action(
      admin(targetName, async (ctx, command) => {
        const [userArn, locationId, prefix] = command.args as [string, string, string];
        const opts = command.opts<{ permission: string; allowRoot?: boolean; days?: string }>();
        const { createGrantCommand } = await import("./commands/grants.ts");
        return createGrantCommand(ctx, {
          userArn,
          locationId,
          prefix,
          permission: opts.permission,
          allowRoot: opts.allowRoot ?? false,
          ...(opts.days !== undefined ? { days: opts.days } : {}),
          books: booksArgs(command),
        });
      }),
    );

    const del = target.command("delete").description("delete a grant or a user");
    del
      .command("grant")
      .description("delete an access grant")
      .argument("<id>", 'grant ID (from "list grant")');
    booksOptions(del.commands.at(-1) as Command).action(
      admin(targetName, async (ctx, command) =>
        (await import("./commands/grants.ts")).deleteGrantCommand(ctx, {
          grantId: command.args[0] as string,
          books: booksArgs(command),
        }),
      ),
    );
    del
      .command("user")
      .description("delete a user with its grants, keys and group memberships")
      .argument("<name>", "IAM user name")
      .option("--any-path", `also users outside ${t.iamPath} (e.g. made by the original tool)`);
    booksOptions(del.commands.at(-1) as Command).action(
      admin(targetName, async (ctx, command) =>
        (await import("./commands/users.ts")).deleteUserCommand(ctx, {
          name: command.args[0] as string,
          anyPath: command.opts().anyPath ?? false,
          books: booksArgs(command),
        }),
      ),
    );

    const sync = target
      .command("sync")
      .description(
        "report drift between the requests table and Access Grants: ACTIVE requests whose grant is gone, grants of " +
          "bot-made users no request records, and hand-made grants (listed, never touched). Exit 0: no drift; " +
          "3: drift found (without --fix); 1: a fix failed",
      )
      .option(
        "--fix",
        "end requests whose grant is gone (REVOKED) and record grants without a request as ACTIVE for the default duration, audited",
      );
    booksOptions(sync).action(
      admin(targetName, async (ctx, command) =>
        (await import("./commands/sync.ts")).syncCommand(ctx, {
          fix: command.opts().fix ?? false,
          books: booksArgs(command),
        }),
      ),
    );

    target
      .command("audit")
      .description(
        "the audit trail (who, when, what, why), newest first: about people, or every scope at or under a prefix",
      )
      .option("--user <slack-user-id...>", "events about these Slack users (U…); repeatable")
      .option("--prefix <prefix>", "events about any scope at or under this prefix, e.g. cpg0042/")
      .option(
        "--table <name>",
        "the requests table: the CytoskelBot stack's TableName output (default: $CYTOSKEL_TABLE_NAME)",
      )
      .action(
        admin(targetName, async (ctx, command) => {
          const opts = command.opts<{ user?: string[]; prefix?: string; table?: string }>();
          return (await import("./commands/audit.ts")).auditCommand(ctx, {
            users: opts.user ?? [],
            ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
            ...(opts.table !== undefined ? { table: opts.table } : {}),
            env,
          });
        }),
      );

    target
      .command("close")
      .description("close a dataset: revoke every grant at or under a prefix")
      .command("prefix")
      .description(
        "revoke every grant at or under <prefix> (cpg0042/ covers cpg0042/a/…, never cpg00421/) through the bot's revoke path: " +
          "requests end REVOKED with the reason, keys and IAM users go when no grant is left, hand-made grants there are deleted, " +
          "and who had access is printed. People are DMed and the admin channel told only when SLACK_BOT_TOKEN and " +
          "CYTOSKEL_ADMIN_CHANNEL_ID are set; otherwise nobody is told (the output says so). Never the whole bucket",
      )
      .argument("<prefix>", "e.g. cpg0042/ (not * or the bucket)")
      .option("--reason <text>", "why: recorded on each ended request's audit event and told to the person")
      .option(
        "--admin <slack-user-id>",
        `your Slack user ID, recorded as who closed it (default: "cytoskel-cli")`,
      )
      .option(
        "--table <name>",
        "the requests table: the CytoskelBot stack's TableName output (default: $CYTOSKEL_TABLE_NAME)",
      )
      .action(
        admin(targetName, async (ctx, command) => {
          const opts = command.opts<{ reason?: string; admin?: string; table?: string }>();
          return (await import("./commands/close.ts")).closePrefixCommand(ctx, {
            prefix: command.args[0] as string,
            ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
            ...(opts.admin !== undefined ? { admin: opts.admin } : {}),
            ...(opts.table !== undefined ? { table: opts.table } : {}),
            env,
          });
        }),
      );
  }

  program
    .command("credentials")
    .description(
      "get temporary credentials for a prefix (GetDataAccess); usable as credential_process, which caches them",
    )
    .requiredOption("--prefix <prefix>", "prefix you were granted, e.g. cpg0042/")
    .option("--permission <permission>", "READ, WRITE or READWRITE", "READWRITE")
    .option(
      "--duration <duration>",
      "how long they last: 15m to 12h, e.g. 12h, 90m, 3600s (default: 1h for credential-process, else 12h)",
    )
    .option("--format <format>", "env, json or credential-process", "env")
    .option("--target <target>", `bucket configuration: ${TARGET_NAMES.join(", ")}`, "cpgstaging")
    .option("--account-id <id>", "the bucket's account (default: that of your keys)")
    .option("--profile <profile>", "AWS profile holding your long-lived keys (default: AWS_PROFILE)")
    .option(
      "--no-cache",
      "credential-process: neither use nor save cached credentials (cache: $XDG_CACHE_HOME/cytoskel or ~/.cache/cytoskel)",
    )
    .action(async (...actionArgs: unknown[]) => {
      const command = actionArgs.at(-1) as Command;
      const globals = command.optsWithGlobals<GlobalOptions>();
      const opts = command.opts<{
        prefix: string;
        permission: string;
        duration?: string;
        format: string;
        target: string;
        accountId?: string;
        profile?: string;
        cache: boolean;
      }>();
      const request = validateCredentialsArgs(opts);
      const region = regionFor(globals.region, request.region);
      hints = {
        commandPrefix: "cytoskel credentials",
        region,
        targetRegion: request.region,
        contributor: true,
      };
      const key: CacheKey = {
        identity: callerIdentity(env, opts.profile),
        accountId: request.accountId ?? "",
        region,
        endpoint: s3ControlEndpoint(env),
        targetName: request.targetName,
        s3Target: request.s3Target,
        permission: request.permission,
        durationSeconds: request.durationSeconds,
      };
      const cached =
        request.format === "credential-process" && opts.cache
          ? {
              cache: new FileCredentialCache({
                dir: deps.cacheDir ?? cacheDirFromEnv(env),
                now: deps.now ?? Date.now,
              }),
              key,
              warn: (text: string) => deps.io.stderr(`Warning: ${text}\n`),
            }
          : undefined;
      const result = await credentialsCommand(() => clientsFor(region, opts.profile), request, cached);
      emit(result, globals.json ?? false);
    });

  for (const command of allCommands(program)) {
    command.exitOverride((err) => {
      throw fromCommander(err, command);
    });
    // Commander's own error text and error-help go nowhere: we print one line of our own instead.
    command.configureOutput({
      writeOut: (text) => deps.io.stdout(text),
      writeErr: () => {},
      outputError: () => {},
    });
  }

  const debug = argv.includes("--debug");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return resultCode;
  } catch (err) {
    if (err instanceof HelpShown) return err.exitCode;
    const report = describeError(err, hints);
    deps.io.stderr(`Error: ${report.message}\n`);
    if (debug) deps.io.stderr(`${stackOf(err)}\n`);
    return report.exitCode;
  } finally {
    for (const clients of made) deps.destroyClients?.(clients);
  }
}

/** --table, --admin, --reason: where and as whom a command writes the books (src/cli/books.ts). */
function booksOptions(command: Command): Command {
  return command
    .option(
      "--table <name>",
      "the requests table: the CytoskelBot stack's TableName output (default: $CYTOSKEL_TABLE_NAME); without it the books are not updated",
    )
    .option("--admin <slack-user-id>", `your Slack user ID, recorded as who did it (default: "cytoskel-cli")`)
    .option("--reason <text>", "why: recorded on the audit events");
}

function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c as Command))];
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Commander's parse errors, reworded to name what was wrong and what is allowed. */
function fromCommander(err: CommanderError, command: Command): Error {
  if (err.code === "commander.helpDisplayed" || err.code === "commander.version")
    return new HelpShown(err.exitCode);
  const path = commandPath(command);
  const subcommands = command.commands.map((c) => c.name());
  const isRoot = command.parent === null;
  const allowed = isRoot
    ? `allowed targets: ${TARGET_NAMES.join(", ")}; other commands: ${subcommands.filter((n) => !isTarget(n)).join(", ")}`
    : `allowed: ${subcommands.join(", ")}`;
  const usage = `usage: ${path} ${command.usage()}`;
  const text = err.message.replace(/^error: /, "");
  switch (err.code) {
    case "commander.help":
      return new UsageError(`missing command after "${path}"; ${allowed}`);
    case "commander.unknownCommand": {
      const name = /'(.*)'/.exec(text)?.[1] ?? "";
      return new UsageError(
        `unknown ${isRoot ? "target or command" : "command"} "${name}" for "${path}"; ${allowed}`,
      );
    }
    case "commander.excessArguments": {
      const extra = command.args.slice(command.registeredArguments.length).map((a) => `"${a}"`);
      return new UsageError(`unexpected argument ${extra.join(" ")} for "${path}"; ${usage}`);
    }
    case "commander.missingArgument":
    case "commander.unknownOption":
    case "commander.missingMandatoryOptionValue":
    case "commander.optionMissingArgument":
      return new UsageError(`${text.replace(/\.$/, "")} for "${path}"; ${usage}`);
    default:
      return new UsageError(`${text} (see "${path} --help")`);
  }
}

const isTarget = (name: string): boolean => (TARGET_NAMES as readonly string[]).includes(name);

function stackOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    e = e instanceof Error ? e.cause : undefined;
    if (e) parts.push("Caused by:");
  }
  return parts.join("\n");
}
