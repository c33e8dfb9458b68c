import { type CheckProblem, checkSource } from "../check/check.js";
import { ZerodepError } from "../errors.js";
import { type FileIndex, nodePath } from "../image/file-index.js";
import type { ImageRootFs } from "../image/image-root-fs.js";
import { formatPlatform, type ResolvedImage } from "../image/select.js";
import { type RootFs, resolvePath } from "../resolve/root-fs.js";
import type { ElfAudit } from "./elf-audit.js";
import type { AnalyzeResult, ElfFileReport, Finding } from "./types.js";

const BIN_DIRS = new Set(["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]);
const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox"]);
const PACKAGE_MANAGERS = new Set([
  "apt",
  "apt-get",
  "dpkg",
  "apk",
  "yum",
  "dnf",
  "microdnf",
  "rpm",
  "zypper",
  "pacman",
  "tdnf",
]);
/** Files no unprivileged user is meant to read: not worth a finding. */
const PRIVATE = [
  /^\/etc\/(g?shadow|sudoers)(-|\.d\/|$)/,
  /^\/etc\/ssl\/private\//,
  /^\/root\//,
  /^\/var\/cache\/ldconfig\//,
];
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The contents audit over the final tree: ELF files and Go programs, shells, package managers,
 * setuid/setgid, world-writable paths, the runtime user and what it cannot read, and `check` of the
 * entrypoint against the image's own tree. Fills `result.audit` and `result.findings`.
 */
export async function auditImage(
  result: AnalyzeResult,
  index: FileIndex,
  fs: ImageRootFs,
  img: ResolvedImage,
  opts: { noCheck: boolean },
): Promise<void> {
  const a = result.audit;
  const f = result.findings;
  const user = await resolveUser(result.config.user, fs);
  a.user = user.info;
  if (user.finding) f.push(user.finding);

  const unreadable: string[] = [];
  for (const n of index.walk()) {
    const p = nodePath(n);
    const dir = p.slice(0, p.lastIndexOf("/")) || "/";
    const base = n.name;
    if (n.kind !== "dir" && BIN_DIRS.has(dir)) {
      if (SHELLS.has(base)) a.shells.push(p);
      if (PACKAGE_MANAGERS.has(base)) a.packageManagers.push(p);
    }
    if (n.kind === "file") {
      if (n.mode & 0o4000) a.setuid.push({ path: p, mode: n.mode, uid: n.uid });
      if (n.mode & 0o2000) a.setgid.push({ path: p, mode: n.mode, gid: n.gid });
      const elf = n.extra?.["elf"] as ElfAudit | undefined;
      if (elf) {
        const r: ElfFileReport = { path: p, size: n.size, layer: n.layer, mode: n.mode, ...elf };
        a.elfFiles.push(r);
        if (elf.go && elf.linkage !== "shared-library") a.goBinaries.push(r);
      }
      if (!user.info.root && user.info.uid !== null && !canAccess(n, user.info.uid, user.info.gid, 4)) {
        if (!PRIVATE.some((re) => re.test(p))) unreadable.push(p);
      }
    }
    if (n.kind !== "symlink" && n.mode & 0o002) {
      if (n.kind === "dir" && n.mode & 0o1000) a.stickyWorldWritableDirs.push(p);
      else a.worldWritable.push({ path: p, kind: n.kind, mode: n.mode });
    }
  }
  a.unreadable = { count: unreadable.length, paths: unreadable.slice(0, 100) };

  // --- findings, most important first ---
  if (!opts.noCheck) await checkEntrypoint(result, fs, img, user.info);
  if (user.info.root) {
    f.push({
      code: "RUNS_AS_ROOT",
      severity: "warning",
      message: `the container runs as root (User ${result.config.user === null ? "not set" : JSON.stringify(result.config.user)})`,
      fix: "set a non-root user, e.g. USER 65532:65532 (zerodep pack --user; distroless nonroot)",
    });
  }
  if (a.unreadable.count > 0) {
    f.push({
      code: "UNREADABLE_FILES",
      severity: "warning",
      message: `${a.unreadable.count} file(s) the runtime user ${user.info.uid}:${user.info.gid} cannot read`,
      fix: "chmod a+r them (or chown to the runtime user) in the layer that creates them",
      paths: a.unreadable.paths.slice(0, 20),
    });
  }
  if (a.setuid.length + a.setgid.length > 0) {
    f.push({
      code: "SETUID_FILES",
      severity: "warning",
      message: `${a.setuid.length} setuid and ${a.setgid.length} setgid file(s): privilege escalation paths inside the container`,
      fix: "chmod u-s,g-s them, or run with --security-opt no-new-privileges",
      paths: [...a.setuid.map((x) => x.path), ...a.setgid.map((x) => x.path)].slice(0, 20),
    });
  }
  if (a.worldWritable.length > 0) {
    f.push({
      code: "WORLD_WRITABLE",
      severity: "warning",
      message: `${a.worldWritable.length} world-writable path(s) without the sticky bit`,
      fix: "chmod o-w them (directories shared by everyone need the sticky bit: chmod 1777)",
      paths: a.worldWritable.map((x) => x.path).slice(0, 20),
    });
  }
  if (a.shells.length > 0) {
    f.push({
      code: "SHELL_PRESENT",
      severity: "info",
      message: `shell(s) in the image: ${a.shells.slice(0, 5).join(", ")}${a.shells.length > 5 ? " …" : ""} (an attacker's first tool)`,
      fix: "use a distroless or scratch base if the program does not need a shell (zerodep pack)",
      paths: a.shells,
    });
  }
  if (a.packageManagers.length > 0) {
    f.push({
      code: "PACKAGE_MANAGER_PRESENT",
      severity: "info",
      message: `package manager(s) in the image: ${a.packageManagers.join(", ")}`,
      fix: "install packages in a build stage and copy only the result into the final image",
      paths: a.packageManagers,
    });
  }
  const w = result.waste;
  if (w.wastedBytes > 0) {
    const ev = w.events[0];
    f.push({
      code: "WASTED_BYTES",
      severity: w.wastedPercent > 0.1 ? "warning" : "info",
      message: `${w.wastedBytes} bytes (${(w.wastedPercent * 100).toFixed(1)}% of the layers' content) shipped but not in the final tree${ev ? `; largest: ${ev.path} (${ev.bytes} bytes, ${ev.reason} in layer ${ev.byLayer})` : ""}`,
      fix: "delete files in the same layer (RUN step) that creates them, or build in a separate stage and copy the result",
      paths: w.events.slice(0, 20).map((e) => e.path),
    });
  }
  const unstripped = a.elfFiles.filter((e) => e.stripSavings > 0);
  if (unstripped.length > 0) {
    const total = unstripped.reduce((s, e) => s + e.stripSavings, 0);
    f.push({
      code: "UNSTRIPPED_BINARIES",
      severity: "info",
      message: `${unstripped.length} ELF file(s) carry symbols or debug info: strip would save ${total} bytes`,
      fix: "strip them (Go: -ldflags='-s -w'; C: strip --strip-unneeded or -s at link time)",
      paths: unstripped
        .sort((x, y) => y.stripSavings - x.stripSavings)
        .slice(0, 20)
        .map((e) => e.path),
    });
  }
  if (w.dive.abortedLayers.length > 0) {
    f.push({
      code: "DIVE_WOULD_ABORT",
      severity: "info",
      message: `a whiteout over nothing (${w.dive.abortedLayers.map((x) => `${x.path} in layer ${x.layer}`).join(", ")}) stops dive's scoring of that layer; dive's figures above include that effect`,
      fix: "remove the stray whiteout (usually a deletion of a path that never existed)",
    });
  }
  const odd = result.warnings.filter((x) => /absolute|'\.\.'|NUL/.test(x.message));
  if (odd.length > 0) {
    f.push({
      code: "HOSTILE_PATHS",
      severity: "warning",
      message: `${odd.length} layer entr${odd.length === 1 ? "y has" : "ies have"} absolute or ../ names (kept inside the root here; a careless extractor may not)`,
      fix: "rebuild the layer with relative names",
      paths: odd.slice(0, 20).map((x) => x.path),
    });
  }
}

/** Whether uid:gid may access the node with `bits` (4 read, 2 write, 1 execute); root always may read. */
function canAccess(
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

async function readText(fs: ImageRootFs, path: string): Promise<string | null> {
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

/** config.User → uid/gid the way runc resolves it: numbers as given, names from the image's /etc/passwd and /etc/group. */
async function resolveUser(
  configured: string | null,
  fs: ImageRootFs,
): Promise<{ info: AnalyzeResult["audit"]["user"]; finding?: Finding }> {
  const info: AnalyzeResult["audit"]["user"] = { configured, uid: 0, gid: 0, name: "root", root: true };
  if (configured === null) return { info };
  const [u = "", g] = configured.split(":");
  const passwd = (await readText(fs, "/etc/passwd")) ?? "";
  const rows = passwd.split("\n").map((l) => l.split(":"));
  let uid: number | null = null;
  let gid: number | null = null;
  let name: string | null = null;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const row = rows.find((r) => r[2] === u);
    name = row?.[0] ?? null;
    gid = row ? Number(row[3]) : uid === 0 ? 0 : null;
  } else {
    const row = rows.find((r) => r[0] === u);
    if (!row || !/^\d+$/.test(row[2] ?? "")) {
      return {
        info: { configured, uid: null, gid: null, name: u, root: false },
        finding: {
          code: "USER_UNKNOWN",
          severity: "error",
          message: `User "${u}" is not in the image's /etc/passwd: the runtime refuses to start ("unable to find user ${u}")`,
          fix: "use a numeric USER uid:gid, or add the user to /etc/passwd",
        },
      };
    }
    name = u;
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined && g !== "") {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const group = (await readText(fs, "/etc/group")) ?? "";
      const row = group
        .split("\n")
        .map((l) => l.split(":"))
        .find((r) => r[0] === g);
      gid = row && /^\d+$/.test(row[2] ?? "") ? Number(row[2]) : null;
    }
  }
  if (gid === null) gid = uid === 0 ? 0 : uid;
  return { info: { configured, uid, gid, name, root: uid === 0 } };
}

async function checkEntrypoint(
  result: AnalyzeResult,
  fs: ImageRootFs,
  img: ResolvedImage,
  user: AnalyzeResult["audit"]["user"],
): Promise<void> {
  const e = result.audit.entrypoint;
  const c = result.config;
  const argv = [...(c.entrypoint ?? []), ...(c.cmd ?? [])];
  const program = argv[0] ?? null;
  e.program = program;
  if (program === null) {
    // For analyze an image without a program is worth a warning (a base image is one); check fails it.
    result.findings.push({ ...noEntrypointProblem(), severity: "warning" });
    return;
  }
  const env = envMapOf(c.env);
  const resolved = findProgram(fs, program, env, c.workingDir);
  e.resolved = resolved;
  const where = `entrypoint ${program}`;
  if (resolved === null) {
    e.runnable = false;
    const p = entrypointMissingProblem(program, env, where);
    e.problems.push(p);
    result.findings.push(p);
    return;
  }
  const node = fs.lstat(resolved)!;
  if (user.uid !== null && !canAccess(node, user.uid, user.gid, 1)) {
    const p = {
      code: "ENTRYPOINT_NOT_EXECUTABLE",
      severity: "error" as const,
      message: `${where}: ${resolved} (mode ${node.mode.toString(8)}, owner ${node.uid}:${node.gid}) is not executable by the runtime user ${user.uid}: "permission denied"`,
      fix: `chmod 755 ${resolved}`,
    };
    e.problems.push(p);
  }
  if (SHELLS.has(resolved.slice(resolved.lastIndexOf("/") + 1)) && argv.includes("-c")) {
    result.findings.push({
      code: "ENTRYPOINT_SHELL_FORM",
      severity: "info",
      message: `${where} runs a shell command line (${JSON.stringify(argv.slice(0, 3))}): only the shell was checked, not the program it starts`,
      fix: 'use the exec form, ENTRYPOINT ["/app/prog"], so signals reach the program',
    });
  }
  try {
    const src = fs.open(resolved);
    const r = await checkSource(src, `${result.image}:${resolved}`, {
      rootFs: fs,
      location: resolved,
      env,
      platform: formatPlatform(img.platform),
    });
    e.problems.push(...r.problems);
    e.runnable = !e.problems.some((p) => p.severity === "error");
  } catch (err) {
    if (!(err instanceof ZerodepError)) throw err;
    e.runnable = false;
    e.problems.push({
      code: "ENTRYPOINT_UNREADABLE",
      severity: "error",
      message: `${where}: ${err.message}`,
      fix: "rebuild the image",
    });
  }
  for (const p of e.problems)
    result.findings.push({ ...p, message: `${where}: ${p.message.replace(`${where}: `, "")}` });
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

/**
 * Where the runtime finds the program of an entrypoint inside the image: an absolute path as it is, a
 * relative one under the working directory, a bare name along the image's PATH (runc's lookup); symlinks
 * resolved inside the root. Null when nothing is there.
 */
export function findProgram(
  fs: RootFs,
  program: string,
  env: Record<string, string>,
  workingDir: string | null,
): string | null {
  let candidates: string[];
  if (program.includes("/")) {
    candidates = [program.startsWith("/") ? program : `${workingDir ?? "/"}/${program}`];
  } else {
    candidates = (env["PATH"] ?? DEFAULT_PATH)
      .split(":")
      .filter((d) => d.startsWith("/"))
      .map((d) => `${d}/${program}`);
  }
  for (const cand of candidates) {
    const r = resolvePath(fs, cand);
    if (r.ok && r.stat.kind === "file") return r.path;
  }
  return null;
}

/** The problem of an image that names no program to run (check IMAGE: an error). */
export function noEntrypointProblem(): CheckProblem {
  return {
    code: "NO_ENTRYPOINT",
    severity: "error",
    message: "neither Entrypoint nor Cmd is set: the image does not say what to run",
    fix: 'set ENTRYPOINT ["/path/to/program"] (zerodep pack sets it to the binary)',
  };
}

/** The problem of an entrypoint whose program is not in the image (the runtime's "no such file"). */
export function entrypointMissingProblem(
  program: string,
  env: Record<string, string>,
  where = `entrypoint ${program}`,
): CheckProblem {
  return {
    code: "ENTRYPOINT_MISSING",
    severity: "error",
    message: `${where}: not found in the image${program.includes("/") ? "" : ` (searched PATH ${env["PATH"] ?? DEFAULT_PATH})`}: the container fails with "no such file or directory"`,
    fix: "copy the program into the image, or fix the path in ENTRYPOINT/CMD",
  };
}
