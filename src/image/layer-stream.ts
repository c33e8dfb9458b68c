import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { ParseError, ZerodepError } from "../errors.js";
import type { Descriptor } from "../oci/types.js";
import type { ImageSource } from "./source.js";

/** Layer compression as the bytes say (magic numbers), whatever the media type claims (gcr does the same). */
export type Compression = "gzip" | "zstd" | "none";

export function compressionOf(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

export interface LayerStreamOptions {
  /** Refuse a layer whose uncompressed tar grows beyond this many bytes (gzip bombs). Default 64 GiB. */
  maxUncompressedBytes?: number;
  /** Called with the compressed bytes read so far (progress). */
  onCompressedBytes?: (n: number) => void;
}

/**
 * The uncompressed tar of a layer, streamed: the blob is read (and verified) once, decompressed by its
 * magic bytes. ParseError LAYER_TOO_LARGE past maxUncompressedBytes; LAYER_UNSUPPORTED for zstd when this
 * Node has no zstd (added in Node 22.15).
 */
export async function* layerTar(
  src: ImageSource,
  layer: Descriptor,
  opts: LayerStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const max = opts.maxUncompressedBytes ?? 64 * 1024 ** 3;
  const it = src.blob(layer)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  let compressed = 0;
  const rest = (async function* () {
    let v: IteratorResult<Uint8Array> = first;
    try {
      while (!v.done) {
        compressed += v.value.length;
        opts.onCompressedBytes?.(compressed);
        yield v.value;
        v = await it.next();
      }
    } finally {
      // Stopped early (the reader failed or had enough): close the blob now, not at garbage collection.
      if (!v.done) await it.return?.();
    }
  })();
  const kind = compressionOf(first.value);
  let out: AsyncIterable<Uint8Array> = rest;
  let done: Promise<void> | undefined;
  if (kind !== "none") {
    const z = zlib as unknown as Record<string, ((o?: object) => NodeJS.ReadWriteStream) | undefined>;
    const make = kind === "gzip" ? zlib.createGunzip : z.createZstdDecompress;
    if (!make) {
      throw new ParseError(
        "LAYER_UNSUPPORTED",
        `${src.name}: layer ${layer.digest} is zstd-compressed; this Node (${process.version}) has no zstd (Node ≥ 22.15 does)`,
      );
    }
    const d = make({ chunkSize: 1 << 20 }) as NodeJS.ReadWriteStream;
    // pipeline so that a source error (a digest mismatch) reaches the consumer.
    done = pipeline(Readable.from(rest), d);
    done.catch(() => {});
    out = d as unknown as AsyncIterable<Uint8Array>;
  }
  let total = 0;
  try {
    for await (const c of out) {
      total += c.length;
      if (total > max) {
        throw new ParseError(
          "LAYER_TOO_LARGE",
          `${src.name}: layer ${layer.digest} decompresses to more than ${max} bytes (limit; a gzip bomb?)`,
        );
      }
      yield c;
    }
    if (done) await done;
  } catch (e) {
    if (e instanceof ParseError) throw e;
    // When the blob itself is bad (more bytes than its descriptor, a digest mismatch), the pipeline tears
    // the decompressor down and the read above may only see ERR_STREAM_PREMATURE_CLOSE: report the cause.
    if (done) {
      const cause = await done.then(
        () => undefined,
        (x: unknown) => x,
      );
      if (cause instanceof ZerodepError) throw cause;
    }
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code.startsWith("Z_") || code.startsWith("ERR_ZSTD") || code === "ERR_ZLIB_INITIALIZATION_FAILED") {
      throw new ParseError(
        "LAYER_CORRUPT",
        `${src.name}: layer ${layer.digest}: ${kind} data is corrupt (${(e as Error).message})`,
        undefined,
        { cause: e },
      );
    }
    throw e;
  }
}
