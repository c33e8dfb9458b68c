import { IoError } from "../errors.js";
import { BufferSource, type ByteSource, FileSource } from "../io/reader.js";
import type { EntryStat, RootFs } from "../resolve/root-fs.js";
import type { TarInput } from "../tar/writer.js";
import type { BaseImage } from "./base.js";

/**
 * The file tree of an image being built, seen as a RootFs, so that `check` can judge the image
 * before a byte of it is written. File bodies are host paths or bytes.
 */
export class TreeRootFs implements RootFs {
  readonly description: string;
  private readonly byPath = new Map<string, { input: TarInput; hostPath?: string }>();
  private readonly children = new Map<string, string[]>();

  constructor(
    inputs: { input: TarInput; hostPath?: string }[],
    description = "the image",
    private readonly base: BaseImage | null = null,
    /**
     * How host files are opened: the builder's cache, which hands every reader the same source (one
     * parse of the binary) and closes them all when the build ends, whatever the readers do.
     */
    private readonly openHost: (path: string) => ByteSource = (p) => FileSource.open(p),
  ) {
    this.description = description;
    this.children.set("/", []);
    // Our files (added below) override the base's merged tree, which is consulted on every lookup.
    const add = (p: string) => {
      const parent = p.slice(0, p.lastIndexOf("/")) || "/";
      if (!this.children.has(parent)) {
        // Parents the tar writer will add (prepareEntries): directories 0755 root.
        this.implicitDirs.add(parent);
        add(parent);
        this.children.set(parent, []);
      }
      const names = this.children.get(parent)!;
      const name = p.slice(p.lastIndexOf("/") + 1);
      if (!names.includes(name)) names.push(name);
    };
    for (const x of inputs) {
      const p = `/${x.input.entry.path}`;
      this.byPath.set(p, x);
      this.implicitDirs.delete(p);
      if (x.input.entry.type === "dir" && !this.children.has(p)) this.children.set(p, []);
      add(p);
    }
  }

  private readonly implicitDirs = new Set<string>();

  lstat(path: string): EntryStat | null {
    if (path === "/") return { kind: "dir", size: 0, mode: 0o755, uid: 0, gid: 0 };
    const x = this.byPath.get(path);
    if (!x) {
      const b = this.base?.rootFs.lstat(path);
      if (b) return b;
      return this.implicitDirs.has(path) ? { kind: "dir", size: 0, mode: 0o755, uid: 0, gid: 0 } : null;
    }
    const e = x.input.entry;
    const kind = e.type === "file" || e.type === "hardlink" ? "file" : e.type === "dir" ? "dir" : "symlink";
    return { kind, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid };
  }
  readlink(path: string): string | null {
    const e = this.byPath.get(path)?.input.entry;
    if (!e) return this.base?.rootFs.readlink(path) ?? null;
    return e.type === "symlink" ? (e.linkname ?? null) : null;
  }
  readdir(path: string): string[] | null {
    const ours = this.children.get(path);
    const theirs = this.base?.rootFs.readdir(path);
    if (!theirs) return ours ?? null;
    return ours ? [...new Set([...theirs, ...ours])] : theirs;
  }
  open(path: string): ByteSource {
    const x = this.byPath.get(path);
    if (!x && this.base?.rootFs.lstat(path)?.kind === "file") return this.base.rootFs.open(path);
    if (x?.input.entry.type !== "file")
      throw new IoError("ENOENT", `${this.description}:${path}: no such file`);
    if (x.hostPath) return this.openHost(x.hostPath);
    if (x.input.body instanceof Uint8Array)
      return new BufferSource(x.input.body, `${this.description}:${path}`);
    throw new IoError("EIO", `${this.description}:${path}: content not available for reading`);
  }
}
