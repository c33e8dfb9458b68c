import { arch as hostArch } from "node:os";
import { ParseError } from "../errors.js";
import { inspectSource } from "../inspect/inspect.js";
import type { InspectResult } from "../inspect/types.js";
import { type ByteSource, FileSource } from "../io/reader.js";
import { locationInRoot, openRoot } from "../resolve/deps.js";
import { type DepNode, type LibraryCache, resolveDeps } from "../resolve/resolve.js";
import { type RootFs, resolvePath } from "../resolve/root-fs.js";
import { checkRuntimeNeeds, detectRuntimeNeeds, type NeedStatus } from "./runtime-needs.js";

export const CHECK_SCHEMA_VERSION = 1;

export interface CheckProblem {
  /** Stable code (README "check problem codes"). */
  code: string;
  /** error: it will not run. warning: a feature will fail (an error with --strict). info: may degrade. */
  severity: "error" | "warning" | "info";
  message: string;
  fix: string;
}

export interface CheckOptions {
  /** Host directory used as the root, or "scratch" (default "/"). */
  root?: string;
  /** A root given directly (an image's file tree); takes precedence over `root`. */
  rootFs?: RootFs;
  /** In-root path of the binary. */
  location?: string;
  /** Target environment (LD_LIBRARY_PATH, SSL_CERT_FILE, ZONEINFO … as set in the image). */
  env?: Record<string, string>;
  /** Runtime-file needs become errors. */
  strict?: boolean;
  /** Target platform "os/arch[/variant]"; default the host's. */
  platform?: string;
  hwcaps?: string[];
  cache?: LibraryCache;
}

export interface CheckResult {
  schemaVersion: 1;
  path: string;
  root: string;
  location: string;
  /** The verdict: no error-severity problem (with strict: no warning either). */
  runnable: boolean;
  platform: { os: string | null; arch: string | null; variant: string | null };
  target: { os: string; arch: string };
  problems: CheckProblem[];
  needs: NeedStatus[];
  deps: DepNode | null;
}

const GOARCH: Record<string, string> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

/** Pairs a 64-bit kernel usually also runs (with its 32-bit compat layer enabled). */
const COMPAT: Record<string, string[]> = { amd64: ["386"], arm64: ["arm"] };

/**
 * `zerodep check`: will this binary run in that root? Every problem found, each with a stable code,
 * a message that quotes the error the program would hit, and the fix. Throws IoError/ParseError when
 * the binary itself cannot be read.
 */
export async function check(file: string, opts: CheckOptions = {}): Promise<CheckResult> {
  const location = opts.location ?? locationInRoot(file, opts.root);
  const src = FileSource.open(file);
  try {
    return await checkSource(src, file, { ...opts, location });
  } finally {
    src.closeNow();
  }
}

/**
 * check() over bytes from any ByteSource — an entrypoint read from an image's layers, judged against
 * that image's own file tree (`rootFs`). `name` is used in messages and as `path` in the result.
 */
export async function checkSource(
  src: ByteSource,
  file: string,
  opts: CheckOptions & { location: string },
): Promise<CheckResult> {
  const fs = opts.rootFs ?? openRoot(opts.root);
  const location = opts.location;
  const [tos, tarch] = (opts.platform ?? `linux/${GOARCH[hostArch()] ?? hostArch()}`).split("/");
  {
    const info = await inspectSource(src, file);
    if (info.error) throw new ParseError(info.errorCode ?? "PARSE", info.error);
    const res: CheckResult = {
      schemaVersion: 1,
      path: file,
      root: fs.description,
      location,
      runnable: true,
      platform: { os: info.os, arch: info.arch, variant: info.variant },
      target: { os: tos ?? "linux", arch: tarch ?? "amd64" },
      problems: [],
      needs: [],
      deps: null,
    };
    const p = res.problems;
    if (info.format === "unknown") {
      await checkScript(src, fs, p);
    } else if (info.format !== "elf" || (info.os !== null && info.os !== "linux")) {
      p.push({
        code: "WRONG_OS",
        severity: "error",
        message: `${info.os ?? info.format} binary: Linux cannot execute it ("exec format error")`,
        fix: `build for linux/${res.target.arch} (GOOS=linux for Go)`,
      });
    } else {
      checkArch(info, res.target.arch, p);
      if (info.elf?.type === "DYN" && info.linkage === "shared-library") {
        p.push({
          code: "NOT_AN_EXECUTABLE",
          severity: "error",
          message: "a shared library, not a program",
          fix: "check the program that loads it",
        });
      }
      const d = await resolveDeps(src, {
        root: fs,
        location,
        ldLibraryPath: opts.env?.LD_LIBRARY_PATH,
        hwcaps: opts.hwcaps,
        cache: opts.cache,
      });
      res.deps = d.tree;
      for (const q of d.problems) p.push({ ...q, ...explainInterpreter(q.code, info, fs) });
      const needs = await detectRuntimeNeeds(src);
      res.needs = checkRuntimeNeeds(fs, needs, opts.env ?? {});
      for (const n of res.needs) {
        if (n.satisfied) continue;
        p.push({
          code: `MISSING_${n.kind.toUpperCase().replace(/-/g, "_")}`,
          severity: n.strength === "hard" ? "warning" : "info",
          message: `${brief(n.evidence, 2)}: none of ${brief(n.paths, 3)}${n.env.length ? ` (nor $${n.env.join("/$")})` : ""} in ${fs.description}`,
          fix: n.fix,
        });
      }
    }
    checkMode(fs, location, p);
    if (opts.strict) for (const q of p) if (q.severity === "warning") q.severity = "error";
    res.runnable = !p.some((q) => q.severity === "error");
    return res;
  }
}

function checkArch(info: InspectResult, target: string, p: CheckProblem[]): void {
  if (info.arch === null || info.arch === target) return;
  const compat = COMPAT[target]?.includes(info.arch) ?? false;
  p.push({
    code: "WRONG_ARCH",
    severity: compat ? "warning" : "error",
    message: compat
      ? `${info.arch} binary on a ${target} target: runs only if the kernel has ${info.arch} compatibility enabled`
      : `${info.arch} binary on a ${target} target: "exec format error"`,
    fix: `build for ${target} (GOARCH=${target}), or pass --platform for the real target`,
  });
}

/** The scratch/Alpine "no such file or directory" has two classic causes worth naming. */
function explainInterpreter(code: string, info: InspectResult, fs: RootFs): Partial<CheckProblem> {
  if (code !== "MISSING_INTERPRETER") return {};
  const rootLibc = detectRootLibc(fs);
  if (info.libc === "glibc" && rootLibc === "musl") {
    return {
      code: "LIBC_MISMATCH",
      message: `glibc binary on a musl root: interpreter ${info.interpreter} is missing, exec fails with "no such file or directory"`,
      fix: "use a glibc base (debian, distroless/base), build against musl, or link statically",
    };
  }
  if (info.libc === "musl" && rootLibc === "glibc") {
    return {
      code: "LIBC_MISMATCH",
      message: `musl binary on a glibc root: interpreter ${info.interpreter} is missing, exec fails with "no such file or directory"`,
      fix: "use a musl base (alpine), link statically, or add musl's loader",
    };
  }
  if (info.needed.length === 0 && info.go) {
    return {
      message: `Go binary with an interpreter (${info.interpreter}) but no libraries — the -buildmode=pie trap — and ${fs.description} has no such loader: exec fails with "no such file or directory"`,
    };
  }
  return {};
}

function detectRootLibc(fs: RootFs): "glibc" | "musl" | null {
  const lib =
    fs.readdir(resolvePath(fs, "/lib").ok ? (resolvePath(fs, "/lib") as { path: string }).path : "/lib") ??
    [];
  if (lib.some((n) => n.startsWith("ld-musl-"))) return "musl";
  for (const d of ["/lib64", "/lib"]) {
    const r = resolvePath(fs, d);
    if (r.ok && (fs.readdir(r.path) ?? []).some((n) => n.startsWith("ld-linux"))) return "glibc";
  }
  return null;
}

function checkMode(fs: RootFs, location: string, p: CheckProblem[]): void {
  const r = resolvePath(fs, location);
  if (!r.ok || r.stat.kind !== "file") return; // not placed in the root: pack sets the mode
  if ((r.stat.mode & 0o111) === 0) {
    p.push({
      code: "NOT_EXECUTABLE",
      severity: "error",
      message: `${location} has mode ${r.stat.mode.toString(8)}: exec fails with "permission denied"`,
      fix: `chmod 755 ${location}`,
    });
  }
}

/** A script: its #! interpreter must exist in the root. */
async function checkScript(src: ByteSource, fs: RootFs, p: CheckProblem[]): Promise<void> {
  const head = new TextDecoder().decode(await src.read(0, Math.min(src.size, 256)));
  const m = /^#!\s*(\S+)/.exec(head);
  if (!m) {
    p.push({
      code: "NOT_A_PROGRAM",
      severity: "error",
      message: 'neither an executable format nor a #! script: exec fails with "exec format error"',
      fix: "point the entrypoint at a binary",
    });
    return;
  }
  const r = resolvePath(fs, m[1]!);
  if (!r.ok || r.stat.kind !== "file") {
    p.push({
      code: "MISSING_SCRIPT_INTERPRETER",
      severity: "error",
      message: `script interpreter ${m[1]} is missing in ${fs.description}: exec fails with "no such file or directory"`,
      fix: "ship the interpreter, or use a compiled binary",
    });
  }
}

function brief(list: string[], n: number): string {
  return list.length <= n ? list.join(", ") : `${list.slice(0, n).join(", ")} (+${list.length - n} more)`;
}
