/**
 * dive's image metrics, reproduced so that users can compare (dive v0.12–v0.13 `filetree.Efficiency`
 * and `image.Analyze`; README "The two waste figures"). Only the definition is reproduced, including
 * the parts users call wrong, so that the numbers match dive's on the same image:
 *
 * - Each layer is a tree of its tar entries; a parent without its own entry is a node with empty
 *   metadata (size 0, not a directory). Opaque markers (`.wh..wh..opq`) are ignored entirely.
 * - Only leaves of a layer's tree are scored. A leaf's size is its header size; a whiteout leaf
 *   (`.wh.NAME`, scored under NAME) weighs 0 when NAME was a file and the sum of the sizes below it when
 *   NAME was a directory (with its own directory entry) in the layers below.
 * - Per path: cumulative size over layers and the smallest size seen. efficiency = Σ smallest / Σ
 *   cumulative (1 when nothing was seen). wastedBytes = Σ cumulative over paths seen in two or more
 *   layers — the copy that is kept included (dive#684), and a deleted directory's files, seen once,
 *   count as no waste at all.
 * - Layer size = Σ header sizes of the layer's entries; wastedUserPercent = wastedBytes / Σ sizes of
 *   every layer but the first.
 *
 * When a whiteout names a path absent from the layers below, dive's tree walk fails and the rest of
 * that layer (in name order) is not scored; the path's record is left with a smallest size of -1,
 * which stays in Σ smallest (efficiency = (Σ smallest − 1) / Σ cumulative). We reproduce both and
 * report the layer in `abortedLayers`, so the number is dive's and the cause is visible.
 *
 * Checked against dive itself (v0.13.2-0.20250516191726-d6c691947f8f, the build .ci/run pins) by
 * test/analyze/dive-oracle.test.ts: overwrites, deletions, opaque whiteouts, a file replaced by a
 * directory and back, hard links, a whiteout over nothing, a single layer.
 */

interface DiveInfo {
  size: number;
  isDir: boolean;
}

interface DiveNode {
  info: DiveInfo | null;
  children: Map<string, DiveNode>;
}

export interface DiveInefficiency {
  path: string;
  cumulativeSize: number;
  /** Layers the path was scored in (a whiteout counts as one). */
  count: number;
}

export interface DiveMetrics {
  efficiency: number;
  wastedBytes: number;
  /** wastedBytes / user size (every layer but the first); null when there are no user bytes. */
  wastedUserPercent: number | null;
  sizeBytes: number;
  userSizeBytes: number;
  /** Header-size sum per layer, as dive's layer table shows it. */
  layerSizes: number[];
  /** Paths seen in two or more layers, largest cumulative size first. */
  inefficiencies: DiveInefficiency[];
  /** Layers whose scoring dive stops early (a whiteout with nothing beneath it). */
  abortedLayers: { layer: number; path: string }[];
}

const WH = ".wh.";
const OPQ_PREFIX = ".wh..wh..";

/**
 * Shared by every leaf until it gets a child: a Map per node was most of the model's memory for a layer
 * of a million files (issue #12). Never written to: setChild replaces it first.
 */
const NO_CHILDREN: Map<string, DiveNode> = new Map();

function emptyNode(): DiveNode {
  return { info: null, children: NO_CHILDREN };
}

function setChild(n: DiveNode, name: string, child: DiveNode): void {
  if (n.children === NO_CHILDREN) n.children = new Map();
  n.children.set(name, child);
}

/** Go's sort.Strings: byte order of the UTF-8 encoding. */
function goLess(a: string, b: string): number {
  // UTF-16 order is UTF-8 byte order unless a surrogate or a char >= U+E000 is involved: the common
  // case needs no encoding (two Buffers per comparison dominated sorting large directories).
  if (!NON_BMP_ORDER.test(a) && !NON_BMP_ORDER.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
const NON_BMP_ORDER = /[\uD800-\uFFFF]/;

export class DiveModel {
  private stacked: DiveNode = emptyNode();
  private layer: DiveNode = emptyNode();
  private layerIndex = 0;
  private layerSize = 0;
  private readonly paths = new Map<string, { cum: number; min: number; count: number }>();
  private readonly layerSizes: number[] = [];
  private readonly aborted: { layer: number; path: string }[] = [];

  /** One tar entry of the current layer: its cleaned relative path, header size and directory flag. */
  add(path: string, size: number, isDir: boolean): void {
    this.layerSize += size;
    if (path === ".") return;
    let node = this.layer;
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      let next = node.children.get(name);
      if (!next) {
        if (name.startsWith(OPQ_PREFIX)) return;
        next = emptyNode();
        setChild(node, name, next);
      }
      node = next;
      if (i === parts.length - 1) node.info = { size, isDir };
    }
  }

  /** Scores the current layer against the layers below it, then stacks it. */
  endLayer(): void {
    const idx = this.layerIndex;
    // dive looks whiteouts up in layers 0..idx-1 stacked; for the first layer, in that layer itself.
    const lower = idx === 0 ? this.layer : this.stacked;
    // Post-order over the layer's tree in Go's name order, iteratively: a hostile layer can nest paths
    // thousands deep (one PAX path of 3,000+ components), far past the JS call stack.
    const frames: Frame[] = [
      { node: this.layer, name: "", names: sortedNames(this.layer), i: 0, down: false },
    ];
    const pathOf = (): string[] => frames.slice(1).map((f) => f.name);
    for (const [name, child] of postOrder(frames)) {
      if (child.children.size > 0) continue;
      const path = pathOf();
      let size = child.info?.size ?? 0;
      let key = path.concat(name);
      if (name.startsWith(WH)) {
        key = path.concat(name.slice(WH.length));
        const prev = lookup(lower, key);
        if (!prev) {
          const p = `/${key.join("/")}`;
          // dive creates the path's record (minDiscoveredSize -1) before the failing lookup and
          // never fills it: the -1 stays in Σ smallest (efficiency.go), so efficiency drops a hair.
          if (!this.paths.has(p)) this.paths.set(p, { cum: 0, min: -1, count: 0 });
          this.aborted.push({ layer: idx, path: p });
          break;
        }
        size = prev.info?.isDir ? subtreeSize(prev) : 0;
      }
      const p = `/${key.join("/")}`;
      const d = this.paths.get(p);
      if (!d) this.paths.set(p, { cum: size, min: size, count: 1 });
      else {
        d.cum += size;
        if (size < d.min) d.min = size;
        d.count++;
      }
    }
    if (idx === 0) this.stacked = cloneTree(this.layer);
    stack(this.stacked, this.layer);
    this.layerSizes.push(this.layerSize);
    this.layer = emptyNode();
    this.layerSize = 0;
    this.layerIndex++;
  }

  result(): DiveMetrics {
    let min = 0;
    let cum = 0;
    let wasted = 0;
    const ineff: DiveInefficiency[] = [];
    for (const [path, d] of this.paths) {
      min += d.min;
      cum += d.cum;
      if (d.count >= 2) {
        wasted += d.cum;
        ineff.push({ path, cumulativeSize: d.cum, count: d.count });
      }
    }
    ineff.sort((a, b) => b.cumulativeSize - a.cumulativeSize || (a.path < b.path ? -1 : 1));
    const sizeBytes = this.layerSizes.reduce((a, b) => a + b, 0);
    const userSizeBytes = sizeBytes - (this.layerSizes[0] ?? 0);
    return {
      efficiency: cum === 0 ? 1 : min / cum,
      wastedBytes: wasted,
      wastedUserPercent: userSizeBytes === 0 ? null : wasted / userSizeBytes,
      sizeBytes,
      userSizeBytes,
      layerSizes: [...this.layerSizes],
      inefficiencies: ineff,
      abortedLayers: [...this.aborted],
    };
  }
}

function lookup(root: DiveNode, parts: string[]): DiveNode | null {
  let n: DiveNode | undefined = root;
  for (const p of parts) {
    n = n.children.get(p);
    if (!n) return null;
  }
  return n;
}

function subtreeSize(n: DiveNode): number {
  let total = 0;
  const st = [n];
  while (st.length > 0) {
    const x = st.pop()!;
    total += x.info?.size ?? 0;
    for (const c of x.children.values()) st.push(c);
  }
  return total;
}

function sortedNames(n: DiveNode): string[] {
  return [...n.children.keys()].sort(goLess);
}

/** One level of an iterative post-order walk: the node, its sorted child names, the next one, whether that child was entered. */
interface Frame {
  node: DiveNode;
  name: string;
  names: string[];
  i: number;
  down: boolean;
}

/**
 * Steps an iterative post-order walk in Go's name order over `frames` (seeded with the root's frame):
 * yields each child after its whole subtree, with the frame stack as it is then (the child's parent
 * on top). Iterative because a hostile layer can nest paths thousands deep.
 */
function* postOrder(frames: Frame[]): Generator<[string, DiveNode]> {
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    if (f.i >= f.names.length) {
      frames.pop();
      continue;
    }
    const name = f.names[f.i]!;
    const child = f.node.children.get(name)!;
    if (!f.down) {
      f.down = true;
      frames.push({ node: child, name, names: sortedNames(child), i: 0, down: false });
      continue;
    }
    f.down = false;
    f.i++;
    yield [name, child];
  }
}

function cloneTree(n: DiveNode): DiveNode {
  const out: DiveNode = { info: n.info, children: NO_CHILDREN };
  const todo: [DiveNode, DiveNode][] = [[n, out]];
  while (todo.length > 0) {
    const [from, to] = todo.pop()!;
    for (const [k, c] of from.children) {
      const copy: DiveNode = { info: c.info, children: NO_CHILDREN };
      setChild(to, k, copy);
      todo.push([c, copy]);
    }
  }
  return out;
}

/** dive's FileTree.Stack: children first; a whiteout removes its target, anything else overwrites metadata. Iterative (see endLayer). */
function stack(into: DiveNode, upper: DiveNode): void {
  // Each frame caches its directory's node in `into` once made, so a node costs O(1), not O(depth):
  // a whiteout only ever removes a sibling, never a directory on the current path.
  const frames: (Frame & { into?: DiveNode })[] = [
    { node: upper, name: "", names: sortedNames(upper), i: 0, down: false, into },
  ];
  const intoOf = (k: number): DiveNode => {
    let j = k;
    while (frames[j]!.into === undefined) j--;
    for (let m = j + 1; m <= k; m++) {
      const parent = frames[m - 1]!.into!;
      let n = parent.children.get(frames[m]!.name);
      if (!n) {
        n = emptyNode();
        setChild(parent, frames[m]!.name, n);
      }
      frames[m]!.into = n;
    }
    return frames[k]!.into!;
  };
  for (const [name, child] of postOrder(frames)) {
    const top = frames.length - 1;
    if (name.startsWith(WH)) {
      // The parent directory as it is in `into` now, without creating it.
      let parent: DiveNode | undefined = into;
      for (let m = 1; m <= top && parent; m++)
        parent = frames[m]!.into ?? parent.children.get(frames[m]!.name);
      parent?.children.delete(name.slice(WH.length));
      continue;
    }
    const dir = intoOf(top);
    let n = dir.children.get(name);
    if (!n) {
      n = emptyNode();
      setChild(dir, name, n);
    }
    n.info = child.info;
  }
}
