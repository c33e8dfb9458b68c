import { canAccess, type EntrypointVerdict, judgeEntrypoint, resolveUser } from "../check/entrypoint.js";
import { getFact } from "../image/facts.js";
import { type FileIndex, nodePath } from "../image/file-index.js";
import type { ImageRootFs } from "../image/image-root-fs.js";
import { formatPlatform, type ResolvedImage } from "../image/select.js";
import { HOSTILE_PATH_CODES } from "../tar/reader.js";
import { ELF_AUDIT } from "./elf-audit.js";
import type { AnalyzeResult, ElfFileReport } from "./types.js";

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
  const c = result.config;
  // The verdict is judgeEntrypoint's, the same function check IMAGE and pack's safety net call.
  const verdict = opts.noCheck
    ? null
    : await judgeEntrypoint(fs, c, { platform: formatPlatform(img.platform), name: result.image });
  const user = verdict ? { info: verdict.user } : await resolveUser(c.user, fs);
  a.user = user.info;

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
      const elf = getFact(n, ELF_AUDIT);
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
  if (verdict) reportEntrypoint(result, verdict);
  else if ("problem" in user && user.problem) f.push(user.problem);
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
  const odd = result.warnings.filter((x) => HOSTILE_PATH_CODES.has(x.code));
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

/** Copies the entrypoint verdict into the report: audit.entrypoint and one finding per problem. */
function reportEntrypoint(result: AnalyzeResult, v: EntrypointVerdict): void {
  const e = result.audit.entrypoint;
  e.program = v.program;
  e.resolved = v.resolved;
  e.problems = v.problems;
  e.runnable = v.runnable;
  if (v.program === null && v.user.uid !== null) {
    // Not runnable as it is (podman: "no command or entrypoint provided"), the same verdict check
    // gives; the finding is only a warning, since a base image is meant to be built upon.
    e.runnable = false;
    result.findings.push({ ...v.problems[0]!, severity: "warning" });
    return;
  }
  const where = v.program === null ? "" : `entrypoint ${v.program}: `;
  for (const p of v.problems)
    result.findings.push({
      ...p,
      message: p.code.startsWith("USER_") || p.code.startsWith("GROUP_") ? p.message : `${where}${p.message}`,
    });
  const resolved = v.resolved ?? "";
  if (SHELLS.has(resolved.slice(resolved.lastIndexOf("/") + 1)) && v.argv.includes("-c")) {
    result.findings.push({
      code: "ENTRYPOINT_SHELL_FORM",
      severity: "info",
      message: `${where}runs a shell command line (${JSON.stringify(v.argv.slice(0, 3))}): only the shell was checked, not the program it starts`,
      fix: 'use the exec form, ENTRYPOINT ["/app/prog"], so signals reach the program',
    });
  }
}
