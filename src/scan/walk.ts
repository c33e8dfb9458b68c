import { type Dirent, lstatSync, readdirSync, statSync } from "node:fs";
import type { InspectResult } from "../inspect/types.js";
import { errorResult } from "./scan-file.js";

export interface WalkOptions {
  /** Follow symbolic links to files and directories (default false, like `scanelf -R` without -L). */
  followSymlinks?: boolean;
  /** Stay on the file system of each root (default false). */
  oneFileSystem?: boolean;
}

/**
 * Walks directory trees depth-first in sorted order and yields the path of every regular file, or an
 * error result for a root or directory that cannot be read. Symbolic links are skipped unless
 * followed; followed directory loops are cut by device and inode.
 */
export function* walkFiles(roots: string[], opts: WalkOptions = {}): Generator<string | InspectResult> {
  const seenDirs = new Set<string>();
  for (const root of roots) {
    let rootDev: number | undefined;
    try {
      const st = statSync(root);
      rootDev = st.dev;
      if (!st.isDirectory()) {
        yield root;
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
        // Plain concatenation: dir is already normalised, and path.join per entry shows in profiles.
        const p = dir.endsWith("/") ? dir + e.name : `${dir}/${e.name}`;
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
          yield p;
        }
      }
      // Depth-first in sorted order: push in reverse so the first subdirectory is visited first.
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
}
