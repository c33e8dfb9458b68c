import { closeSync, constants, openSync, readSync } from "node:fs";
import { ZerodepError } from "../errors.js";
import { inspectSource } from "../inspect/inspect.js";
import { sniffFormat } from "../inspect/other-formats.js";
import { emptyResult, type InspectResult } from "../inspect/types.js";
import { FileSource, ioErrorFrom } from "../io/reader.js";

/** One buffer for the first bytes of every file: most files in a tree are not binaries. */
const sniffBuf = new Uint8Array(64);

/**
 * Opens a file and reads its first bytes. Returns an open descriptor when it is a binary of a wanted
 * format, null when it is not (closed), or an error result when it cannot be opened or read.
 */
export function sniffFile(path: string, formats: Set<string>): number | null | InspectResult {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO that appears between readdir and open must not block the scan.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return errorResult(path, err);
  }
  let fmt: ReturnType<typeof sniffFormat>;
  try {
    const n = readSync(fd, sniffBuf, 0, sniffBuf.byteLength, 0);
    fmt = sniffFormat(sniffBuf.subarray(0, n));
  } catch (err) {
    closeSync(fd);
    // EISDIR/EINVAL and friends on special files: not binaries, not worth an error line.
    const code = (err as { code?: string }).code;
    return code === "EAGAIN" || code === "EISDIR" || code === "EINVAL" ? null : errorResult(path, err);
  }
  const family = fmt === "macho-fat" ? "macho" : fmt;
  if (family === "unknown" || !formats.has(family)) {
    closeSync(fd);
    return null;
  }
  return fd;
}

/** Inspects a file already opened (and sniffed) by sniffFile; takes ownership of the descriptor. */
export async function inspectOpened(path: string, fd: number): Promise<InspectResult> {
  let src: FileSource;
  try {
    src = FileSource.fromFd(path, fd);
  } catch (err) {
    return errorResult(path, err);
  }
  try {
    return await inspectSource(src, path);
  } finally {
    src.closeNow();
  }
}

/** Inspects one file if its first bytes say it is a binary of a wanted format; null otherwise. */
export async function scanFile(path: string, formats: Set<string>): Promise<InspectResult | null> {
  const s = sniffFile(path, formats);
  return typeof s === "number" ? inspectOpened(path, s) : s;
}

export function errorResult(path: string, err: unknown): InspectResult {
  const r = emptyResult(path);
  const e =
    err instanceof ZerodepError ? err : err instanceof Error && "code" in err ? ioErrorFrom(path, err) : null;
  r.error = e ? e.message : `${path}: ${String(err)}`;
  r.errorCode = e ? e.code : "EIO";
  return r;
}
