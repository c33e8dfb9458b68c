/**
 * Small real root file systems for tests that run programs with `chroot` (test/check/reality.test.ts):
 * temp directories with the host's loaders and libraries copied in, symbolic links kept as links.
 *
 * Everything is built under one temp directory per `RootSet`, removed by `cleanup()`. In-root paths
 * are absolute ("/lib/x86_64-linux-gnu/libc.so.6"); `host(root, p)` maps one to the host.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";

export const GLIBC_LOADER = "/lib64/ld-linux-x86-64.so.2";
export const MULTIARCH = "/lib/x86_64-linux-gnu";
export const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
export const BUSYBOX = "/bin/busybox";

/** Host path of an in-root path. */
export function host(root: string, inRoot: string): string {
  return join(root, inRoot);
}

/** Why root-running tests cannot run here (for node:test's `skip`), or false when they can. */
export function chrootUnavailable(): false | string {
  if (process.platform !== "linux" || process.arch !== "x64") return "needs linux/amd64";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "needs root (chroot)";
  return false;
}

/** Creates the parent directories of an in-root path. */
function parents(root: string, inRoot: string): void {
  mkdirSync(dirname(host(root, inRoot)), { recursive: true });
}

/** Copies a host file to an in-root path (following links on the host), with its mode or `mode`. */
export function put(root: string, hostFile: string, inRoot: string, mode?: number): string {
  parents(root, inRoot);
  const dest = host(root, inRoot);
  rmSync(dest, { force: true });
  copyFileSync(hostFile, dest);
  if (mode !== undefined) chmodSync(dest, mode);
  return dest;
}

/** Places a program in the root: copied, mode 0755. Returns its host path. */
export function place(root: string, hostFile: string, inRoot: string): string {
  return put(root, hostFile, inRoot, 0o755);
}

/** Creates a symbolic link `inRoot` → `target` (the target is written as given: absolute or relative). */
export function link(root: string, inRoot: string, target: string): void {
  parents(root, inRoot);
  rmSync(host(root, inRoot), { force: true });
  symlinkSync(target, host(root, inRoot));
}

export function dir(root: string, inRoot: string): void {
  mkdirSync(host(root, inRoot), { recursive: true });
}

/**
 * Puts the host's glibc loader and `libs` into an existing root (see RootSet.glibcRoot for the two
 * layouts); exported so that image trees (test/reality) get exactly the roots chroot tests use.
 */
export function installGlibc(root: string, opts: { libs?: string[]; layout?: "debian" | "host" } = {}): void {
  const libs = opts.libs ?? ["libc.so.6"];
  if (opts.layout === "host") {
    mirror(root, GLIBC_LOADER);
    for (const l of libs) mirror(root, `${MULTIARCH}/${l}`);
    return;
  }
  for (const d of [MULTIARCH, "/usr/lib/x86_64-linux-gnu", "/lib64"]) dir(root, d);
  put(root, realpathSync(GLIBC_LOADER), `${MULTIARCH}/ld-linux-x86-64.so.2`);
  link(root, GLIBC_LOADER, `${MULTIARCH}/ld-linux-x86-64.so.2`);
  for (const l of libs) put(root, realpathSync(`${MULTIARCH}/${l}`), `${MULTIARCH}/${l}`);
}

/** Puts musl-tools' loader (/lib/ld-musl-x86_64.so.1 and the libc.so it links to) into a root. */
export function installMusl(root: string): void {
  mirror(root, MUSL_LOADER);
}

/**
 * Copies a host path into the root at the same path, keeping every symbolic link on the way as a
 * link (the host's /lib → usr/lib, /lib64/ld-linux-x86-64.so.2 → /lib/x86_64-linux-gnu/…, and the
 * files they lead to), so the root has the host's layout for that path.
 */
export function mirror(root: string, hostPath: string, depth = 0): void {
  if (depth > 40) throw new Error(`mirror: too many links at ${hostPath}`);
  const parts = hostPath.split("/").filter(Boolean);
  let cur = "/";
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]!);
    const st = lstatSync(next);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(next);
      const dest = host(root, next);
      if (!existsSync(dest) && !isLink(dest)) {
        parents(root, next);
        symlinkSync(target, dest);
      }
      const resolved = posix.resolve(posix.dirname(next), target);
      mirror(root, posix.join(resolved, ...parts.slice(i + 1)), depth + 1);
      return;
    }
    if (st.isDirectory()) {
      if (!isLink(host(root, next))) mkdirSync(host(root, next), { recursive: true });
    } else {
      if (i !== parts.length - 1) throw new Error(`mirror: ${next} is not a directory`);
      if (!existsSync(host(root, next))) put(root, next, next);
    }
    cur = next;
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** One temp directory holding any number of roots; `cleanup()` removes them all. */
export class RootSet {
  readonly base: string;
  private n = 0;
  private mounts: string[] = [];
  constructor(prefix = "zd-roots-") {
    this.base = mkdtempSync(join(tmpdir(), prefix));
  }

  /** An empty directory: the `scratch` image. */
  emptyRoot(name = "empty"): string {
    const root = join(this.base, `${this.n++}-${name}`);
    mkdirSync(root);
    return root;
  }

  /**
   * A glibc root with the host's loader and `libs` (file names from the host's /lib/x86_64-linux-gnu,
   * default libc.so.6). Layout "debian": real directories /lib/x86_64-linux-gnu,
   * /usr/lib/x86_64-linux-gnu, /lib64 (not merged), the loader's file in the multiarch directory and
   * /lib64/ld-linux-x86-64.so.2 an absolute link to it, libraries in /lib/x86_64-linux-gnu.
   * Layout "host": every path mirrored from the host with its links (merged /usr: /lib → usr/lib).
   * No /etc/ld.so.cache: the loader uses its built-in directories.
   */
  glibcRoot(opts: { libs?: string[]; layout?: "debian" | "host"; name?: string } = {}): string {
    const root = this.emptyRoot(opts.name ?? "glibc");
    installGlibc(root, opts);
    return root;
  }

  /** A musl root made from musl-tools: /lib/ld-musl-x86_64.so.1 and the libc.so it links to. */
  muslRoot(name = "musl"): string {
    const root = this.emptyRoot(name);
    installMusl(root);
    return root;
  }

  /**
   * Mounts /proc in the root for the duration of `fn` (glibc and musl compute the main program's
   * $ORIGIN from /proc/self/exe; a bare chroot has no /proc). Returns fn's result.
   */
  withProc<T>(root: string, fn: () => T): T {
    const p = host(root, "/proc");
    mkdirSync(p, { recursive: true });
    const m = spawnSync("mount", ["-t", "proc", "proc", p], { encoding: "utf8" });
    if (m.status !== 0) throw new Error(`mount -t proc failed: ${m.stderr}`);
    this.mounts.push(p);
    try {
      return fn();
    } finally {
      spawnSync("umount", [p]);
      this.mounts = this.mounts.filter((x) => x !== p);
    }
  }

  cleanup(): void {
    for (const p of this.mounts) spawnSync("umount", ["-l", p]);
    // Never follow links out of a root while deleting: rmSync removes links, not their targets.
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** Whether `mount -t proc` works here (root in a container may not be allowed to). */
export function canMountProc(): boolean {
  const d = mkdtempSync(join(tmpdir(), "zd-proc-"));
  try {
    const m = spawnSync("mount", ["-t", "proc", "proc", d], { encoding: "utf8" });
    if (m.status !== 0) return false;
    spawnSync("umount", [d]);
    return true;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

export interface RealRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` inside the root with chroot(8), a clean environment (nothing of ours leaks in, in
 * particular no LD_LIBRARY_PATH) and a 10 s time limit.
 */
export function runInRoot(root: string, argv: string[], opts: { timeoutMs?: number } = {}): RealRun {
  const r = spawnSync("chroot", [root, ...argv], {
    encoding: "utf8",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    timeout: opts.timeoutMs ?? 10_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
