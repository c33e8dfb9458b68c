import type { EntryKind } from "../resolve/root-fs.js";
import type { TarReadEntry } from "../tar/reader.js";
import type { FactList } from "./facts.js";

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

/** Why bytes a layer shipped are not in the final file tree. */
export type WasteReason =
  /** A later layer wrote the same path. */
  | "overwritten"
  /** A whiteout (`.wh.NAME`) in a later layer deleted it, or a directory above it. */
  | "deleted"
  /** An opaque whiteout (`.wh..wh..opq`) in a later layer hid the directory's lower contents. */
  | "opaque"
  /** The same path appears twice in one layer: only the last copy counts. */
  | "duplicate"
  /** A later layer put something under it as if it were a directory, replacing it. */
  | "replaced-by-directory";

/** One event that dropped shipped bytes from the final tree: the top path removed and what it held. */
export interface WasteEvent {
  /** In-root path of the removed file or directory ("/var/lib/apt/lists"). */
  path: string;
  reason: WasteReason;
  /** Layer whose entry caused the removal. */
  byLayer: number;
  /** Content bytes lost, and from which layers they came (index → bytes). */
  bytes: number;
  files: number;
  fromLayers: Record<number, number>;
}

/** One path of the image's file tree. */
export interface IndexNode {
  name: string;
  parent: IndexNode | null;
  kind: EntryKind;
  /** Logical size: content bytes for files (a hard link's is its target's), 0 otherwise. */
  size: number;
  /** Content bytes this entry carried in its layer tar (a hard link carries none). */
  shipped: number;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  hardlink?: boolean;
  /** Layer that provides it (for directories: the last layer that wrote or implied it). */
  layer: number;
  /** Layer whose tar holds the bytes (a hard link's target may be in a lower layer). */
  dataLayer: number;
  /** Created only as a parent of another entry (no header of its own). */
  implicit?: boolean;
  /** Path inside the layer tar where the bytes are (a hard link's target), without leading "/". */
  layerPath: string;
  children: Map<string, IndexNode> | null;
  /** Typed facts attached by content visitors (src/image/facts.ts); a hard link shares its target's. */
  facts?: FactList;
}

export interface ApplyOutcome {
  /** "added" (new path), "modified" (path existed below), or a whiteout/opaque action. */
  change: "added" | "modified" | "removed" | "opaque" | "none";
  /** Whiteout or opaque marker that found nothing to remove. */
  nothingBeneath?: boolean;
  /** Hard link whose target is not in the tree. */
  danglingHardlink?: boolean;
  /** A parent component was a file or symlink and was replaced by a directory. */
  replacedParent?: string;
  /** The node the entry created or updated. */
  node?: IndexNode;
}

/**
 * The merged file tree of an image as a trie, built one layer entry at a time in tar order, with exact
 * accounting of every shipped byte that does not reach the final tree. A whiteout removes a subtree
 * in time proportional to the subtree (each node is removed at most once), unlike a flat map that has
 * to scan every path for a prefix.
 */
export class FileIndex {
  readonly root: IndexNode = newNode("", null, "dir", -1);
  readonly waste: WasteEvent[] = [];
  wastedBytes = 0;
  /** Bytes shipped per layer that did not survive, by source layer. */
  readonly wastedByLayer: number[] = [];
  /**
   * Live file nodes by the bytes they show (data layer + path in that layer's tar): a file and its hard
   * links share one entry, so deleting the path that carried the bytes while a link survives moves the
   * bytes to the link instead of counting them as waste.
   */
  readonly #holders = new Map<string, Set<IndexNode>>();

  constructor() {
    this.root.implicit = true;
  }

  /** The node at an in-root absolute path ("/etc/passwd"), or undefined. */
  get(path: string): IndexNode | undefined {
    let n: IndexNode | undefined = this.root;
    for (const c of path.split("/")) {
      if (c === "") continue;
      n = n.children?.get(c);
      if (!n) return undefined;
    }
    return n;
  }

  /** Applies one entry of layer `layer` (image-spec "Applying Changesets"). */
  apply(layer: number, e: TarReadEntry): ApplyOutcome {
    if (e.path === ".") return { change: "none" };
    const c = classifyLayerPath(e.path);
    if (c.kind === "opaque") {
      const dir = this.get(c.dir);
      if (dir?.kind !== "dir") return { change: "opaque", nothingBeneath: true };
      const before = this.wastedBytes;
      const removed = this.removeLower(dir, layer, "opaque", layer);
      return { change: "opaque", nothingBeneath: removed === 0 && this.wastedBytes === before };
    }
    if (c.kind === "whiteout") {
      const t = this.get(c.target);
      if (!t || t === this.root) return { change: "removed", nothingBeneath: true };
      if (t.layer < layer) this.remove(t, "deleted", layer);
      else if (t.kind === "dir") this.removeLower(t, layer, "deleted", layer);
      return { change: "removed" };
    }
    const out: ApplyOutcome = { change: "added" };
    const parts = c.path.split("/").filter((p) => p !== "");
    let parent = this.root;
    for (const name of parts.slice(0, -1)) {
      let next = parent.children!.get(name);
      if (next && next.kind !== "dir") {
        out.replacedParent = nodePath(next);
        this.remove(next, "replaced-by-directory", layer);
        next = undefined;
      }
      if (!next) {
        next = newNode(name, parent, "dir", layer);
        next.implicit = true;
        next.mode = 0o755;
        next.layerPath = parts.slice(0, parts.indexOf(name) + 1).join("/");
        parent.children!.set(name, next);
      }
      parent = next;
    }
    const name = parts[parts.length - 1]!;
    const existing = parent.children!.get(name);
    const kind: EntryKind = e.type === "dir" ? "dir" : e.type === "symlink" ? "symlink" : "file";
    if (existing) {
      out.change =
        existing.layer < layer && !(existing.implicit && existing.layer === layer) ? "modified" : "added";
      if (existing.kind === "dir" && kind === "dir") {
        // A directory over a directory only changes its metadata; its contents stay.
        Object.assign(existing, {
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          layer,
          dataLayer: layer,
          layerPath: e.path,
        });
        existing.implicit = false;
        out.node = existing;
        return out;
      }
      // A file or symlink of a lower layer replaced by a directory entry of the same path (GNU tar
      // writes "f/" before "f/child") is the same event as a path under it replacing it.
      const reason: WasteReason =
        existing.layer === layer && !existing.implicit
          ? "duplicate"
          : existing.kind !== "dir" && kind === "dir"
            ? "replaced-by-directory"
            : "overwritten";
      this.remove(existing, reason, layer);
    }
    const n = newNode(name, parent, kind, layer);
    n.mode = e.mode;
    n.uid = e.uid;
    n.gid = e.gid;
    n.layerPath = e.path;
    if (e.type === "file") {
      n.size = e.size;
      n.shipped = e.size;
    } else if (e.type === "symlink") {
      n.linkname = e.linkname ?? "";
    } else if (e.type === "hardlink") {
      n.hardlink = true;
      n.linkname = e.linkname ?? "";
      const t = this.get(`/${n.linkname}`);
      if (t?.kind !== "file") out.danglingHardlink = true;
      else {
        n.size = t.size;
        n.layerPath = t.layerPath;
        n.dataLayer = t.dataLayer;
        if (!t.facts) t.facts = [];
        n.facts = t.facts;
      }
    }
    parent.children!.set(name, n);
    // Only bytes shown by two paths need a holder record: a Set per file made a layer of a million
    // files cost hundreds of MB (issue #12). The target is recorded with its first link.
    if (n.hardlink && !out.danglingHardlink) {
      this.#hold(this.get(`/${n.linkname}`)!);
      this.#hold(n);
    }
    out.node = n;
    return out;
  }

  #key(n: IndexNode): string {
    return `${n.dataLayer}\0${n.layerPath}`;
  }

  #hold(n: IndexNode): void {
    const k = this.#key(n);
    const set = this.#holders.get(k);
    if (set) set.add(n);
    else this.#holders.set(k, new Set([n]));
  }

  /** Removes a node and its subtree, accounting the shipped bytes as waste. */
  private remove(n: IndexNode, reason: WasteReason, byLayer: number): void {
    const ev: WasteEvent = { path: nodePath(n), reason, byLayer, bytes: 0, files: 0, fromLayers: {} };
    this.collect(n, ev);
    n.parent!.children!.delete(n.name);
    this.record(ev);
  }

  /** Removes what lower layers put below `dir`, keeping entries of `layer` itself. Returns nodes removed. */
  private removeLower(dir: IndexNode, layer: number, reason: WasteReason, byLayer: number): number {
    let removed = 0;
    for (const child of [...dir.children!.values()]) {
      if (child.layer < layer) {
        this.remove(child, reason, byLayer);
        removed++;
      } else if (child.kind === "dir") removed += this.removeLower(child, layer, reason, byLayer);
    }
    return removed;
  }

  private collect(n: IndexNode, ev: WasteEvent): void {
    const stack = [n];
    const removed: IndexNode[] = [];
    while (stack.length > 0) {
      const x = stack.pop()!;
      removed.push(x);
      if (x.kind === "file") this.#holders.get(this.#key(x))?.delete(x);
      if (x.children) for (const c of x.children.values()) stack.push(c);
    }
    for (const x of removed) {
      if (x.kind === "file") ev.files++;
      if (x.shipped <= 0) continue;
      // A hard link outside the removed subtree still shows these bytes: they move to it.
      const heir = this.#holders.get(this.#key(x))?.values().next().value;
      if (heir) {
        heir.shipped += x.shipped;
        continue;
      }
      ev.bytes += x.shipped;
      ev.fromLayers[x.layer] = (ev.fromLayers[x.layer] ?? 0) + x.shipped;
    }
  }

  private record(ev: WasteEvent): void {
    if (ev.files === 0 && ev.bytes === 0) return;
    this.waste.push(ev);
    this.wastedBytes += ev.bytes;
    for (const [l, b] of Object.entries(ev.fromLayers)) {
      const i = Number(l);
      this.wastedByLayer[i] = (this.wastedByLayer[i] ?? 0) + b;
    }
  }

  /** Every node below the root, depth first, children in byte order of their names. */
  *walk(from: IndexNode = this.root): Generator<IndexNode> {
    const stack: IndexNode[] = [from];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n !== this.root) yield n;
      if (n.children) {
        const names = [...n.children.keys()].sort().reverse();
        for (const k of names) stack.push(n.children.get(k)!);
      }
    }
  }
}

function newNode(name: string, parent: IndexNode | null, kind: EntryKind, layer: number): IndexNode {
  return {
    name,
    parent,
    kind,
    size: 0,
    shipped: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    layer,
    dataLayer: layer,
    layerPath: "",
    children: kind === "dir" ? new Map() : null,
    // Every field present from the start: one object shape, no out-of-object property store when a
    // field is set later (about 40 bytes a node for a million nodes).
    implicit: undefined,
    linkname: undefined,
    hardlink: undefined,
    facts: undefined,
  };
}

/** In-root absolute path of a node ("/" for the root). */
export function nodePath(n: IndexNode): string {
  const parts: string[] = [];
  for (let x: IndexNode | null = n; x?.parent; x = x.parent) parts.push(x.name);
  return `/${parts.reverse().join("/")}`;
}

/** Byte-wise string order (Go's sort.Strings on UTF-8), not the locale's. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
