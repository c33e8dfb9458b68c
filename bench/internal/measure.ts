// Process timing for the benchmark: spawn a command, wait for it, read the wall clock. Each timed run
// pays process start-up, exactly as a user typing the command would; nothing runs through a shell
// unless the compared command is itself a shell loop.
import { spawnSync } from "node:child_process";
import { accessSync, closeSync, constants, openSync } from "node:fs";
import { delimiter, join } from "node:path";

/** One command to time: argv[0] is looked up on PATH by the OS. */
export interface Command {
  /** Short label for tables and results.json. */
  label: string;
  argv: string[];
  /** Environment for the child (undefined: inherit the runner's). */
  env?: NodeJS.ProcessEnv;
}

/** Wall times of the timed runs, in milliseconds, plus what the runs said about themselves. */
export interface Timing {
  label: string;
  /** The command line, for the record (argument lists longer than a few entries are elided). */
  commandLine: string;
  runsMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Exit status of the last timed run (non-zero is recorded, not fatal: see notes). */
  exitCode: number | null;
  /** First line of the last run's standard error, when it wrote any. */
  stderrHead: string | null;
  /** Runs (warm-up included) killed at the time limit; their time is the limit, so the median lies. */
  timeouts: number;
}

export interface TimeOptions {
  /** Timed runs after the warm-up run; the median is reported. */
  runs: number;
  /** Where the warm-up run's standard output goes (a file path), so its output can be checked. */
  warmupStdoutPath?: string;
  /** Kill a run after this long (a hung child must not hang the whole benchmark). */
  timeoutMs: number;
}

/** What one run of a command did. */
export interface RunResult {
  ms: number;
  exitCode: number | null;
  stderr: string;
  timedOut: boolean;
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs a command once with stdout sent to `stdoutPath` (default /dev/null). */
export function runOnce(cmd: Command, timeoutMs: number, stdoutPath = "/dev/null"): RunResult {
  const out = openSync(stdoutPath, "w");
  try {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd.argv[0]!, cmd.argv.slice(1), {
      stdio: ["ignore", out, "pipe"],
      env: cmd.env,
      maxBuffer: 256 * 1024 * 1024,
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
    if (r.error && !timedOut) {
      throw new Error(`bench: cannot run ${cmd.argv[0]}: ${r.error.message}`, { cause: r.error });
    }
    return { ms, exitCode: r.status, stderr: r.stderr?.toString("utf8") ?? "", timedOut };
  } finally {
    closeSync(out);
  }
}

/** One untimed warm-up run (fills the page cache), then `runs` timed runs; reports the median. */
export function timeCommand(cmd: Command, opts: TimeOptions): Timing {
  return timeInterleaved([cmd], { ...opts, warmupStdoutPaths: [opts.warmupStdoutPath] }).timings[0]!;
}

/**
 * Times several commands in alternation: one warm-up run of each, then `runs` rounds that run every
 * command once, in order. On a machine whose speed drifts from minute to minute (a shared VM), the
 * commands of one round see the same conditions, so `ratioMedian` (the median over rounds of
 * first ÷ second) is steadier than a ratio of medians taken minutes apart.
 */
export function timeInterleaved(
  cmds: Command[],
  opts: TimeOptions & { warmupStdoutPaths?: (string | undefined)[] },
): { timings: Timing[]; ratioMedian: number | null; ratios: number[] } {
  const timeouts = cmds.map((c, i) =>
    runOnce(c, opts.timeoutMs, opts.warmupStdoutPaths?.[i]).timedOut ? 1 : 0,
  );
  const runs: number[][] = cmds.map(() => []);
  const last: (RunResult | undefined)[] = cmds.map(() => undefined);
  for (let r = 0; r < opts.runs; r++) {
    cmds.forEach((c, i) => {
      const res = runOnce(c, opts.timeoutMs);
      runs[i]!.push(res.ms);
      last[i] = res;
      if (res.timedOut) timeouts[i]!++;
    });
  }
  const timings = cmds.map((c, i) => {
    const ms = runs[i]!;
    return {
      label: c.label,
      commandLine: describeArgv(c.argv),
      runsMs: ms.map(round1),
      medianMs: round1(median(ms)),
      minMs: round1(Math.min(...ms)),
      maxMs: round1(Math.max(...ms)),
      exitCode: last[i]?.exitCode ?? null,
      stderrHead: last[i]?.stderr.split("\n").find((l) => l.trim() !== "") ?? null,
      timeouts: timeouts[i]!,
    };
  });
  const ratios = cmds.length >= 2 ? runs[0]!.map((a, k) => a / runs[1]![k]!) : [];
  return {
    timings,
    ratios: ratios.map((x) => Math.round(x * 1000) / 1000),
    ratioMedian: ratios.length > 0 ? median(ratios) : null,
  };
}

/** Absolute path of an executable found on PATH (or given as a path), or null. */
export function findTool(name: string, pathEnv: string | undefined): string | null {
  const candidates = name.includes("/") ? [name] : (pathEnv ?? "").split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** First line of `tool --version`-style output, for the record. */
export function toolVersion(argv: string[]): string | null {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  if (r.error) return null;
  const line = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.split("\n").find((l) => l.trim() !== "");
  return line?.trim() ?? null;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function describeArgv(argv: string[]): string {
  const shown = argv.length > 12 ? [...argv.slice(0, 10), `… (${argv.length - 10} more)`] : argv;
  return shown.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}
