import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { naming, writeChunks } from "../io/write.js";
import { type Digest, DigestingStream } from "../oci/digest.js";
import { prepareEntries, type TarInput, writeTar } from "../tar/writer.js";
import type { Layer } from "./model.js";

/** A layer built here: its compressed bytes staged in a file, read back for every destination. */
export interface StagedLayer extends Layer {
  /** Bytes of the uncompressed tar. */
  readonly uncompressedSize: number;
  /** The staging file (inside the caller's directory, removed with it). */
  readonly file: string;
}

export interface StageLayerOptions {
  /** A directory the caller owns and removes: the staging file is written there. */
  dir: string;
  /** Timestamps for directories the tar writer adds. */
  mtime: number;
  /** gzip level (default 6, as gzip(1)). */
  level?: number;
  mediaType: string;
  /** Called with the uncompressed bytes done so far and the expected total. */
  onProgress?: (done: number, total: number) => void;
}

let seq = 0;

/**
 * Writes one gzip layer from tar inputs: the tar is streamed once, hashed uncompressed (diff_id) and
 * compressed (digest) on the way to a staging file, so nothing beyond a chunk is held in memory and
 * the digest is known before any destination is written. Deterministic: the same inputs and options
 * give the same bytes.
 */
export async function stageLayer(inputs: TarInput[], opts: StageLayerOptions): Promise<StagedLayer> {
  const raw = new DigestingStream();
  const packed = new DigestingStream();
  const tar = writeTar(prepareEntries(inputs, { mtime: opts.mtime }));
  // Content bytes plus a header block each: close enough to the tar size for a progress bar.
  const total = inputs.reduce((a, i) => a + i.entry.size + 512, 1024);
  async function* counted() {
    for await (const chunk of tar) {
      raw.update(chunk);
      opts.onProgress?.(Math.min(raw.size, total), total);
      yield chunk;
    }
  }
  // 256 KiB output chunks: zlib's default 16 KiB means a hash update and a write per tiny chunk.
  const gz = createGzip({ level: opts.level ?? 6, chunkSize: 256 * 1024 });
  const done = pipeline(Readable.from(counted()), gz);
  done.catch(() => {}); // an error also ends `gz`; awaited below either way
  const file = join(opts.dir, `layer-${process.pid}-${seq++}.tar.gz`);
  // 0644 like every blob: a layout may hard-link this very file (the staging directory is 0700).
  const fh = await open(file, "wx", 0o644);
  try {
    await writeChunks(fh, gz as AsyncIterable<Uint8Array>, (c) => packed.update(c));
  } catch (e) {
    throw naming(e, file, "staging the layer");
  } finally {
    await fh.close();
  }
  await done;
  const digest: Digest = packed.digest;
  return {
    digest,
    diffId: raw.digest,
    size: packed.size,
    uncompressedSize: raw.size,
    mediaType: opts.mediaType,
    file,
    compressed: () => createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
  };
}
