/**
 * The playground's movable clock. `npm run dev` and `npm run slack` are two processes; they share
 * the offset through the playground's state file (`clockOffsetMs`), which the slack client rewrites
 * (`npm run slack -- clock +3d`) and the dev process re-reads whenever the file changed. Every
 * function the playground runs (bot, provisioner, expiry job, secret link) and the slack client's
 * signatures take their time from it, so requests age, grants expire, warnings and reminders come
 * due as if the days had passed. Only forward, so times stamped in the table keep their order;
 * `reset` goes back to the real time (what was stamped meanwhile keeps its later times).
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const SHIFT = /^\+(\d{1,5})([mhd])$/;

export type ClockCommand = { kind: "show" } | { kind: "reset" } | { kind: "advance"; ms: number };

export class ClockCommandError extends Error {
  override readonly name = "ClockCommandError";
}

/** `clock` (no argument), `clock reset`, `clock +<N>d|h|m`; anything else names what is allowed. */
export function parseClockCommand(arg: string | undefined): ClockCommand {
  if (arg === undefined || arg === "") return { kind: "show" };
  if (arg === "reset") return { kind: "reset" };
  const m = SHIFT.exec(arg);
  if (!m) {
    throw new ClockCommandError(
      `"${arg}" is not a clock change. Use +<N>d, +<N>h or +<N>m (N a whole number, e.g. +3d or +36h) to move the playground's clock forward, "reset" to go back to the real time, or nothing to show it.`,
    );
  }
  return { kind: "advance", ms: Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] };
}

/** The offset a command leaves (from the current one). */
export function applyClockCommand(current: number, cmd: ClockCommand): number {
  if (cmd.kind === "reset") return 0;
  if (cmd.kind === "advance") return current + cmd.ms;
  return current;
}

/** "+3d 4h" for an offset (whole minutes). */
export function describeOffset(ms: number): string {
  if (ms === 0) return "real time";
  const minutes = Math.round(ms / UNIT_MS.m);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d ? `${d}d` : "", h ? `${h}h` : "", m ? `${m}m` : ""].filter(Boolean);
  return `real time +${parts.join(" ")}`;
}

type State = Record<string, unknown> & { clockOffsetMs?: number };

export class PlaygroundStateError extends Error {
  override readonly name = "PlaygroundStateError";
}

const ownUid = () => process.getuid?.();

/**
 * Where the playground keeps its state (URLs, signing secret, clock offset): CYTOSKEL_PLAYGROUND_STATE,
 * else `playground.json` in a directory of this user's only — $XDG_RUNTIME_DIR/cytoskel, else
 * <tmpdir>/cytoskel-<uid> — created 0700. A directory of that name owned by someone else (planted in
 * a shared /tmp) is refused; one of ours left open to others is closed to 0700.
 */
export function playgroundStateFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CYTOSKEL_PLAYGROUND_STATE) return env.CYTOSKEL_PLAYGROUND_STATE;
  const uid = ownUid();
  const dir = env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, "cytoskel")
    : join(tmpdir(), `cytoskel-${uid ?? "user"}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new PlaygroundStateError(
      `${dir} is not a directory of yours (owner uid ${st.uid}, you are ${uid}): remove it, or set CYTOSKEL_PLAYGROUND_STATE to a file in a directory only you can read.`,
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return join(dir, "playground.json");
}

/** Refuses a state file someone else owns: its URLs and secret would be theirs to choose. */
function assertOwned(file: string): void {
  const uid = ownUid();
  const st = lstatSync(file);
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) {
    throw new PlaygroundStateError(
      `${file} is not a file of yours (owner uid ${st.uid}, you are ${uid}); not reading it. Remove it, or point CYTOSKEL_PLAYGROUND_STATE elsewhere.`,
    );
  }
}

/** The running playground's state; undefined when there is none (or it is not JSON). */
export function readPlaygroundState(file: string): State | undefined {
  try {
    assertOwned(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(readFileSync(file, "utf8")) as State;
  } catch {
    return undefined;
  }
}

/**
 * Writes the state readable by this user only (0600), atomically: a fresh temporary file renamed over
 * the old one, so whatever was there before (anyone's, any mode) is replaced, never written through.
 */
export function writePlaygroundState(file: string, state: State): void {
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600, flag: "wx" });
  renameSync(tmp, file);
}

/** The offset in the state file; 0 when there is none. */
export function readClockOffset(file: string): number {
  const offset = readPlaygroundState(file)?.clockOffsetMs;
  return typeof offset === "number" && Number.isFinite(offset) && offset >= 0 ? offset : 0;
}

/** Writes the offset into the running playground's state file (atomically: the dev process reads it). */
export function writeClockOffset(file: string, offsetMs: number): void {
  const state = readPlaygroundState(file);
  if (!state)
    throw new ClockCommandError(`No running playground (${file} is missing): start \`npm run dev\` first.`);
  writePlaygroundState(file, { ...state, clockOffsetMs: offsetMs });
}

/**
 * A clock that is the real time plus the state file's offset, re-read only when the file changed
 * (one stat per call). `onChange` hears of a new offset (the dev process runs the job right away).
 */
export function fileClock(
  file: string,
  opts: { realNow?: () => number; onChange?: (offsetMs: number) => void } = {},
): { now: () => Date; offsetMs: () => number } {
  const realNow = opts.realNow ?? Date.now;
  let seen = "";
  let offset = 0;
  const refresh = () => {
    let stamp = "missing";
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // no state file yet (or any more): the real time
    }
    if (stamp === seen) return;
    seen = stamp;
    const next = stamp === "missing" ? 0 : readClockOffset(file);
    if (next !== offset) {
      offset = next;
      opts.onChange?.(offset);
    }
  };
  return {
    now: () => {
      refresh();
      return new Date(realNow() + offset);
    },
    offsetMs: () => {
      refresh();
      return offset;
    },
  };
}
