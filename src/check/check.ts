import { arch as hostArch } from "node:os";
import type { Diagnostic } from "../diagnostic.js";
import { ParseError } from "../errors.js";
import { inspectSource } from "../inspect/inspect.js";
import type { InspectResult } from "../inspect/types.js";
import { type ByteSource, FileSource } from "../io/reader.js";
import { locationInRoot, openRoot } from "../resolve/deps.js";
import { DEP_CODES, type DepNode, type LibraryCache, resolveDeps } from "../resolve/resolve.js";
import { type RootFs, resolvePath } from "../resolve/root-fs.js";
import { type ConfirmedNeed, confirmNeedContents } from "./need-contents.js";
import { checkRuntimeNeeds, detectRuntimeNeeds, type NeedKind } from "./runtime-needs.js";

export const CHECK_SCHEMA_VERSION = 1;

/** MISSING_<NEED> for each run-time need kind (ca-certificates → MISSING_CA_CERTIFICATES). */
export const NEED_CODES = {
  "ca-certificates": "MISSING_CA_CERTIFICATES",
  tzdata: "MISSING_TZDATA",
  passwd: "MISSING_PASSWD",
  group: "MISSING_GROUP",
  nsswitch: "MISSING_NSSWITCH",
  hosts: "MISSING_HOSTS",
  "resolv-conf": "MISSING_RESOLV_CONF",
  "nss-modules": "MISSING_NSS_MODULES",
  gconv: "MISSING_GCONV",
  tmp: "MISSING_TMP",
} as const satisfies Record<NeedKind, string>;

/** Codes of check problems (README "check"): deps' codes, the verdict's own, and the run-time needs'. */
export const CHECK_CODES = [
  ...DEP_CODES,
  "LIBC_MISMATCH",
  "WRONG_ARCH",
  "WRONG_OS",
  "NOT_AN_EXECUTABLE",
  "NOT_EXECUTABLE",
  "NOT_A_PROGRAM",
  "MISSING_SCRIPT_INTERPRETER",
  "USER_UNKNOWN",
  "GROUP_UNKNOWN",
  "NO_ENTRYPOINT",
  "ENTRYPOINT_MISSING",
  "ENTRYPOINT_NOT_EXECUTABLE",
  "ENTRYPOINT_UNREADABLE",
  "PLATFORM_NOT_IN_INDEX",
  ...Object.values(NEED_CODES),
] as const;
export type CheckCode = (typeof CHECK_CODES)[number];

/**
 * A check problem. error: it will not run. warning: a feature will fail (an error with --strict).
 * info: may degrade.
 */
export type CheckProblem = Diagnostic<CheckCode> & { fix: string };

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

/** checkSource's options: where the program sits, and (internally) how deep in a #! chain it is. */
export type SourceOptions = CheckOptions & { location: string; scriptDepth?: number };

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
  needs: ConfirmedNeed[];
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

/** This machine's platform in OCI terms ("linux/amd64"): what `check` judges against by default. */
export function hostPlatform(): string {
  return `linux/${GOARCH[hostArch()] ?? hostArch()}`;
}

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
export async function checkSource(src: ByteSource, file: string, opts: SourceOptions): Promise<CheckResult> {
  const fs = opts.rootFs ?? openRoot(opts.root);
  const location = opts.location;
  const [tos, tarch] = (opts.platform ?? hostPlatform()).split("/");
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
    // The kernel refuses a file without execute permission before it looks at its contents.
    checkMode(fs, location, p);
    if (info.format === "unknown") {
      await checkScript(src, fs, p, opts, res.target.arch);
    } else if (info.format !== "elf" || (info.os !== null && info.os !== "linux")) {
      p.push({
        code: "WRONG_OS",
        severity: "error",
        message: `${info.os ?? info.format} binary: Linux cannot execute it ("exec format error")`,
        fix: `build for linux/${res.target.arch} (GOOS=linux for Go)`,
      });
    } else {
      checkArch(info, res.target.arch, p, languageOf(info));
      if (info.elf?.type === "DYN" && info.linkage === "shared-library") {
        p.push({
          code: "NOT_AN_EXECUTABLE",
          severity: "error",
          message: "a shared library, not a program",
          fix: "check the program that loads it",
        });
      }
      // A binary the CPU cannot execute never reaches its loader: its libraries are beside the point.
      const foreign = p.some((q) => q.code === "WRONG_ARCH" && q.severity === "error");
      const d = foreign
        ? null
        : await resolveDeps(src, {
            root: fs,
            location,
            ldLibraryPath: opts.env?.LD_LIBRARY_PATH,
            hwcaps: opts.hwcaps,
            cache: opts.cache,
          });
      res.deps = d?.tree ?? null;
      for (const q of d?.problems ?? []) p.push({ ...q, ...explainInterpreter(q.code, info, fs) });
      // One cause, one problem: without its loader nothing else is even attempted by the kernel.
      const loaderFails = new Set([
        "MISSING_INTERPRETER",
        "LIBC_MISMATCH",
        "INVALID_INTERPRETER",
        "WRONG_ARCH_INTERPRETER",
        "INTERPRETER_NOT_EXECUTABLE",
      ]);
      if (p.some((q) => loaderFails.has(q.code))) {
        for (let i = p.length - 1; i >= 0; i--)
          if (p[i]!.code === "MISSING_LIBRARY" || p[i]!.code === "MISSING_SYMBOL_VERSION") p.splice(i, 1);
      }
      const needs = await detectRuntimeNeeds(src);
      res.needs = await confirmNeedContents(fs, checkRuntimeNeeds(fs, needs, opts.env ?? {}), opts.env ?? {});
      for (const n of res.needs) {
        if (n.satisfied) continue;
        p.push({
          code: NEED_CODES[n.kind],
          severity: n.strength === "hard" ? "warning" : "info",
          message: n.uselessAt
            ? `${brief(n.evidence, 2)}: ${n.uselessAt} in ${fs.description}, and nothing else the program reads does`
            : `${brief(n.evidence, 2)}: none of ${brief(n.paths, 3)}${n.env.length ? ` (nor $${n.env.join("/$")})` : ""} in ${fs.description}`,
          fix: n.fix,
        });
      }
    }
    if (opts.strict) for (const q of p) if (q.severity === "warning") q.severity = "error";
    res.runnable = !p.some((q) => q.severity === "error");
    return res;
  }
}

type Language = "go" | "rust" | "c";

/** What built the program, for fixes in its own terms (no CGO_ENABLED advice for a C program). */
function languageOf(info: InspectResult): Language {
  if (info.go) return "go";
  if (info.toolchain.some((t) => t.startsWith("rustc"))) return "rust";
  return "c";
}

const STATIC_FIX: Record<Language, string> = {
  go: "build with CGO_ENABLED=0 for a static binary",
  rust: "build for the musl target (cargo build --target x86_64-unknown-linux-musl) for a static binary",
  c: "link statically (gcc -static, or musl-gcc -static)",
};

function checkArch(info: InspectResult, target: string, p: CheckProblem[], lang: Language): void {
  if (info.arch === null || info.arch === target) return;
  const compat = COMPAT[target]?.includes(info.arch) ?? false;
  p.push({
    code: "WRONG_ARCH",
    severity: compat ? "warning" : "error",
    message: compat
      ? `${info.arch} binary on the ${target} target: runs only if the kernel has ${info.arch} compatibility enabled`
      : `${info.arch} binary on the ${target} target (no emulation counted): "exec format error"`,
    fix: `${lang === "go" ? `build with GOARCH=${target}` : lang === "rust" ? `build for the ${target} target (cargo build --target …)` : `cross-compile for ${target}`}, or pass --platform for the real target`,
  });
}

/** The scratch/Alpine "no such file or directory" has two classic causes worth naming. */
function explainInterpreter(code: string, info: InspectResult, fs: RootFs): Partial<CheckProblem> {
  if (code !== "MISSING_INTERPRETER") return {};
  const rootLibc = detectRootLibc(fs);
  const lang = languageOf(info);
  if (info.libc === "glibc" && rootLibc === "musl") {
    return {
      code: "LIBC_MISMATCH",
      message: `glibc binary on a musl root: interpreter ${info.interpreter} is missing, exec fails with "no such file or directory"`,
      fix: `use a glibc base (debian, distroless/base), or ${STATIC_FIX[lang]}`,
    };
  }
  if (info.libc === "musl" && rootLibc === "glibc") {
    return {
      code: "LIBC_MISMATCH",
      message: `musl binary on a glibc root: interpreter ${info.interpreter} is missing, exec fails with "no such file or directory"`,
      fix: `use a musl base (alpine), add musl's loader, or ${STATIC_FIX[lang]}`,
    };
  }
  if (info.needed.length === 0 && info.go) {
    return {
      fix: "drop -buildmode=pie (or link a real static PIE: -ldflags='-linkmode=external -extldflags=-static-pie'), or ship the loader",
      message: `Go binary with an interpreter (${info.interpreter}) but no libraries — the -buildmode=pie trap — and ${fs.description} has no such loader: exec fails with "no such file or directory"`,
    };
  }
  return {
    fix: `${STATIC_FIX[lang]}, use a base image that has ${info.interpreter}, or pack with --bundle-libs`,
  };
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

/** Linux runs an interpreter chain of at most this many scripts (fs/exec.c, bprm->depth). */
const MAX_SCRIPT_DEPTH = 4;
/** The kernel reads the #! line from the first BINPRM_BUF_SIZE bytes. */
const BINPRM_BUF_SIZE = 256;

/**
 * A script, as fs/binfmt_script.c starts it: `#!`, optional blanks, the interpreter up to the next
 * blank (only space and tab separate: a CRLF line names "/bin/sh\r"), which must be an executable
 * file of the root that itself runs there — an ELF program judged by the same rules, or another script.
 * `#!/usr/bin/env NAME` also needs NAME along PATH.
 */
async function checkScript(
  src: ByteSource,
  fs: RootFs,
  p: CheckProblem[],
  opts: SourceOptions,
  targetArch: string,
): Promise<void> {
  const head = await src.read(0, Math.min(src.size, BINPRM_BUF_SIZE));
  if (head[0] !== 0x23 || head[1] !== 0x21) {
    p.push({
      code: "NOT_A_PROGRAM",
      severity: "error",
      message: 'neither an executable format nor a #! script: exec fails with "exec format error"',
      fix: "point the entrypoint at a binary",
    });
    return;
  }
  const nl = head.indexOf(0x0a);
  const line = new TextDecoder().decode(head.subarray(2, nl < 0 ? head.length : nl));
  const m = /^[ \t]*([^ \t\0]*)[ \t]*([^\0]*?)[ \t]*$/.exec(line);
  const interp = m?.[1] ?? "";
  const arg = (m?.[2] ?? "").split(/[ \t]/)[0] ?? "";
  // A full buffer without a line end whose interpreter name runs to its end was cut: ENOEXEC.
  const cut =
    nl < 0 && head.length === BINPRM_BUF_SIZE && !head.includes(0) && arg === "" && !/[ \t]$/.test(line);
  if (interp === "" || cut) {
    p.push({
      code: "NOT_A_PROGRAM",
      severity: "error",
      message: `the #! line names no interpreter${interp === "" ? "" : " within its first 256 bytes"}: exec fails with "exec format error"`,
      fix: "start the script with #!/path/to/interpreter",
    });
    return;
  }
  const depth = opts.scriptDepth ?? 1;
  const shown = JSON.stringify(interp).slice(1, -1);
  const r = resolvePath(fs, interp.startsWith("/") ? interp : `/${interp}`);
  if (!r.ok || r.stat.kind === "other") {
    p.push({
      code: "MISSING_SCRIPT_INTERPRETER",
      severity: "error",
      message: `script interpreter ${shown} is missing in ${fs.description}: exec fails with "no such file or directory"${interp.endsWith("\r") ? " (the #! line ends in CRLF)" : ""}`,
      fix: interp.endsWith("\r")
        ? "convert the script to LF line endings (dos2unix)"
        : "ship the interpreter, or use a compiled binary",
    });
    return;
  }
  if (r.stat.kind === "dir" || (r.stat.mode & 0o111) === 0) {
    p.push({
      code: "MISSING_SCRIPT_INTERPRETER",
      severity: "error",
      message: `script interpreter ${shown} is ${r.stat.kind === "dir" ? "a directory" : "not executable"}: exec fails with "permission denied"`,
      fix: `chmod 755 ${r.path}`,
    });
    return;
  }
  if (depth >= MAX_SCRIPT_DEPTH) {
    p.push({
      code: "NOT_A_PROGRAM",
      severity: "error",
      message: `more than ${MAX_SCRIPT_DEPTH} nested #! interpreters: exec fails with "too many levels of symbolic links"`,
      fix: "point the #! line at a binary",
    });
    return;
  }
  let inner: CheckResult;
  try {
    inner = await checkSource(fs.open(r.path), r.path, {
      ...opts,
      location: r.path,
      platform: `linux/${targetArch}`,
      strict: false,
      scriptDepth: depth + 1,
    });
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    p.push({
      code: "MISSING_SCRIPT_INTERPRETER",
      severity: "error",
      message: `script interpreter ${r.path} is not a valid program (${err.message}): exec fails with "exec format error"`,
      fix: "replace the interpreter with a complete binary",
    });
    return;
  }
  for (const q of inner.problems)
    if (q.severity === "error") p.push({ ...q, message: `script interpreter ${r.path}: ${q.message}` });
  if (inner.problems.some((q) => q.severity === "error")) return;
  // env(1) then looks NAME up along PATH itself ("env: 'NAME': No such file or directory").
  if (/(^|\/)env$/.test(r.path) && arg !== "" && !arg.startsWith("-") && !arg.includes("/")) {
    const path = opts.env?.["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    const found = path
      .split(":")
      .filter((d) => d.startsWith("/"))
      .some((d) => {
        const c = resolvePath(fs, `${d}/${arg}`);
        return c.ok && c.stat.kind !== "dir" && (c.stat.mode & 0o111) !== 0;
      });
    if (!found) {
      p.push({
        code: "MISSING_SCRIPT_INTERPRETER",
        severity: "error",
        message: `#!${interp} ${arg}: no ${arg} along PATH ${path} in ${fs.description}: env fails with "No such file or directory"`,
        fix: `ship ${arg} in a PATH directory, or name its absolute path in the #! line`,
      });
    }
  }
}

function brief(list: string[], n: number): string {
  return list.length <= n ? list.join(", ") : `${list.slice(0, n).join(", ")} (+${list.length - n} more)`;
}
