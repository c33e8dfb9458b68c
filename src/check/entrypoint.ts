import { ZerodepError } from "../errors.js";
import type { ImageConfig } from "../oci/types.js";
import { type RootFs, resolvePath } from "../resolve/root-fs.js";
import { type CheckProblem, type CheckResult, checkSource } from "./check.js";

/**
 * The one decision "will this image's entrypoint start?", made the way the container runtime makes it
 * (podman resolving the user, runc looking the program up and exec'ing it, then the kernel and the
 * loader). `check IMAGE`, `analyze` and pack's safety net all call judgeEntrypoint and only report
 * its answer, so the three can never disagree about the same image and target.
 */

/** The parts of an image config the runtime reads to start the process. */
export interface RuntimeConfig {
  user: string | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  workingDir: string | null;
}

/** The runtime fields of an image config, as the runtime reads them (wrong types count as unset). */
export function runtimeConfigOf(config: ImageConfig): RuntimeConfig {
  const c = config.config ?? {};
  const strList = (v: unknown): string[] | null =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : null;
  return {
    user: typeof c.User === "string" && c.User !== "" ? c.User : null,
    entrypoint: strList(c.Entrypoint),
    cmd: strList(c.Cmd),
    env: strList(c.Env) ?? [],
    workingDir: typeof c.WorkingDir === "string" && c.WorkingDir !== "" ? c.WorkingDir : null,
  };
}

/** config.User resolved against the image's own /etc/passwd and /etc/group. */
export interface RuntimeUser {
  configured: string | null;
  /** null when the user cannot be resolved (the container does not start). */
  uid: number | null;
  gid: number | null;
  name: string | null;
  root: boolean;
}

export interface EntrypointVerdict {
  /** Entrypoint + Cmd as the runtime would start them. */
  argv: string[];
  program: string | null;
  /** In-root path of the program after PATH lookup and symlinks; null when not found. */
  resolved: string | null;
  user: RuntimeUser;
  /** The image's Env as a map, with the caller's additions. */
  env: Record<string, string>;
  /** Every problem, most fundamental first; one cause gives one problem. */
  problems: CheckProblem[];
  runnable: boolean;
  /** check's full answer for the program, when it was found and could be judged. */
  programCheck: CheckResult | null;
}

export interface JudgeOptions {
  /** Target platform "os/arch[/variant]" (the image's own for pack and analyze, --platform or this machine for check). */
  platform: string;
  /** Added over the image's Env (what `podman run -e` adds). */
  env?: Record<string, string>;
  /** Runtime-file needs become errors. */
  strict?: boolean;
  /** Names the image in messages and in CheckResult.path ("IMAGE:/app/x"). */
  name: string;
}

/** The PATH podman puts in a container whose image sets none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export async function judgeEntrypoint(
  fs: RootFs,
  config: RuntimeConfig,
  opts: JudgeOptions,
): Promise<EntrypointVerdict> {
  const env = { ...envMapOf(config.env), ...opts.env };
  const argv = [...(config.entrypoint ?? []), ...(config.cmd ?? [])];
  const program = argv[0] ?? null;
  const user = await resolveUser(config.user, fs);
  const v: EntrypointVerdict = {
    argv,
    program,
    resolved: null,
    user: user.info,
    env,
    problems: [],
    runnable: false,
    programCheck: null,
  };
  // podman resolves the user before anything else: an unknown name stops the container first.
  if (user.problem) {
    v.problems.push(user.problem);
    return v;
  }
  if (program === null) {
    v.problems.push(noEntrypointProblem());
    return v;
  }
  const found = lookupProgram(fs, program, env, config.workingDir);
  if (!found.ok) {
    v.problems.push(found.problem);
    return v;
  }
  v.resolved = found.path;
  const denied = execDenied(fs, found.path, user.info);
  if (denied) {
    v.problems.push(denied);
    return v;
  }
  try {
    const r = await checkSource(fs.open(found.path), `${opts.name}:${found.path}`, {
      rootFs: fs,
      location: found.path,
      env,
      platform: opts.platform,
      strict: opts.strict === true,
    });
    v.programCheck = r;
    v.problems.push(...r.problems);
  } catch (err) {
    if (!(err instanceof ZerodepError)) throw err;
    v.problems.push({
      code: "ENTRYPOINT_UNREADABLE",
      severity: "error",
      message: `${found.path}: ${err.message}`,
      fix: "rebuild the image with a complete, valid program",
    });
  }
  v.runnable = !v.problems.some((p) => p.severity === "error");
  return v;
}

/** The image's Env list as a map (later entries win, as runtimes apply them). */
export function envMapOf(list: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

type Lookup = { ok: true; path: string } | { ok: false; problem: CheckProblem };

/**
 * runc's lookup (Go's exec.LookPath inside the container): a name with a slash is taken as it is
 * (relative to the working directory) and must be a non-directory with an execute bit; a bare name is
 * searched along the container's PATH, skipping candidates that are directories or have no execute bit.
 */
function lookupProgram(
  fs: RootFs,
  program: string,
  env: Record<string, string>,
  workingDir: string | null,
): Lookup {
  const path = env["PATH"] ?? DEFAULT_PATH;
  if (program.includes("/")) {
    const abs = program.startsWith("/") ? program : `${workingDir || "/"}/${program}`;
    const r = resolvePath(fs, abs);
    if (!r.ok) return { ok: false, problem: entrypointMissingProblem(program, env, r.reason) };
    if (r.stat.kind === "dir" || (r.stat.mode & 0o111) === 0) {
      return {
        ok: false,
        problem: {
          code: "ENTRYPOINT_NOT_EXECUTABLE",
          severity: "error",
          message: `${program}${r.path !== abs ? ` (${r.path})` : ""} is ${r.stat.kind === "dir" ? "a directory" : `mode ${r.stat.mode.toString(8)}, with no execute bit`}: the runtime fails with "permission denied"`,
          fix: r.stat.kind === "dir" ? "point ENTRYPOINT at the program itself" : `chmod 755 ${r.path}`,
        },
      };
    }
    return { ok: true, path: r.path };
  }
  for (const dir of path.split(":")) {
    // Go's LookPath treats an empty element as "."; runc refuses a relative result (ErrDot).
    if (!dir.startsWith("/")) continue;
    const r = resolvePath(fs, `${dir}/${program}`);
    if (r.ok && r.stat.kind !== "dir" && (r.stat.mode & 0o111) !== 0) return { ok: true, path: r.path };
  }
  return { ok: false, problem: entrypointMissingProblem(program, env) };
}

/** Whether the runtime user may search every directory on the way and execute the program. */
function execDenied(fs: RootFs, path: string, user: RuntimeUser): CheckProblem | null {
  if (user.uid === null) return null;
  const parts = path.split("/").filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const p = `/${parts.slice(0, i + 1).join("/")}`;
    const st = fs.lstat(p);
    if (!st) return null;
    const last = i === parts.length - 1;
    if (!canAccess(st, user.uid, user.gid, 1)) {
      return {
        code: "ENTRYPOINT_NOT_EXECUTABLE",
        severity: "error",
        message: `${last ? p : `directory ${p}`} (mode ${st.mode.toString(8)}, owner ${st.uid}:${st.gid}) is not ${last ? "executable" : "searchable"} by the runtime user ${user.uid}:${user.gid}: exec fails with "permission denied"`,
        fix: last ? `chmod 755 ${p}` : `chmod 755 ${p} (or run as its owner)`,
      };
    }
  }
  return null;
}

/** Whether uid:gid may access a node with `bits` (4 read, 2 write, 1 execute); root needs one x bit to execute. */
export function canAccess(
  n: { uid: number; gid: number; mode: number },
  uid: number,
  gid: number | null,
  bits: number,
): boolean {
  if (uid === 0) return bits !== 1 || (n.mode & 0o111) !== 0;
  if (n.uid === uid) return ((n.mode >> 6) & bits) === bits;
  if (gid !== null && n.gid === gid) return ((n.mode >> 3) & bits) === bits;
  return (n.mode & bits) === bits;
}

/** A small text file of a root (at most 8 MiB, links followed inside the root), or null when absent or unreadable. */
export async function readText(fs: RootFs, path: string): Promise<string | null> {
  const r = resolvePath(fs, path);
  if (!r.ok || r.stat.kind !== "file" || r.stat.size > 8 * 1024 * 1024) return null;
  try {
    const src = fs.open(r.path);
    return new TextDecoder().decode(await src.read(0, src.size));
  } catch (e) {
    if (e instanceof ZerodepError) return null;
    throw e;
  }
}

/** Rows of a passwd/group file with the numeric id in column 2 (malformed rows are skipped, as libcontainer does). */
function rowsOf(text: string | null): string[][] {
  if (text === null) return [];
  return text
    .split("\n")
    .map((l) => l.split(":"))
    .filter((r) => r.length >= 3 && r[0] !== "" && /^\d+$/.test(r[2] ?? ""));
}

/** The rows of the root's /etc/passwd as the runtime reads them (name, x, uid, gid, gecos, home, shell). */
export async function passwdRows(fs: RootFs): Promise<string[][]> {
  return rowsOf(await readText(fs, "/etc/passwd"));
}

const MAX_ID = 2 ** 31 - 1;

/**
 * config.User → uid/gid as podman/runc resolve it (libcontainer's GetExecUser): a number is taken as
 * given, with the gid of its passwd row or 0 without one; a name must have a passwd row, and a group
 * name a group row — whether the file is missing or just lacks the name, the container does not start
 * ("unable to find user NAME: no matching entries in passwd file").
 */
export async function resolveUser(
  configured: string | null,
  fs: RootFs,
): Promise<{ info: RuntimeUser; problem?: CheckProblem }> {
  const info: RuntimeUser = { configured, uid: 0, gid: 0, name: "root", root: true };
  if (configured === null || configured === "") return { info };
  const colon = configured.indexOf(":");
  const u = colon < 0 ? configured : configured.slice(0, colon);
  const g = colon < 0 ? undefined : configured.slice(colon + 1);
  const users = rowsOf(await readText(fs, "/etc/passwd"));
  let uid: number;
  let gid: number;
  let name: string | null;
  if (/^\d+$/.test(u) || u === "") {
    uid = u === "" ? 0 : Number(u);
    const row = users.find((r) => Number(r[2]) === uid);
    name = row?.[0] ?? null;
    gid = row && /^\d+$/.test(row[3] ?? "") ? Number(row[3]) : 0;
  } else {
    const row = users.find((r) => r[0] === u);
    if (!row) {
      return {
        info: { configured, uid: null, gid: null, name: u, root: false },
        problem: {
          code: "USER_UNKNOWN",
          severity: "error",
          message: `User "${u}" is not in the image's /etc/passwd: the container does not start ("unable to find user ${u}: no matching entries in passwd file")`,
          fix: `use a numeric User (e.g. 65532:65532), or add ${u} to the image's /etc/passwd`,
        },
      };
    }
    name = u;
    uid = Number(row[2]);
    gid = /^\d+$/.test(row[3] ?? "") ? Number(row[3]) : 0;
  }
  if (uid > MAX_ID) {
    return {
      info: { configured, uid: null, gid: null, name, root: false },
      problem: {
        code: "USER_UNKNOWN",
        severity: "error",
        message: `User ${u} is out of range (uids go up to ${MAX_ID})`,
        fix: "use a uid below 2147483648",
      },
    };
  }
  if (g !== undefined && g !== "") {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = rowsOf(await readText(fs, "/etc/group")).find((r) => r[0] === g);
      if (!row) {
        return {
          info: { configured, uid, gid: null, name, root: uid === 0 },
          problem: {
            code: "GROUP_UNKNOWN",
            severity: "error",
            message: `group "${g}" is not in the image's /etc/group: the container does not start ("unable to find group ${g}: no matching entries in group file")`,
            fix: `use a numeric group (e.g. ${uid}:${uid}), or add ${g} to the image's /etc/group`,
          },
        };
      }
      gid = Number(row[2]);
    }
  }
  return { info: { configured, uid, gid, name, root: uid === 0 } };
}

/** The problem of an image that names no program to run. */
export function noEntrypointProblem(): CheckProblem {
  return {
    code: "NO_ENTRYPOINT",
    severity: "error",
    message:
      'neither Entrypoint nor Cmd is set: the image does not say what to run ("no command or entrypoint provided")',
    fix: 'set ENTRYPOINT ["/path/to/program"] (zerodep pack sets it to the binary)',
  };
}

/** runc's stat error for each way a path can fail to resolve. */
const STAT_ERRORS = {
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  ELOOP: "too many levels of symbolic links",
} as const;

/** The problem of an entrypoint whose program is not in the image, in runc's words. */
export function entrypointMissingProblem(
  program: string,
  env: Record<string, string>,
  reason: keyof typeof STAT_ERRORS = "ENOENT",
): CheckProblem {
  const bare = !program.includes("/");
  return {
    code: "ENTRYPOINT_MISSING",
    severity: "error",
    message: bare
      ? `${program}: no executable of that name along PATH ${env["PATH"] ?? DEFAULT_PATH} in the image: the runtime fails with "executable file not found in $PATH"`
      : `${program}: ${reason === "ENOENT" ? "not found in the image" : reason === "ELOOP" ? "a symbolic link loop in the image" : "a path through a non-directory in the image"}: the runtime fails with "${STAT_ERRORS[reason]}"`,
    fix: "copy the program into the image, or fix the path in ENTRYPOINT/CMD",
  };
}

/** Where the runtime finds the program of an entrypoint inside the image, or null. */
export function findProgram(
  fs: RootFs,
  program: string,
  env: Record<string, string>,
  workingDir: string | null,
): string | null {
  const r = lookupProgram(fs, program, env, workingDir);
  return r.ok ? r.path : null;
}
