/**
 * zerodep's side of a case (what `check`, `analyze` and pack's safety net say) and the comparison with
 * what really happened. Nothing here decides an outcome: reality is the oracle.
 */
import { cliPath } from "../helpers/cli.js";
import { exec } from "./exec.js";

export interface Problem {
  code: string;
  severity: "error" | "warning" | "info";
  message: string;
  fix?: string;
}
export interface Need {
  kind: string;
  satisfied: boolean;
  strength: string;
  foundAt: string | null;
}
export interface Verdict {
  runnable: boolean;
  problems: Problem[];
  needs: Need[];
  /** For images: analyze's audit.entrypoint.runnable, and pack's safety net (exit 0 = would write). */
  analyze?: boolean | null;
  safetyNet?: boolean;
  raw: string;
}

const ZD = (args: string[]) =>
  exec([process.execPath, cliPath, ...args], {
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" },
    timeoutMs: 120_000,
  });

/** check's verdict. Exit 3 (the file cannot be read at all) counts as "will not run". */
export async function checkVerdict(args: string[]): Promise<Verdict> {
  const r = await ZD(["check", ...args, "--json"]);
  if (r.status === 3)
    return {
      runnable: false,
      problems: [{ code: "UNREADABLE(exit 3)", severity: "error", message: r.stderr.trim() }],
      needs: [],
      raw: r.stderr,
    };
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`check ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const o = JSON.parse(r.stdout.trim().split("\n")[0]!) as {
    runnable: boolean;
    problems?: Problem[];
    needs?: Need[];
  };
  if (typeof o.runnable !== "boolean") throw new Error(`check --json without runnable: ${r.stdout}`);
  if ((r.status === 0) !== o.runnable) throw new Error(`check exit ${r.status} but runnable ${o.runnable}`);
  return { runnable: o.runnable, problems: o.problems ?? [], needs: o.needs ?? [], raw: r.stdout };
}

/** analyze's entrypoint verdict (null when analyze could not say). */
export async function analyzeVerdict(image: string): Promise<{ runnable: boolean | null; detail: string }> {
  const r = await ZD(["analyze", image, "--json"]);
  if (r.status !== 0 && r.status !== 1)
    return { runnable: null, detail: `analyze exit ${r.status}: ${r.stderr.trim()}` };
  const o = JSON.parse(r.stdout) as {
    audit?: { entrypoint?: { runnable?: boolean | null; problems?: Problem[] } };
  };
  const e = o.audit?.entrypoint;
  return { runnable: e?.runnable ?? null, detail: JSON.stringify(e?.problems?.map((p) => p.code) ?? []) };
}

// ---------------------------------------------------------------------------------------------------
// Probe lines and comparison

/** Probe line name of each need kind (test/fixtures/src/probe). */
export const PROBE_LINE: Record<string, string> = {
  "ca-certificates": "ca",
  tzdata: "tz",
  passwd: "user",
  group: "group",
  hosts: "hosts",
  tmp: "tmp",
};

/** "probe <need> ok|fail …" lines → need → ok. */
export function probeLines(stdout: string): Map<string, boolean> {
  const m = new Map<string, boolean>();
  for (const l of stdout.split("\n")) {
    const x = /^probe (\S+) (ok|fail)\b/.exec(l.replace(/\r$/, ""));
    if (x) m.set(x[1]!, x[2] === "ok");
  }
  return m;
}

/** glibc quotes with `…', we with '…'; compare without that and without case. */
export const norm = (s: string) => s.replace(/`/g, "'").toLowerCase();

/** The strings a problem message quotes ("…"), without a leading "exec: ". */
export function quotes(message: string): string[] {
  return [...message.matchAll(/"([^"]+)"/g)].map((m) => m[1]!.replace(/^exec: /, ""));
}

export interface Disagreement {
  id: string;
  what: "verdict" | "analyze" | "safety-net" | "error-text" | "need" | "need-undetected";
  predicted: string;
  real: string;
  problems: string;
}
