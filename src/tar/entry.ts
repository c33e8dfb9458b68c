import { ZerodepError } from "../errors.js";

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink";

export interface TarEntry {
  /** Relative path inside the archive, "/"-separated, no leading "/" or "./", no trailing "/", never ".." components. */
  path: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (e.g. 0o1777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Bytes of content (files only; 0 otherwise). */
  size: number;
  /** Symlink target (stored as given) / hardlink target (an archive path). */
  linkname?: string;
}

/**
 * Normalises a user path ("/etc/passwd", "./a//b/") to an archive path or throws ZerodepError("BAD_PATH")
 * for "..", empty, NUL. Rejecting ".." instead of resolving it keeps the writer honest: a layer we produce
 * never contains a name that a careless extractor could turn into an escape (CVE-2018-20482 family).
 */
export function normalizeArchivePath(p: string): string {
  if (typeof p !== "string")
    throw new ZerodepError("BAD_PATH", `archive path must be a string, got ${typeof p}`);
  if (p.includes("\0")) throw new ZerodepError("BAD_PATH", `archive path ${JSON.stringify(p)} contains NUL`);
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..")
      throw new ZerodepError("BAD_PATH", `archive path ${JSON.stringify(p)} has a '..' component`);
    parts.push(c);
  }
  if (parts.length === 0) throw new ZerodepError("BAD_PATH", `archive path ${JSON.stringify(p)} is empty`);
  return parts.join("/");
}
