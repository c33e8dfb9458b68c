// A deterministic sample of ELF files from the host, for the inspect benchmark. Files are recognised by
// their magic bytes (not by name or mode), symbolic links are skipped so no file is counted twice, and
// the list is sorted by code units so the same host yields the same sample on every run.
import { closeSync, type Dirent, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";

const ELF_MAGIC = 0x7f454c46; // "\x7fELF", e_ident[0..3]

/** Every regular ELF file under the roots (recursively, symlinks not followed), sorted. */
export function listElfFiles(roots: string[]): string[] {
  const found: string[] = [];
  const head = Buffer.alloc(4);
  const stack = [...roots];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable directory: not part of the sample
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && startsWithElfMagic(p, head)) found.push(p);
    }
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * `count` entries spread evenly over the sorted list (index ⌊i·n/count⌋), so the sample covers every
 * directory instead of only the alphabetically first ones, and is stable for a given host.
 */
export function pickByStride<T>(sorted: T[], count: number): T[] {
  if (sorted.length <= count) return [...sorted];
  const picked: T[] = [];
  for (let i = 0; i < count; i++) picked.push(sorted[Math.floor((i * sorted.length) / count)]!);
  return picked;
}

function startsWithElfMagic(path: string, head: Buffer): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32BE(0) === ELF_MAGIC;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
