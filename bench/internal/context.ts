// What every suite needs to know, gathered once by bench/run.ts (the only bench file that reads the
// process: argv, env, exit code), so suites take explicit options like the rest of the project.
import type { Timing } from "./measure.js";
import type { Cell } from "./table.js";

export interface BenchContext {
  /** Repository root (the directory holding package.json). */
  repoRoot: string;
  /** bench/out/ under the repository root (gitignored); scratch files and results.json go here. */
  outDir: string;
  /** argv prefix that runs the built CLI: [node, dist/src/cli/main.js]. */
  zerodep: string[];
  /** Timed runs per command (after one warm-up run). */
  runs: number;
  /** Per-run time limit; a run that reaches it is killed and flagged. */
  timeoutMs: number;
  /** Environment for the children (and PATH, to find the anchor tools). */
  env: NodeJS.ProcessEnv;
  /** Progress and skip messages (stderr). */
  log: (message: string) => void;
}

/** A table to print plus the structured data that goes into results.json. */
export interface SuiteReport {
  name: "scan" | "inspect" | "memory" | "deps" | "pack" | "analyze" | "registry" | "build";
  title: string;
  header: string[];
  rows: Cell[][];
  /** Lines printed under the table: targets, scaling caveats, sanity checks. */
  notes: string[];
  /** Comparisons that could not run, with why (also printed loudly). */
  skipped: string[];
  data: Record<string, unknown>;
}

/** A loud, unmissable skip message, printed to stderr when it happens and repeated under the table. */
export function skipMessage(what: string, tool: string, hint: string): string {
  return `SKIPPED ${what}: ${tool} not found on PATH (${hint})`;
}

/** Loud notes for a timing whose runs were killed at the limit or failed, else nothing. */
export function timingProblems(t: Timing): string[] {
  const out: string[] = [];
  if (t.timeouts > 0)
    out.push(
      `!!! ${t.label}: ${t.timeouts} run(s) killed at the time limit: its median is not a measurement`,
    );
  else if (t.exitCode !== 0)
    out.push(`${t.label} exited ${t.exitCode}${t.stderrHead ? `: ${t.stderrHead}` : ""}`);
  return out;
}

/** "met" / "NOT met", or "not judged" when a run of either side was killed at the time limit. */
export function verdict(met: boolean, ...timings: Timing[]): string {
  if (timings.some((t) => t.timeouts > 0)) return "not judged: runs timed out";
  return met ? "met" : "NOT met";
}
