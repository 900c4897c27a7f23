/**
 * The playground's movable clock and schedule, without a playground: what `clock …` accepts, how the
 * dev process follows the state file the slack client rewrites, and the job running every minute
 * (fake timers).
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  applyClockCommand,
  ClockCommandError,
  describeOffset,
  fileClock,
  PlaygroundStateError,
  parseClockCommand,
  playgroundStateFile,
  readClockOffset,
  readPlaygroundState,
  writeClockOffset,
  writePlaygroundState,
} from "../../dev/playground-clock.ts";
import { startSchedule } from "../../dev/schedule.ts";

const DAY = 86_400_000;
const dirs: string[] = [];
function stateFile(content?: object): string {
  const dir = mkdtempSync(join(tmpdir(), "cytoskel-clock-"));
  dirs.push(dir);
  const file = join(dir, "state.json");
  if (content) writeFileSync(file, JSON.stringify(content));
  return file;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.useRealTimers();
});

describe("clock commands", () => {
  it("reads +<N>d, +<N>h, +<N>m, reset and nothing", () => {
    expect(parseClockCommand("+3d")).toEqual({ kind: "advance", ms: 3 * DAY });
    expect(parseClockCommand("+36h")).toEqual({ kind: "advance", ms: 36 * 3_600_000 });
    expect(parseClockCommand("+90m")).toEqual({ kind: "advance", ms: 90 * 60_000 });
    expect(parseClockCommand("reset")).toEqual({ kind: "reset" });
    expect(parseClockCommand(undefined)).toEqual({ kind: "show" });
  });

  it.each(["+3x", "3d", "-1d", "+d", "+1.5d", "tomorrow"])("refuses %s, naming what is allowed", (arg) => {
    expect(() => parseClockCommand(arg)).toThrow(ClockCommandError);
    expect(() => parseClockCommand(arg)).toThrow(`"${arg}" is not a clock change. Use +<N>d, +<N>h or +<N>m`);
  });

  it("adds up moves and resets to the real time", () => {
    const twice = applyClockCommand(applyClockCommand(0, parseClockCommand("+3d")), parseClockCommand("+4h"));
    expect(describeOffset(twice)).toBe("real time +3d 4h");
    expect(applyClockCommand(twice, parseClockCommand("reset"))).toBe(0);
    expect(applyClockCommand(twice, parseClockCommand(undefined))).toBe(twice);
  });
});

describe("the clock shared through the state file", () => {
  it("moves when the slack client rewrites the offset, keeping the rest of the state", () => {
    const file = stateFile({ botUrl: "http://127.0.0.1:1/slack/events", clockOffsetMs: 0 });
    const real = Date.parse("2026-12-01T12:00:00.000Z");
    const seen: number[] = [];
    const clock = fileClock(file, { realNow: () => real, onChange: (o) => seen.push(o) });
    expect(clock.now().toISOString()).toBe("2026-12-01T12:00:00.000Z");

    writeClockOffset(file, 3 * DAY);

    expect(clock.now().toISOString()).toBe("2026-12-04T12:00:00.000Z");
    expect(seen).toEqual([3 * DAY]);
    expect(readClockOffset(file)).toBe(3 * DAY);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({
      botUrl: "http://127.0.0.1:1/slack/events",
    });
  });

  it("is the real time with no state file, and a move then says to start the playground", () => {
    const file = stateFile();
    const clock = fileClock(file, { realNow: () => 1_000 });
    expect(clock.now().getTime()).toBe(1_000);
    expect(() => writeClockOffset(file, DAY)).toThrow("start `npm run dev` first");
  });
});

// The state file holds the signing secret (issue 13, hole 7): this user's only.
const uid = process.getuid?.() ?? -1;
const OTHER_UID = uid === 0 ? 4242 : -1;
const mode = (path: string) => statSync(path).mode & 0o777;
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "cytoskel-state-"));
  dirs.push(dir);
  return dir;
}

describe("the playground's state file", () => {
  it("lives by default in a directory of this user's only (0700), not one file shared by the host", () => {
    const runtime = scratch();
    const file = playgroundStateFile({ XDG_RUNTIME_DIR: runtime });
    expect(file).toBe(join(runtime, "cytoskel", "playground.json"));
    expect(mode(join(runtime, "cytoskel"))).toBe(0o700);
    // Without XDG_RUNTIME_DIR: under the temporary directory, named for the user.
    const fallback = playgroundStateFile({});
    expect(fallback).toBe(join(tmpdir(), `cytoskel-${uid}`, "playground.json"));
    expect(mode(join(tmpdir(), `cytoskel-${uid}`))).toBe(0o700);
    // An explicit place wins.
    expect(playgroundStateFile({ CYTOSKEL_PLAYGROUND_STATE: "/x/y.json", XDG_RUNTIME_DIR: runtime })).toBe(
      "/x/y.json",
    );
  });

  it("closes a directory of ours that others could read back to 0700", () => {
    const runtime = scratch();
    mkdirSync(join(runtime, "cytoskel"), { mode: 0o755 });
    chmodSync(join(runtime, "cytoskel"), 0o755);
    playgroundStateFile({ XDG_RUNTIME_DIR: runtime });
    expect(mode(join(runtime, "cytoskel"))).toBe(0o700);
  });

  it.skipIf(uid !== 0)("refuses a directory of that name someone else owns, naming it", () => {
    const runtime = scratch();
    mkdirSync(join(runtime, "cytoskel"), { mode: 0o777 });
    chownSync(join(runtime, "cytoskel"), OTHER_UID, OTHER_UID);
    expect(() => playgroundStateFile({ XDG_RUNTIME_DIR: runtime })).toThrow(PlaygroundStateError);
    expect(() => playgroundStateFile({ XDG_RUNTIME_DIR: runtime })).toThrow(
      `${join(runtime, "cytoskel")} is not a directory of yours`,
    );
  });

  it("is written 0600, also when the clock moves", () => {
    const file = join(scratch(), "state.json");
    writePlaygroundState(file, { signingSecret: "s", clockOffsetMs: 0 });
    expect(mode(file)).toBe(0o600);
    writeClockOffset(file, DAY);
    expect(mode(file)).toBe(0o600);
    expect(readPlaygroundState(file)).toEqual({ signingSecret: "s", clockOffsetMs: DAY });
  });

  it.skipIf(uid !== 0)(
    "replaces a file someone else planted instead of writing through it, and refuses to read one",
    () => {
      const file = join(scratch(), "state.json");
      writeFileSync(file, JSON.stringify({ botUrl: "http://evil.example/" }), { mode: 0o666 });
      chownSync(file, OTHER_UID, OTHER_UID);
      expect(() => readPlaygroundState(file)).toThrow(`${file} is not a file of yours`);
      expect(() => readClockOffset(file)).toThrow(PlaygroundStateError);
      writePlaygroundState(file, { botUrl: "http://127.0.0.1:3000/slack/events" });
      expect(statSync(file).uid).toBe(uid);
      expect(mode(file)).toBe(0o600);
      expect(readPlaygroundState(file)).toEqual({ botUrl: "http://127.0.0.1:3000/slack/events" });
    },
  );
});

describe("the playground's schedule", () => {
  it("runs the job every minute, and at once on demand without doubling a run in progress", async () => {
    vi.useFakeTimers();
    let runs = 0;
    let release: () => void = () => {};
    const schedule = startSchedule(
      () =>
        new Promise<void>((resolve) => {
          runs += 1;
          release = resolve;
        }),
    );
    await vi.advanceTimersByTimeAsync(59_000);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(1);
    void schedule.now(); // still running: joined, not doubled
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    void schedule.now();
    expect(runs).toBe(2);
    release();
    schedule.stop();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(runs).toBe(2);
  });
});
