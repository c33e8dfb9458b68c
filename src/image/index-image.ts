import { createHash } from "node:crypto";
import { ZerodepError } from "../errors.js";
import type { Descriptor } from "../oci/types.js";
import { readTar, type TarReadEntry } from "../tar/reader.js";
import { CAPTURED_BYTES, CONTENT_SHA256, setFact } from "./facts.js";
import { type ApplyOutcome, FileIndex, type IndexNode, nodePath } from "./file-index.js";
import { ImageRootFs, LayerFileLoader } from "./image-root-fs.js";
import { layerTar } from "./layer-stream.js";
import type { ResolvedImage } from "./select.js";
import type { ImageSource } from "./source.js";

/**
 * The one pass over an image's layers that everything below `check IMAGE`, `inspect IMAGE`, `analyze`
 * and `diff` stands on: each layer's verified blob is decompressed by its magic bytes and its tar walked
 * once (nothing extracted, no layer buffered) into the merged tree (FileIndex). What else a command
 * wants from the same pass it says with visitors: a LayerVisitor sees every entry (statistics, dive's
 * model, warnings), a ContentVisitor the bytes of the regular files it asks for (ELF facts, hashes),
 * and records typed facts on the tree's nodes (src/image/facts.ts).
 */

export interface LayerVisitor {
  layerStart?(layer: number, desc: Descriptor): void;
  /** Every tar entry, in order, with what it did to the merged tree. */
  entry?(layer: number, e: TarReadEntry, out: ApplyOutcome): void;
  layerEnd?(layer: number, stats: { tarBytes: number; entries: number; endOffset: number }): void;
}

/** Receives one regular file's bytes, in order. */
export interface FileConsumer {
  /** The first bytes (at least 4, or the whole file when shorter): false stops this consumer. */
  head?(bytes: Uint8Array): boolean;
  data(chunk: Uint8Array): void;
  /** After the last chunk (not called when head() declined). */
  end(): Promise<void> | void;
}

export interface ContentVisitor {
  /** A regular file entering the tree: a consumer for its bytes, or null. */
  file(node: IndexNode, path: string, size: number): FileConsumer | null;
}

export interface IndexOptions {
  layerVisitors?: LayerVisitor[];
  contentVisitors?: ContentVisitor[];
  /** Refuse a layer that decompresses beyond this (gzip bombs). Default 16 GiB. */
  maxLayerBytes?: number;
  onProgress?: (m: { layer: number; layers: number; compressedBytes: number }) => void;
  /** Files a later read-back should keep when it streams their layer (see LayerFileLoader). */
  readBackHint?: (n: IndexNode) => boolean;
}

export interface IndexedImage {
  image: ResolvedImage;
  index: FileIndex;
  /** The merged tree as a RootFs; files not captured during the pass are read back from their layer. */
  rootFs: ImageRootFs;
}

/** /etc files up to this size are kept in memory during the pass (passwd, group, ld.so.cache …). */
const CAPTURE_ETC_MAX = 8 * 1024 * 1024;
const DEFAULT_MAX_LAYER = 16 * 1024 ** 3;

/** Keeps the bytes of small /etc files: what the runtime's user lookup and the loader read first. */
export const etcCapture: ContentVisitor = {
  file(node, path, size) {
    if (!path.startsWith("/etc/") || size > CAPTURE_ETC_MAX) return null;
    const parts: Uint8Array[] = [];
    return {
      data: (c) => parts.push(c),
      end: () => setFact(node, CAPTURED_BYTES, parts.length === 1 ? parts[0]! : Buffer.concat(parts)),
    };
  },
};

const EMPTY_SHA256 = createHash("sha256").digest("hex");

/** sha256 of every regular file's content (diff compares by it). */
export const sha256Visitor: ContentVisitor = {
  file(node, _path, size) {
    if (size === 0) {
      // One shared string, not a hash object and a fresh digest per empty file.
      setFact(node, CONTENT_SHA256, EMPTY_SHA256);
      return null;
    }
    const h = createHash("sha256");
    return { data: (c) => h.update(c), end: () => setFact(node, CONTENT_SHA256, h.digest("hex")) };
  },
};

export async function indexImage(
  src: ImageSource,
  image: ResolvedImage,
  opts: IndexOptions = {},
): Promise<IndexedImage> {
  const maxLayerBytes = opts.maxLayerBytes ?? DEFAULT_MAX_LAYER;
  const layerVisitors = opts.layerVisitors ?? [];
  const contentVisitors = [etcCapture, ...(opts.contentVisitors ?? [])];
  const index = new FileIndex();
  const layers = image.manifest.layers;
  for (const [i, desc] of layers.entries()) {
    for (const v of layerVisitors) v.layerStart?.(i, desc);
    let tarBytes = 0;
    let entries = 0;
    const stream = layerTar(src, desc, {
      maxUncompressedBytes: maxLayerBytes,
      onCompressedBytes: opts.onProgress
        ? (n) => opts.onProgress!({ layer: i, layers: layers.length, compressedBytes: n })
        : undefined,
    });
    const counted = (async function* () {
      for await (const c of stream) {
        tarBytes += c.length;
        yield c;
      }
    })();
    try {
      const r = await readTar(counted, async (e, body) => {
        entries++;
        const out = index.apply(i, e);
        for (const v of layerVisitors) v.entry?.(i, e, out);
        if (e.type !== "file" || !out.node) return;
        const path = nodePath(out.node);
        const consumers = contentVisitors
          .map((v) => v.file(out.node!, path, e.size))
          .filter((c): c is FileConsumer => c !== null);
        if (consumers.length > 0) await feed(consumers, body);
      });
      for (const v of layerVisitors) v.layerEnd?.(i, { tarBytes, entries, endOffset: r.endOffset });
      // The tar ends at its zero blocks, the blob may not: read it to the end so that it is verified
      // whole (a blob longer than its descriptor, or one whose padding differs, is DIGEST_MISMATCH,
      // not a success) and its file handle is released now rather than on garbage collection.
      for await (const _ of counted) {
        // discarded
      }
    } catch (err) {
      if (err instanceof ZerodepError)
        throw new ZerodepError(err.code, `${src.name}: layer ${i} (${desc.digest}): ${err.message}`, {
          cause: err,
        });
      throw err;
    }
  }
  const loader = new LayerFileLoader(src, layers, index, maxLayerBytes, opts.readBackHint);
  return { image, index, rootFs: new ImageRootFs(index, loader, src.name) };
}

/** Streams one file's bytes to its consumers; the first 4 bytes decide which ones stay. */
async function feed(consumers: FileConsumer[], body: AsyncIterable<Uint8Array>): Promise<void> {
  let live = consumers;
  let pending: Uint8Array[] | null = consumers.some((c) => c.head) ? [] : null;
  let have = 0;
  const decide = () => {
    const head = pending!.length === 1 ? pending![0]! : Buffer.concat(pending!);
    live = live.filter((c) => !c.head || c.head(head));
    for (const c of live) c.data(head);
    pending = null;
  };
  for await (const chunk of body) {
    if (pending) {
      pending.push(chunk);
      have += chunk.length;
      if (have >= 4) decide();
    } else for (const c of live) c.data(chunk);
    if (live.length === 0) return; // the body is drained by readTar
  }
  if (pending) decide();
  for (const c of live) await c.end();
}
