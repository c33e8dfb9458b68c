import {
  closeSync,
  constants,
  type Dirent,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { ZerodepError } from "../errors.js";
import { inspectSource } from "../inspect/inspect.js";
import { sniffFormat } from "../inspect/other-formats.js";
import { emptyResult, type InspectResult } from "../inspect/types.js";
import { FileSource, ioErrorFrom } from "../io/reader.js";

export interface ScanOptions {
  /** Follow symbolic links to files and directories (default false, like `scanelf -R` without -L). */
  followSymlinks?: boolean;
  /** Stay on the file system of each root (default false). */
  oneFileSystem?: boolean;
  /** Formats to report (default all three). */
  formats?: ("elf" | "pe" | "macho")[];
}

/**
 * Walks directory trees and yields one InspectResult per binary found (ELF, PE, Mach-O), recognised
 * from its first bytes. Unreadable directories and files that look like binaries but cannot be parsed
 * are yielded with `error` set. Entries are visited in sorted order for stable output.
 */
export async function* scanTrees(roots: string[], opts: ScanOptions = {}): AsyncGenerator<InspectResult> {
  const formats = new Set(opts.formats ?? ["elf", "pe", "macho"]);
  const seenDirs = new Set<string>();
  for (const root of roots) {
    let rootDev: number | undefined;
    try {
      const st = statSync(root);
      rootDev = st.dev;
      if (!st.isDirectory()) {
        const r = await scanFile(root, formats);
        if (r) yield r;
        continue;
      }
    } catch (err) {
      yield errorResult(root, err);
      continue;
    }
    const stack: string[] = [root];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      if (opts.followSymlinks) {
        // Symlink loops: remember directories by device and inode.
        try {
          const st = statSync(dir);
          const key = `${st.dev}:${st.ino}`;
          if (seenDirs.has(key)) continue;
          seenDirs.add(key);
        } catch (err) {
          yield errorResult(dir, err);
          continue;
        }
      }
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        yield errorResult(dir, err);
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: string[] = [];
      for (const e of entries) {
        const p = join(dir, e.name);
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        if (e.isSymbolicLink()) {
          if (!opts.followSymlinks) continue;
          try {
            const st = statSync(p);
            isDir = st.isDirectory();
            isFile = st.isFile();
          } catch {
            continue; // dangling link
          }
        } else if (
          !isDir &&
          !isFile &&
          !e.isFIFO() &&
          !e.isSocket() &&
          !e.isCharacterDevice() &&
          !e.isBlockDevice()
        ) {
          // d_type unknown (some file systems): ask lstat.
          const st = lstatSync(p);
          isDir = st.isDirectory();
          isFile = st.isFile();
        }
        if (isDir) {
          if (opts.oneFileSystem && rootDev !== undefined) {
            try {
              if (statSync(p).dev !== rootDev) continue;
            } catch {
              continue;
            }
          }
          subdirs.push(p);
        } else if (isFile) {
          const r = await scanFile(p, formats);
          if (r) yield r;
        }
      }
      // Depth-first in sorted order: push in reverse so the first subdirectory is visited first.
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
}

/** One buffer for the first bytes of every file: most files in a tree are not binaries. */
const sniffBuf = new Uint8Array(64);

async function scanFile(path: string, formats: Set<string>): Promise<InspectResult | null> {
  let fd: number;
  let fmt: ReturnType<typeof sniffFormat>;
  try {
    // O_NONBLOCK: a FIFO that appears between readdir and open must not block the scan.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return errorResult(path, err);
  }
  try {
    const n = readSync(fd, sniffBuf, 0, sniffBuf.byteLength, 0);
    fmt = sniffFormat(sniffBuf.subarray(0, n));
  } catch (err) {
    closeSync(fd);
    // EISDIR/EINVAL and friends on special files: not binaries, not worth an error line.
    const code = (err as { code?: string }).code;
    return code === "EAGAIN" || code === "EISDIR" || code === "EINVAL" ? null : errorResult(path, err);
  }
  const family = fmt === "macho-fat" ? "macho" : fmt;
  if (family === "unknown" || !formats.has(family)) {
    closeSync(fd);
    return null;
  }
  let src: FileSource;
  try {
    src = FileSource.fromFd(path, fd);
  } catch (err) {
    return errorResult(path, err);
  }
  try {
    return await inspectSource(src, path);
  } finally {
    src.closeNow();
  }
}

function errorResult(path: string, err: unknown): InspectResult {
  const r = emptyResult(path);
  const e =
    err instanceof ZerodepError ? err : err instanceof Error && "code" in err ? ioErrorFrom(path, err) : null;
  r.error = e ? e.message : `${path}: ${String(err)}`;
  r.errorCode = e ? e.code : "EIO";
  return r;
}
