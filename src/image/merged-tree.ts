import type { EntryStat } from "../resolve/root-fs.js";
import type { TarReadEntry } from "../tar/reader.js";

/** What a layer entry means for the merged tree (image-spec layer.md "Whiteouts"). */
export type LayerChange =
  | { kind: "opaque"; dir: string }
  | { kind: "whiteout"; target: string }
  | { kind: "entry"; path: string };

/**
 * Classifies a normalised layer path ("etc/.wh.passwd"): `dir/.wh..wh..opq` hides the lower contents of
 * dir, `dir/.wh.NAME` deletes dir/NAME (and what is below it), anything else adds or replaces. Paths in
 * the result are in-root absolute ("/etc/passwd", "/" for the root).
 */
export function classifyLayerPath(path: string): LayerChange {
  const abs = path === "." ? "/" : `/${path}`;
  const slash = abs.lastIndexOf("/");
  const dir = abs.slice(0, slash) || "/";
  const name = abs.slice(slash + 1);
  if (name === ".wh..wh..opq") return { kind: "opaque", dir };
  if (name.startsWith(".wh."))
    return { kind: "whiteout", target: `${dir === "/" ? "" : dir}/${name.slice(4)}` };
  return { kind: "entry", path: abs };
}

/** One path of the merged tree. */
export interface MergedEntry {
  stat: EntryStat;
  linkname?: string;
  /** Index of the layer that provides it. */
  layer: number;
  /** Path inside that layer where its bytes are (a hard link's target). */
  layerPath: string;
}

/**
 * The file tree an image presents after its layers are applied in order, without extracting anything.
 * Memory: one small record per path of the final tree (the file index), never file contents.
 */
export class MergedTree {
  readonly entries = new Map<string, MergedEntry>();

  /**
   * Deletes `path` (when self) and everything below it — only what layers below `belowLayer` put there
   * when it is given (an opaque marker hides the lower layers, not its own layer's earlier entries).
   */
  removeUnder(path: string, self: boolean, belowLayer = Number.POSITIVE_INFINITY): void {
    const prefix = path === "/" ? "/" : `${path}/`;
    for (const [p, e] of [...this.entries])
      if (((self && p === path) || p.startsWith(prefix)) && e.layer < belowLayer) this.entries.delete(p);
  }

  /** Applies one entry of layer `layer`, in tar order. */
  apply(layer: number, e: TarReadEntry): void {
    if (e.path === ".") return;
    const c = classifyLayerPath(e.path);
    if (c.kind === "opaque") {
      this.removeUnder(c.dir, false, layer);
      return;
    }
    if (c.kind === "whiteout") {
      this.removeUnder(c.target, true);
      return;
    }
    // A non-directory replaces whatever was there, a whole directory included; a directory over a
    // directory only updates its metadata.
    if (e.type !== "dir") this.removeUnder(c.path, true);
    const kind = e.type === "dir" ? "dir" : e.type === "symlink" ? "symlink" : "file";
    // A hard link's header carries no size: it is its target's (an earlier entry of the same layer).
    const size = e.type === "hardlink" ? (this.entries.get(`/${e.linkname ?? ""}`)?.stat.size ?? 0) : e.size;
    this.entries.set(c.path, {
      stat: { kind, size, mode: e.mode, uid: e.uid, gid: e.gid },
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      layer,
      layerPath: e.type === "hardlink" && e.linkname ? e.linkname.replace(/^\/+/, "") : e.path,
    });
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }
  get(path: string): MergedEntry | undefined {
    return this.entries.get(path);
  }
}
