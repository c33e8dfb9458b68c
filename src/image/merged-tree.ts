import type { EntryStat } from "../resolve/root-fs.js";
import type { TarReadEntry } from "../tar/reader.js";
import { FileIndex, type IndexNode, nodePath } from "./file-index.js";

export { classifyLayerPath, type LayerChange } from "./file-index.js";

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
 * The file tree an image presents after its layers are applied in order, as a flat map of paths: a
 * convenience view over FileIndex (the trie that analyze, check IMAGE and pack --base use), for callers
 * that want plain records. Memory: one small record per path of the final tree, never file contents.
 */
export class MergedTree {
  readonly index = new FileIndex();

  /** Applies one entry of layer `layer`, in tar order (whiteouts, opaque markers, hard links). */
  apply(layer: number, e: TarReadEntry): void {
    this.index.apply(layer, e);
  }

  /** The final tree: in-root path ("/etc/passwd") → entry, in walk order. */
  get entries(): Map<string, MergedEntry> {
    const out = new Map<string, MergedEntry>();
    // Parents no layer declared (implicit) are left out, as a flat list of layer entries would.
    for (const n of this.index.walk()) if (!n.implicit) out.set(nodePath(n), toEntry(n));
    return out;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }
  get(path: string): MergedEntry | undefined {
    const n = this.index.get(path);
    return n && !n.implicit && n.parent ? toEntry(n) : undefined;
  }
}

function toEntry(n: IndexNode): MergedEntry {
  return {
    stat: { kind: n.kind, size: n.size, mode: n.mode, uid: n.uid, gid: n.gid },
    ...(n.linkname !== undefined ? { linkname: n.linkname } : {}),
    layer: n.layer,
    layerPath: n.layerPath,
  };
}
