import { CONTENT_SHA256, getFact } from "../image/facts.js";
import { type IndexNode, nodePath } from "../image/file-index.js";
import type { ImageRef } from "../image/reference.js";
import type { Platform } from "../oci/types.js";
import { type OpenImageOptions, openImage } from "../transfer/open.js";
import { analyzeSource } from "./analyze.js";

export const DIFF_SCHEMA_VERSION = 1;

export interface FileChange {
  path: string;
  kind: string;
  /** Size in A and in B (null where absent). */
  sizeA: number | null;
  sizeB: number | null;
  delta: number;
  /** What changed for a path in both: content, mode, owner, type, link. */
  changes?: string[];
}

export interface ConfigChange {
  field: string;
  a: unknown;
  b: unknown;
}

/** One side of a diff: which image, and the size of its final tree. */
export interface DiffSide {
  image: string;
  digest: string;
  platform: string;
  finalBytes: number;
  finalFiles: number;
  layers: number;
}

export interface DiffResult {
  schemaVersion: 1;
  a: DiffSide;
  b: DiffSide;
  added: FileChange[];
  removed: FileChange[];
  changed: FileChange[];
  /** Σ sizes B − A over the final trees. */
  sizeDelta: number;
  config: ConfigChange[];
}

interface Flat {
  kind: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  link: string | undefined;
  sha256: unknown;
}

function flat(n: IndexNode): Flat {
  return {
    kind: n.kind,
    size: n.kind === "file" ? n.size : 0,
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    link: n.kind === "symlink" ? n.linkname : undefined,
    sha256: getFact(n, CONTENT_SHA256),
  };
}

/**
 * `zerodep diff A B`: the final file trees of two images compared path by path (content by sha256 of
 * the bytes, read while streaming), with size deltas, and the config fields that differ. Each image is
 * read in one pass per layer, as analyze does; nothing is extracted.
 */
export async function diffImages(
  specA: string | ImageRef,
  specB: string | ImageRef,
  opts: { platform?: Platform | string; maxLayerBytes?: number; image?: OpenImageOptions } = {},
): Promise<DiffResult> {
  const load = async (spec: string | ImageRef) => {
    const src = await openImage(spec, opts.image);
    try {
      const a = await analyzeSource(src, { ...opts, noAudit: true, hashContents: true });
      a.rootFs.close(); // the trees are compared, no file is read back
      return a;
    } finally {
      await src.close();
    }
  };
  const A = await load(specA);
  const B = await load(specB);
  // Both trees are walked and looked up in place: a path → record map of each side doubled the
  // memory of a diff of images with a million files (issue #12).
  const added: FileChange[] = [];
  const removed: FileChange[] = [];
  const changed: FileChange[] = [];
  for (const na of A.index.walk()) {
    const p = nodePath(na);
    const a = flat(na);
    const nb = B.index.get(p);
    const b = nb && flat(nb);
    if (!b) {
      removed.push({ path: p, kind: a.kind, sizeA: a.size, sizeB: null, delta: -a.size });
      continue;
    }
    const ch: string[] = [];
    if (a.kind !== b.kind) ch.push("type");
    else if (a.kind === "file" && (a.size !== b.size || a.sha256 !== b.sha256)) ch.push("content");
    if (a.link !== b.link) ch.push("link");
    if (a.mode !== b.mode) ch.push("mode");
    if (a.uid !== b.uid || a.gid !== b.gid) ch.push("owner");
    if (ch.length > 0)
      changed.push({
        path: p,
        kind: b.kind,
        sizeA: a.size,
        sizeB: b.size,
        delta: b.size - a.size,
        changes: ch,
      });
  }
  for (const nb of B.index.walk()) {
    const p = nodePath(nb);
    if (A.index.get(p)) continue;
    const b = flat(nb);
    added.push({ path: p, kind: b.kind, sizeA: null, sizeB: b.size, delta: b.size });
  }
  const ca = A.image.config as unknown as Record<string, unknown>;
  const cb = B.image.config as unknown as Record<string, unknown>;
  const config: ConfigChange[] = [];
  const cmp = (field: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) config.push({ field, a: x ?? null, b: y ?? null });
  };
  for (const k of ["architecture", "os", "variant"]) cmp(k, ca[k], cb[k]);
  const ia = (ca["config"] ?? {}) as Record<string, unknown>;
  const ib = (cb["config"] ?? {}) as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ia), ...Object.keys(ib)])].sort())
    cmp(`config.${k}`, ia[k], ib[k]);
  const side = (x: typeof A) => ({
    image: x.result.image,
    digest: x.result.digest,
    platform: x.result.platform,
    finalBytes: x.result.totals.finalBytes,
    finalFiles: x.result.totals.finalFiles,
    layers: x.result.totals.layers,
  });
  const bySize = (p: FileChange, q: FileChange) =>
    Math.abs(q.delta) - Math.abs(p.delta) || (p.path < q.path ? -1 : 1);
  return {
    schemaVersion: 1,
    a: side(A),
    b: side(B),
    added: added.sort(bySize),
    removed: removed.sort(bySize),
    changed: changed.sort(bySize),
    sizeDelta: B.result.totals.finalBytes - A.result.totals.finalBytes,
    config,
  };
}
