import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ZerodepError } from "../errors.js";
import type { BuildCode } from "./codes.js";

/** What a toolchain command printed, and how it ended. */
export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Output kept per stream: a compiler that prints megabytes must not grow the process. */
const MAX_OUTPUT = 8 << 20;

/**
 * Runs a toolchain command (go, cargo, git, rustc …) with an explicit environment, capturing its output
 * (bounded). A command that is not installed is TOOLCHAIN_MISSING with the fix; everything else is
 * returned for the caller to judge. Never used on the binaries being inspected: only on the user's own
 * toolchain and source (the build is what the user asked for).
 */
export function runTool(
  argv: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; signal?: AbortSignal; input?: string },
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env as NodeJS.ProcessEnv,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout!.on("data", (b: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(b);
      outLen += b.length;
    });
    child.stderr!.on("data", (b: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(b);
      errLen += b.length;
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT")
        reject(
          new ZerodepError(
            "TOOLCHAIN_MISSING" satisfies BuildCode,
            `${argv[0]}: not found on PATH (install it, or put it on PATH)`,
          ),
        );
      else reject(e);
    });
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/**
 * A compiler's error output cut to what the user needs on one screen: the first `lines` lines that say
 * something (progress lines like "# pkg" and cargo's "Compiling x" are dropped), joined with "; ".
 */
export function shortenCompilerOutput(text: string, lines = 3): string {
  const keep = text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(
      (l) =>
        l.trim() !== "" &&
        !/^\s*(Compiling|Downloaded|Downloading|Updating|Locking|Adding|Blocking|Finished|Running)\b/.test(l),
    )
    .filter((l) => !/^# /.test(l) && !/^note: /.test(l));
  const head = keep.slice(0, lines).map((l) => l.trim());
  return `${head.join("; ")}${keep.length > lines ? ` (+${keep.length - lines} more lines)` : ""}`;
}

/** The command as a shell would show it (for logs and --json). */
export function showCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Whether a command is a file in one of the directories of the environment's PATH (nothing is run). */
export function onPath(cmd: string, env: Record<string, string | undefined>): boolean {
  for (const d of (env.PATH ?? "").split(delimiter))
    if (d)
      try {
        if (statSync(join(d, cmd)).isFile()) return true;
      } catch {}
  return false;
}
