import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { IoError, ZerodepError } from "../errors.js";
import { removeOnInterrupt } from "./cleanup.js";

/** The errno code of a Node system error ("ENOENT"), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Writes all of `chunk` (fh.write may write less than asked). */
export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/** fsync a directory so a rename in it survives a power cut; some file systems refuse, which is harmless. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync.
  }
}

/** Small chunks (a socket gives 16-64 KiB, a tar writer 512-byte headers) are gathered into writes this big. */
const WRITE_BATCH = 1024 * 1024;
/** Bytes the writes may run behind the source before the source waits. */
const WRITE_AHEAD = 8 * 1024 * 1024;

/**
 * Writes a stream of chunks to `fh`: gathered into ~1 MiB writes (one syscall through the thread pool
 * per MiB instead of dozens) and pipelined behind the source, up to 8 MiB in flight, so that a slow
 * source (the network, a compressor) and the disk work at the same time instead of taking turns.
 * `onChunk` sees every chunk as it is read (hashing). Every write has settled when this returns or
 * throws, so the caller may close the handle; the first write error is thrown, and stops the reading.
 */
export async function writeChunks(
  fh: FileHandle,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onChunk?: (chunk: Uint8Array) => void,
): Promise<void> {
  let pending: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = () => {
    const parts = batch;
    const len = batchBytes;
    batch = [];
    batchBytes = 0;
    inFlight += len;
    pending = pending
      .then(async () => {
        if (failure) return;
        await writeAll(fh, parts.length === 1 ? parts[0]! : Buffer.concat(parts, len));
        inFlight -= len;
      })
      .catch((error: unknown) => {
        failure ??= { error };
      });
  };
  try {
    for await (const chunk of chunks) {
      if (failure) throw failure.error;
      onChunk?.(chunk);
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= WRITE_BATCH) flush();
      if (inFlight > WRITE_AHEAD) await pending;
    }
    if (batchBytes > 0) flush();
  } finally {
    await pending;
  }
  if (failure) throw failure.error;
}

/**
 * An operating-system error from a write, named with the path it concerns: Node's write errors carry
 * no path ("ENOSPC: no space left on device, write"), and the user needs to know which disk is full.
 * Errors that already name something (ours, or Node's with a path) are returned as they are.
 */
export function naming(err: unknown, path: string, doing = "writing"): unknown {
  if (err instanceof ZerodepError) return err;
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e !== "object" || typeof e.code !== "string" || e.path !== undefined) return err;
  return new IoError(e.code, `${path}: ${doing}: ${e.message}`, { cause: err });
}

/**
 * Writes a whole text file atomically: a temporary file beside it (registered for removal on Ctrl-C),
 * fsynced, then renamed over `file`. An interrupted run leaves the old file (or none), never half of one.
 */
export async function writeFileAtomic(file: string, text: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const release = removeOnInterrupt(tmp);
  try {
    const fh = await open(tmp, "wx", 0o644).catch((e: unknown) => {
      throw naming(e, file);
    });
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw naming(e, file);
  } finally {
    release();
  }
}
