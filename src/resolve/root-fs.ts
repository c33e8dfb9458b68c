import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { IoError } from "../errors.js";
import { type ByteSource, FileSource } from "../io/reader.js";

export type EntryKind = "file" | "dir" | "symlink" | "other";

export interface EntryStat {
  kind: EntryKind;
  size: number;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * A root file system seen from inside: a directory on the host, an empty `scratch`, and later an
 * image's merged layers. Paths are absolute in-root paths ("/usr/lib/libc.so.6"). Implementations
 * never resolve symbolic links themselves: resolvePath does, so that links can never leave the root.
 */
export interface RootFs {
  /** For messages: the host directory, or "scratch". */
  readonly description: string;
  /** lstat of a path whose parent components are real directories (not links); null when absent. */
  lstat(path: string): EntryStat | null;
  readlink(path: string): string | null;
  /** Entry names of a directory, or null when it cannot be read. */
  readdir(path: string): string[] | null;
  /** Open a regular file for reading. */
  open(path: string): ByteSource;
}

/** The empty root of a `scratch` image. */
export class EmptyRootFs implements RootFs {
  readonly description = "scratch";
  lstat(path: string): EntryStat | null {
    return path === "/" ? { kind: "dir", size: 0, mode: 0o755, uid: 0, gid: 0 } : null;
  }
  readlink(): string | null {
    return null;
  }
  readdir(path: string): string[] | null {
    return path === "/" ? [] : null;
  }
  open(path: string): ByteSource {
    throw new IoError("ENOENT", `scratch:${path}: no such file or directory`);
  }
}

/** A directory of the host used as a root (like `chroot DIR`). */
export class DirRootFs implements RootFs {
  constructor(readonly hostRoot: string) {}
  get description(): string {
    return this.hostRoot;
  }
  private host(path: string): string {
    return join(this.hostRoot, path);
  }
  lstat(path: string): EntryStat | null {
    try {
      const st = lstatSync(this.host(path));
      const kind: EntryKind = st.isFile()
        ? "file"
        : st.isDirectory()
          ? "dir"
          : st.isSymbolicLink()
            ? "symlink"
            : "other";
      return { kind, size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    } catch {
      return null;
    }
  }
  readlink(path: string): string | null {
    try {
      return readlinkSync(this.host(path));
    } catch {
      return null;
    }
  }
  readdir(path: string): string[] | null {
    try {
      return readdirSync(this.host(path));
    } catch {
      return null;
    }
  }
  open(path: string): ByteSource {
    // O_NOFOLLOW: the final component was checked to be a regular file; refuse a link swapped in since.
    const hostPath = this.host(path);
    const fd = openSync(hostPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    try {
      return FileSource.fromFd(hostPath, fd);
    } catch (err) {
      try {
        closeSync(fd);
      } catch {}
      throw err;
    }
  }
}

export type Resolution =
  | { ok: true; path: string; stat: EntryStat; hops: number }
  | { ok: false; path: string; reason: "ENOENT" | "ENOTDIR" | "ELOOP"; at: string };

/** Linux follows at most 40 links in one lookup (MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * Resolves `path` inside the root the way the kernel does inside a chroot: component by component,
 * following links; an absolute link target restarts at the root, `..` never climbs above it. The
 * result is the canonical in-root path, so nothing outside the root is ever read.
 */
export function resolvePath(fs: RootFs, path: string, opts: { followLast?: boolean } = {}): Resolution {
  const followLast = opts.followLast ?? true;
  let pending = split(path);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === "." || comp === "") continue;
    if (comp === "..") {
      done.pop();
      continue;
    }
    const cur = "/" + [...done, comp].join("/");
    const st = fs.lstat(cur);
    if (!st) return { ok: false, path, reason: "ENOENT", at: cur };
    if (st.kind === "symlink" && (pending.length > 0 || followLast)) {
      if (++hops > MAX_LINKS) return { ok: false, path, reason: "ELOOP", at: cur };
      const target = fs.readlink(cur);
      if (target === null) return { ok: false, path, reason: "ENOENT", at: cur };
      if (target.startsWith("/")) done.length = 0;
      pending = [...split(target), ...pending];
      continue;
    }
    if (pending.length > 0 && st.kind !== "dir") return { ok: false, path, reason: "ENOTDIR", at: cur };
    done.push(comp);
  }
  const final = "/" + done.join("/");
  const stat = fs.lstat(final);
  if (!stat) return { ok: false, path, reason: "ENOENT", at: final };
  return { ok: true, path: final, stat, hops };
}

function split(p: string): string[] {
  return p.split("/").filter((c) => c !== "");
}
