import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BufferSource, type ByteSource, FileSource, ioErrorFrom } from "./reader.js";

/** Files up to this size stay in memory; larger ones go to a temporary file (see SpillWriter). */
export const SPILL_MEMORY_LIMIT = 64 * 1024 * 1024;

const ZERO = new Uint8Array(1 << 20);

function isAllZero(b: Uint8Array): boolean {
  for (let o = 0; o < b.byteLength; o += ZERO.byteLength) {
    const part = b.subarray(o, o + ZERO.byteLength);
    if (Buffer.compare(part, ZERO.subarray(0, part.byteLength)) !== 0) return false;
  }
  return true;
}

/**
 * Collects the bytes of one streamed file (a layer entry) so that a parser can read them back by
 * range. Up to `memoryLimit` bytes are kept in one preallocated buffer; a larger file is written to a
 * private temporary file instead and read back through a FileSource, so the memory a file costs does
 * not grow with its size (a layer of 500 MiB zero-filled "ELF" files otherwise held each one whole,
 * issue #12). All-zero chunks are not written (the file gets holes), which keeps a sparse or zero
 * bomb from filling the disk as well. The file is unlinked as soon as it is open: nothing is left
 * behind whatever happens to the process (its space is freed when the descriptor closes, at the
 * latest when the process exits), even for an owner that never calls dispose().
 */
export class SpillWriter {
  private mem: Uint8Array | null = null;
  private fd: number | null = null;
  private where: string | null = null;
  private written = 0;
  private src: ByteSource | null = null;

  constructor(
    readonly size: number,
    private readonly opts: { memoryLimit?: number; tmpDir?: string } = {},
  ) {
    if (size <= (opts.memoryLimit ?? SPILL_MEMORY_LIMIT)) this.mem = new Uint8Array(size);
  }

  /** Whether the bytes go to a temporary file. */
  get spilled(): boolean {
    return this.mem === null;
  }

  write(chunk: Uint8Array): void {
    const room = this.size - this.written;
    const c = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    if (c.byteLength === 0) return;
    if (this.mem) {
      this.mem.set(c, this.written);
    } else if (!isAllZero(c)) {
      const fd = this.open();
      try {
        let done = 0;
        while (done < c.byteLength) done += writeSync(fd, c, done, c.byteLength - done, this.written + done);
      } catch (err) {
        throw ioErrorFrom(this.where!, err);
      }
    }
    this.written += c.byteLength;
  }

  /** The bytes written so far, for reading. Valid until dispose(). */
  source(name: string): ByteSource {
    if (this.src) return this.src;
    if (this.mem) {
      this.src = new BufferSource(this.mem.subarray(0, this.written), name);
      return this.src;
    }
    const fd = this.open();
    try {
      ftruncateSync(fd, this.written); // trailing holes count too
    } catch (err) {
      throw ioErrorFrom(this.where!, err);
    }
    // The FileSource owns the descriptor from now on (closes it); this.fd stays for diskBytes().
    let fs: FileSource;
    try {
      fs = FileSource.fromFd(name, fd);
    } catch (err) {
      this.fd = null; // fromFd closed it
      throw err;
    }
    this.src = fs;
    return fs;
  }

  /** Disk space the temporary file takes (0 in memory): holes are not counted. */
  diskBytes(): number {
    return this.fd === null ? 0 : fstatSync(this.fd).blocks * 512;
  }

  /** Closes (and so frees) the temporary file, if any. Idempotent. */
  dispose(): void {
    if (this.src instanceof FileSource) this.src.closeNow();
    else if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.mem = null;
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    const parent = this.opts.tmpDir ?? tmpdir();
    let dir: string | null = null;
    try {
      // A private directory (0700) for the moment the file has a name, then no name at all.
      dir = mkdtempSync(join(parent, "zerodep-spill-"));
      this.where = dir;
      const file = join(dir, "file");
      this.fd = openSync(file, "w+", 0o600);
      unlinkSync(file);
    } catch (err) {
      throw ioErrorFrom(this.where ?? parent, err);
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    return this.fd;
  }
}
