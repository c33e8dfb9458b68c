/**
 * Test-only stand-in for the YAML loader (src/k8s/yaml.ts, written in parallel): multi-document YAML →
 * K8sDocument[] with positionOf from the `yaml` library's node ranges. Positions are the key of a map
 * entry (or the item of a sequence), 1-based; an absent field gives its nearest existing parent.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import type { K8sDocument, SourcePosition } from "../../src/k8s/types.js";

export function docsForTests(text: string, file = "test.yaml"): K8sDocument[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  if (!Array.isArray(docs)) throw new Error("empty YAML stream");
  return docs.map((d, index) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    const at = (offset: number): SourcePosition => {
      const p = lc.linePos(offset);
      return { line: p.line, column: p.col };
    };
    return {
      file,
      index,
      value: d.toJS({ maxAliasCount: 100 }) as unknown,
      positionOf(path: readonly (string | number)[]): SourcePosition | null {
        let node = d.contents as Node | null;
        if (!node?.range) return null;
        let pos = at(node.range[0]);
        for (const k of path) {
          if (isMap(node)) {
            const pair = node.items.find(
              (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(k),
            );
            if (!pair) return pos;
            const key = pair.key as Node;
            if (key.range) pos = at(key.range[0]);
            node = pair.value as Node | null;
          } else if (isSeq(node) && typeof k === "number") {
            const item = node.items[k] as Node | undefined;
            if (!item?.range) return pos;
            pos = at(item.range[0]);
            node = item;
          } else return pos;
          if (!node) return pos;
        }
        return pos;
      },
    };
  });
}
