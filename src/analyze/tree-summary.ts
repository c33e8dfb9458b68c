import type { FileIndex, IndexNode } from "../image/file-index.js";
import type { TreeNode } from "./types.js";

/**
 * The final tree for a treemap, small enough to embed in a page: directories with their files, files
 * below 1/5000 of the image (or beyond 20 000 kept) folded per directory and layer into one
 * "(N small files)" node, so that filtering by layer still adds up.
 */
export function buildTree(index: FileIndex): TreeNode {
  let total = 0;
  let files = 0;
  for (const n of index.walk()) {
    if (n.kind === "file") {
      total += n.size;
      files++;
    }
  }
  const threshold = Math.max(1, total / 5000, files > 20000 ? total / 20000 : 0);
  const build = (n: IndexNode): TreeNode | null => {
    if (n.kind !== "dir") return null;
    const out: TreeNode = { n: n.name || "/", s: 0, c: [] };
    const small = new Map<number, { s: number; count: number }>();
    for (const child of n.children!.values()) {
      if (child.kind === "dir") {
        const d = build(child);
        if (d && d.s > 0) {
          out.c!.push(d);
          out.s += d.s;
        }
      } else if (child.kind === "file" && child.size > 0) {
        if (child.size >= threshold) out.c!.push({ n: child.name, s: child.size, l: child.layer });
        else {
          const a = small.get(child.layer) ?? { s: 0, count: 0 };
          a.s += child.size;
          a.count++;
          small.set(child.layer, a);
        }
        out.s += child.size;
      }
    }
    for (const [l, a] of small)
      out.c!.push({ n: `(${a.count} small file${a.count === 1 ? "" : "s"})`, s: a.s, l });
    out.c!.sort((a, b) => b.s - a.s);
    return out;
  };
  return build(index.root) ?? { n: "/", s: 0, c: [] };
}
