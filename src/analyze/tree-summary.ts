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
  const build = (n: IndexNode, depth: number): TreeNode | null => {
    if (n.kind !== "dir") return null;
    if (depth >= MAX_TREE_DEPTH) return folded(n);
    const out: TreeNode = { n: n.name || "/", s: 0, c: [] };
    const small = new Map<number, { s: number; count: number }>();
    for (const child of n.children!.values()) {
      if (child.kind === "dir") {
        const d = build(child, depth + 1);
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
  return build(index.root, 0) ?? { n: "/", s: 0, c: [] };
}

/**
 * Directories deeper than this are one node in the treemap: nobody reads a treemap 64 levels down, and a
 * hostile layer can nest thousands of levels (the page's JSON and the recursion here must stay bounded).
 */
const MAX_TREE_DEPTH = 64;

/** A whole subtree as one node, summed without recursion. */
function folded(dir: IndexNode): TreeNode {
  let s = 0;
  let count = 0;
  const todo = [dir];
  while (todo.length > 0) {
    const n = todo.pop()!;
    for (const c of n.children?.values() ?? []) {
      if (c.kind === "dir") todo.push(c);
      else if (c.kind === "file") {
        s += c.size;
        count++;
      }
    }
  }
  return { n: `${dir.name} (${count} file${count === 1 ? "" : "s"} deeper)`, s };
}
