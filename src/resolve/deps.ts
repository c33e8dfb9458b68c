import { statSync } from "node:fs";
import { relative, resolve as resolveHostPath, sep } from "node:path";
import { IoError } from "../errors.js";
import { FileSource } from "../io/reader.js";
import { type DepsResult, type LibraryCache, resolveDeps } from "./resolve.js";
import { DirRootFs, EmptyRootFs, type RootFs } from "./root-fs.js";

export interface DepsOptions {
  /** Host directory used as the root (default "/"), or "scratch" for an empty root. */
  root?: string;
  /** In-root path of the binary (its $ORIGIN). Default: its path inside the root when it lies there, else /app/<name>. */
  location?: string;
  /** LD_LIBRARY_PATH in the target environment. */
  ldLibraryPath?: string;
  /** glibc-hwcaps subdirectories the target CPU supports, best first. */
  hwcaps?: string[];
  /** Share parsed libraries between calls on the same root. */
  cache?: LibraryCache;
}

/**
 * The RootFs for a --root value: "scratch" is empty, anything else a host directory, which must exist:
 * a mistyped root is an input error, not an empty root that makes every verdict "will not run".
 */
export function openRoot(root: string | undefined): RootFs {
  if (root === "scratch") return new EmptyRootFs();
  const dir = resolveHostPath(root ?? "/");
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    throw new IoError(
      code,
      `root ${root ?? "/"}: ${code === "ENOENT" ? "no such directory" : `cannot be read (${code})`}`,
    );
  }
  if (!isDir) throw new IoError("ENOTDIR", `root ${root}: not a directory`);
  return new DirRootFs(dir);
}

/** Where a host file sits inside a root: its own path when it lies in the root, else /app/<name>. */
export function locationInRoot(file: string, root: string | undefined): string {
  const abs = resolveHostPath(file);
  if (root === "scratch") return `/app/${abs.slice(abs.lastIndexOf(sep) + 1)}`;
  const hostRoot = resolveHostPath(root ?? "/");
  const rel = relative(hostRoot, abs);
  if (!rel.startsWith("..") && !rel.startsWith(sep)) return `/${rel.split(sep).join("/")}`;
  return `/app/${abs.slice(abs.lastIndexOf(sep) + 1)}`;
}

/**
 * `zerodep deps`: the shared-library closure of a binary as its loader would resolve it inside a
 * root. Throws IoError/ParseError when the binary itself cannot be read.
 */
export async function deps(file: string, opts: DepsOptions = {}): Promise<DepsResult> {
  const src = FileSource.open(file);
  try {
    return await resolveDeps(src, {
      root: openRoot(opts.root),
      location: opts.location ?? locationInRoot(file, opts.root),
      ldLibraryPath: opts.ldLibraryPath,
      hwcaps: opts.hwcaps,
      cache: opts.cache,
    });
  } finally {
    src.closeNow();
  }
}
