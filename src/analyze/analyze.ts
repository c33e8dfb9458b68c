import { hostPlatform } from "../check/check.js";
import { runtimeConfigOf } from "../check/entrypoint.js";
import { getFact, setFact } from "../image/facts.js";
import { type FileIndex, nodePath, type WasteReason } from "../image/file-index.js";
import type { ImageRootFs } from "../image/image-root-fs.js";
import { type ContentVisitor, indexImage, type LayerVisitor, sha256Visitor } from "../image/index-image.js";
import type { ImageRef } from "../image/reference.js";
import { formatPlatform, type ResolvedImage, resolveImage } from "../image/select.js";
import type { ImageSource } from "../image/source.js";
import { SpillWriter } from "../io/spill.js";
import type { Platform } from "../oci/types.js";
import { type OpenImageOptions, openImage } from "../transfer/open.js";
import { auditImage } from "./audit.js";
import { DiveModel } from "./dive-model.js";
import { auditElf, ELF_AUDIT, elfAuditError } from "./elf-audit.js";
import { buildTree } from "./tree-summary.js";
import type { AnalyzeResult, LayerReport, LayerWarningCode } from "./types.js";

export interface AnalyzeOptions {
  /** How to open the reference (registry options: CA files, credentials, insecure). */
  image?: OpenImageOptions;
  platform?: Platform | string;
  /** Refuse a layer that decompresses beyond this (gzip bombs). Default 16 GiB. */
  maxLayerBytes?: number;
  /** ELF files larger than this are listed but not parsed. Default 512 MiB. */
  maxElfBytes?: number;
  /**
   * ELF files up to this size are audited from memory, larger ones from a temporary file (so one file
   * never costs more memory than this). Default 64 MiB (SPILL_MEMORY_LIMIT).
   */
  elfMemoryBytes?: number;
  /** Skip the contents audit (ELF facts, check of the entrypoint): file index and waste only. */
  noAudit?: boolean;
  /** sha256 of every regular file's content (for diff). */
  hashContents?: boolean;
  /** Include the aggregated tree for the HTML report. */
  tree?: boolean;
  /** How many largest files / waste events / inefficiencies to list. Default 20 / 100 / 100. */
  top?: number;
  /** Progress (TTY only in the CLI). */
  onProgress?: (m: { layer: number; layers: number; compressedBytes: number }) => void;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** What one analysis pass produces besides the report: the index and a RootFs over it. */
export interface AnalyzedImage {
  result: AnalyzeResult;
  index: FileIndex;
  image: ResolvedImage;
  rootFs: ImageRootFs;
}

/**
 * `zerodep analyze IMAGE`: what is in an image, what it wastes, and whether its entrypoint runs. Opens
 * the reference, analyzes one platform and closes it. See analyzeSource for the details.
 */
export async function analyze(spec: string | ImageRef, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const src = await openImage(spec, opts.image);
  try {
    const a = await analyzeSource(src, opts);
    a.rootFs.close();
    return a.result;
  } finally {
    await src.close();
  }
}

/**
 * Parses every ELF file while it streams by: recognised by its first bytes, collected (up to maxElf)
 * and audited right there, so the audit needs no second pass; the facts stay only while the file
 * stays in the tree. Files up to SPILL_MEMORY_LIMIT are held in memory, larger ones in a temporary
 * file read by range: a file costs at most that much memory whatever its size (issue #12).
 */
function elfVisitor(maxElf: number, live: Set<SpillWriter>, memoryLimit?: number): ContentVisitor {
  return {
    file(node, path, size) {
      if (size < 52) return null;
      let bytes: SpillWriter | null = null;
      return {
        head(b) {
          if (!ELF_MAGIC.every((x, k) => b[k] === x)) return false;
          if (size <= maxElf) return true;
          setFact(
            node,
            ELF_AUDIT,
            elfAuditError(`not parsed: ${size} bytes is over the ${maxElf}-byte limit`),
          );
          return false;
        },
        data(c) {
          if (!bytes) {
            bytes = new SpillWriter(size, { memoryLimit });
            live.add(bytes);
          }
          bytes.write(c);
        },
        async end() {
          const w = bytes ?? new SpillWriter(0);
          try {
            setFact(node, ELF_AUDIT, await auditElf(w.source(path)));
          } finally {
            w.dispose();
            live.delete(w);
          }
        },
      };
    },
  };
}

/**
 * analyze over the one indexing pass (src/image/index-image.ts): a layer visitor keeps the per-layer
 * report, dive's model and the odd-entry warnings; the ELF visitor (unless noAudit) the ELF facts; the
 * hash visitor (hashContents) a sha256 per file. Waste comes from the merged tree's own accounting.
 * `check` of the entrypoint then reads the few files it needs back from their layers.
 */
export async function analyzeSource(src: ImageSource, opts: AnalyzeOptions = {}): Promise<AnalyzedImage> {
  // An index without --platform: this machine's image, as check does (and the result says so).
  const img = await resolveImage(src, { platform: opts.platform, prefer: hostPlatform() });
  const { config } = img;
  const maxElf = opts.maxElfBytes ?? 512 * 1024 * 1024;
  const top = opts.top ?? 20;
  const dive = new DiveModel();
  const warnings: AnalyzeResult["warnings"] = [];
  const warn = (layer: number, path: string, code: LayerWarningCode, message: string) => {
    if (warnings.length < 100) warnings.push({ code, layer, path, message });
  };
  const history = (config.history ?? []).filter((h) => h && typeof h === "object" && !h.empty_layer);
  const layers: LayerReport[] = [];
  let lr!: LayerReport;
  let largest: { path: string; size: number }[] = [];

  const reports: LayerVisitor = {
    layerStart(i, desc) {
      const h = history[i];
      lr = {
        index: i,
        digest: desc.digest,
        mediaType: desc.mediaType,
        compressedBytes: desc.size,
        tarBytes: 0,
        contentBytes: 0,
        history: h
          ? {
              createdBy: typeof h.created_by === "string" ? h.created_by : null,
              created: typeof h.created === "string" ? h.created : null,
              comment: typeof h.comment === "string" ? h.comment : null,
            }
          : null,
        entries: 0,
        files: 0,
        dirs: 0,
        symlinks: 0,
        hardlinks: 0,
        added: 0,
        modified: 0,
        removed: 0,
        opaqueDirs: [],
        removedPaths: [],
        wastedBytes: 0,
        largestFiles: [],
      };
      largest = [];
    },
    entry(i, e, out) {
      lr.entries++;
      dive.add(e.path, e.size, e.type === "dir");
      for (const w of e.warnings) warn(i, e.rawPath, w.code, w.message);
      if (e.type === "file") {
        lr.files++;
        lr.contentBytes += e.size;
      } else if (e.type === "dir") lr.dirs++;
      else if (e.type === "symlink") lr.symlinks++;
      else lr.hardlinks++;
      if (out.change === "added") lr.added++;
      else if (out.change === "modified") lr.modified++;
      else if (out.change === "removed") {
        lr.removed++;
        const t = `/${e.path.replace(/(^|\/)\.wh\.([^/]*)$/, "$1$2")}`;
        if (lr.removedPaths.length < 50) lr.removedPaths.push(t);
      } else if (out.change === "opaque") {
        if (lr.opaqueDirs.length < 50) lr.opaqueDirs.push(`/${e.path.slice(0, -".wh..wh..opq".length - 1)}`);
      }
      if (out.nothingBeneath)
        warn(
          i,
          e.rawPath,
          "WHITEOUT_OVER_NOTHING",
          `${out.change === "opaque" ? "opaque whiteout" : "whiteout"} with nothing beneath it`,
        );
      if (out.danglingHardlink)
        warn(
          i,
          e.rawPath,
          "DANGLING_HARDLINK",
          `hard link to ${JSON.stringify(e.linkname)}, which is not in the image`,
        );
      if (out.replacedParent)
        warn(i, e.rawPath, "PARENT_REPLACED", `parent ${out.replacedParent} was not a directory (replaced)`);
      if (e.type !== "file" || !out.node || e.size <= 0) return;
      if (largest.length < top || e.size > largest[largest.length - 1]!.size) {
        largest.push({ path: `/${e.path}`, size: e.size });
        largest.sort((a, b) => b.size - a.size);
        if (largest.length > top) largest.pop();
      }
    },
    layerEnd(i, st) {
      lr.tarBytes = st.tarBytes;
      if (st.endOffset === 0 && lr.entries === 0) warn(i, "", "EMPTY_LAYER", "empty layer (no tar data)");
      dive.endLayer();
      lr.largestFiles = largest;
      layers.push(lr);
    },
  };
  const contentVisitors: ContentVisitor[] = [];
  const spills = new Set<SpillWriter>();
  if (!opts.noAudit) contentVisitors.push(elfVisitor(maxElf, spills, opts.elfMemoryBytes));
  if (opts.hashContents) contentVisitors.push(sha256Visitor);
  let indexed: Awaited<ReturnType<typeof indexImage>>;
  try {
    indexed = await indexImage(src, img, {
      layerVisitors: [reports],
      contentVisitors,
      ...(opts.maxLayerBytes !== undefined ? { maxLayerBytes: opts.maxLayerBytes } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      readBackHint: (n) => getFact(n, ELF_AUDIT) !== undefined,
    });
  } finally {
    // A layer that fails in the middle of a file leaves its temporary file behind otherwise.
    for (const w of spills) w.dispose();
  }
  const { index, rootFs } = indexed;

  // Every byte a layer shipped is either in the final tree or in a waste event: contentBytes = final + wasted.
  for (const [l, b] of index.wastedByLayer.entries()) if (b && layers[l]) layers[l].wastedBytes = b;

  let finalBytes = 0;
  let finalFiles = 0;
  let finalDirs = 0;
  let finalSymlinks = 0;
  const largestFinal: { path: string; size: number; layer: number }[] = [];
  for (const n of index.walk()) {
    if (n.kind === "file") {
      finalFiles++;
      finalBytes += n.shipped;
      if (n.size > 0) largestFinal.push({ path: nodePath(n), size: n.size, layer: n.layer });
    } else if (n.kind === "dir") finalDirs++;
    else if (n.kind === "symlink") finalSymlinks++;
  }
  largestFinal.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
  const contentBytes = layers.reduce((a, l) => a + l.contentBytes, 0);
  const byReason: Record<WasteReason, number> = {
    overwritten: 0,
    deleted: 0,
    opaque: 0,
    duplicate: 0,
    "replaced-by-directory": 0,
  };
  for (const ev of index.waste) byReason[ev.reason] += ev.bytes;
  const d = dive.result();

  const result: AnalyzeResult = {
    schemaVersion: 1,
    image: src.name,
    digest: img.descriptor.digest,
    platform: formatPlatform(img.platform),
    platformChoice: img.chosen,
    created: typeof config.created === "string" ? config.created : null,
    config: runtimeConfigOf(config),
    layers,
    totals: {
      layers: layers.length,
      compressedBytes: layers.reduce((a, l) => a + l.compressedBytes, 0),
      tarBytes: layers.reduce((a, l) => a + l.tarBytes, 0),
      contentBytes,
      finalBytes,
      finalFiles,
      finalDirs,
      finalSymlinks,
    },
    waste: {
      wastedBytes: index.wastedBytes,
      wastedPercent: contentBytes === 0 ? 0 : index.wastedBytes / contentBytes,
      efficiency: contentBytes === 0 ? 1 : finalBytes / contentBytes,
      byReason,
      events: [...index.waste].sort((a, b) => b.bytes - a.bytes).slice(0, 100),
      dive: {
        efficiency: d.efficiency,
        wastedBytes: d.wastedBytes,
        wastedUserPercent: d.wastedUserPercent,
        sizeBytes: d.sizeBytes,
        userSizeBytes: d.userSizeBytes,
        inefficiencies: d.inefficiencies.slice(0, 100),
        abortedLayers: d.abortedLayers,
      },
    },
    largestFiles: largestFinal.slice(0, top),
    audit: {
      user: { configured: null, uid: null, gid: null, name: null, root: true },
      entrypoint: { program: null, resolved: null, runnable: null, problems: [] },
      elfFiles: [],
      goBinaries: [],
      shells: [],
      packageManagers: [],
      setuid: [],
      setgid: [],
      worldWritable: [],
      stickyWorldWritableDirs: [],
      unreadable: { count: 0, paths: [] },
    },
    findings: [],
    warnings,
  };
  await auditImage(result, index, rootFs, img, { noCheck: opts.noAudit === true });
  if (opts.tree) result.tree = buildTree(index);
  return { result, index, image: img, rootFs };
}
