import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { IoError, ParseError } from "../errors.js";

/**
 * Random access to the bytes of one input. Parsers never touch the file system: they get byte ranges
 * from a ByteSource. Every read is bounds-checked here, so a length field from a hostile file can never
 * make us allocate more than the file holds.
 */
export interface ByteSource {
  /** Name used in error messages (usually the path). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes at `offset`. Throws ParseError (code OUT_OF_BOUNDS) when the range is not
   * inside the source. The returned array may share memory with a cache: do not modify it.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Release resources. Idempotent. */
  close(): Promise<void>;
}

export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > src.size
  ) {
    throw new ParseError(
      "OUT_OF_BOUNDS",
      `${src.name}: truncated or corrupt: range of ${length} bytes at 0x${Math.max(0, offset).toString(16)} is outside the file (size ${src.size})`,
      undefined,
    );
  }
}

/** A ByteSource over bytes already in memory (tests, layer entries, small files). */
export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name = "<memory>",
  ) {
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}

/**
 * A ByteSource over a regular file. Reads use positioned synchronous reads: on a warm page cache a
 * pread is a few microseconds, while a thread-pool round trip per small header read would dominate a
 * scan of thousands of files. The first `headSize` bytes are read once and served from memory, since
 * ELF, PE and Mach-O headers all sit at the start.
 */
export class FileSource implements ByteSource {
  private fd: number | null;
  private head: Uint8Array;
  readonly size: number;

  private constructor(
    readonly name: string,
    fd: number,
    size: number,
    headSize: number,
  ) {
    this.fd = fd;
    this.size = size;
    const n = Math.min(size, headSize);
    const head = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, head, got, n - got, got);
      if (r === 0) break;
      got += r;
    }
    this.head = head.subarray(0, got);
    if (got < n) this.size = got; // file shrank under us: trust what we could read
  }

  /**
   * Open a regular file. Refuses directories, FIFOs, sockets and devices without opening them for
   * reading (opening a FIFO would block until a writer appears).
   */
  static open(path: string, opts: { headSize?: number } = {}): FileSource {
    let fd: number;
    try {
      // O_NONBLOCK so that a FIFO that slipped past a racing stat cannot block the open.
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw ioErrorFrom(path, err);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        throw notRegular(path, st);
      }
      return new FileSource(path, fd, st.size, opts.headSize ?? 4096);
    } catch (err) {
      closeSync(fd);
      throw err instanceof IoError ? err : ioErrorFrom(path, err);
    }
  }

  /**
   * Adopt an already open descriptor (the scanner opens files itself to sniff their first bytes).
   * Takes ownership: the descriptor is closed on error and by close().
   */
  static fromFd(path: string, fd: number, opts: { headSize?: number } = {}): FileSource {
    try {
      const st = fstatSync(fd);
      if (!st.isFile())
        throw new IoError("NOT_REGULAR_FILE", `${path}: not a regular file (${fileKind(st)})`);
      return new FileSource(path, fd, st.size, opts.headSize ?? 4096);
    } catch (err) {
      closeSync(fd);
      throw err instanceof IoError ? err : ioErrorFrom(path, err);
    }
  }

  /** The bytes read at open time (at most headSize). */
  get headBytes(): Uint8Array {
    return this.head;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readNow(offset, length);
  }

  /** Synchronous read, for callers that know they are on a CLI hot path. */
  readNow(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    if (offset + length <= this.head.byteLength) return this.head.subarray(offset, offset + length);
    if (this.fd === null) throw new IoError("CLOSED", `${this.name}: read after close`);
    const buf = new Uint8Array(length);
    let got = 0;
    try {
      while (got < length) {
        const r = readSync(this.fd, buf, got, length - got, offset + got);
        if (r === 0) break;
        got += r;
      }
    } catch (err) {
      throw ioErrorFrom(this.name, err);
    }
    if (got < length) {
      throw new ParseError(
        "OUT_OF_BOUNDS",
        `${this.name}: file shrank while reading at 0x${offset.toString(16)}`,
      );
    }
    return buf;
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  closeNow(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/**
 * Opens a file for reading only if it is a regular file, without ever blocking: O_NONBLOCK makes the
 * open of a FIFO with no writer return at once (a plain open waits forever for one, and the stuck
 * thread-pool thread even keeps the process from exiting on SIGTERM); fstat on the open descriptor then
 * refuses anything but a regular file with IoError NOT_REGULAR_FILE naming the path. On a regular file
 * O_NONBLOCK changes nothing. Errors of open itself (ENOENT, EACCES, ELOOP …) are thrown as they are,
 * so that callers can turn ENOENT into their own "missing" error.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, st);
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Synchronous check that `path` (symlinks followed) is a regular file; stat never blocks on a FIFO. */
export function assertRegularFile(path: string): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw ioErrorFrom(path, err);
  }
  if (!st.isFile()) throw notRegular(path, st);
  return st;
}

function notRegular(path: string, st: Stats): IoError {
  return new IoError("NOT_REGULAR_FILE", `${path}: not a regular file (${fileKind(st)})`);
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a file";
}

export function ioErrorFrom(path: string, err: unknown): IoError {
  const code = (err as { code?: string })?.code ?? "EIO";
  const reasons: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "is a directory",
    ELOOP: "too many levels of symbolic links",
    ENOTDIR: "a path component is not a directory",
    EMFILE: "too many open files",
  };
  return new IoError(code, `${path}: ${reasons[code] ?? (err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}

/**
 * The same bytes under one identity that callers may "close" freely: the owner closes `src` itself.
 * A command that hands one binary to several readers (inspect, the needs detector, the resolver, the
 * verdict) gives them all this one object, so the per-source parse memo (readElf) parses it once.
 */
export function borrowed(src: ByteSource): ByteSource {
  return {
    get name() {
      return src.name;
    },
    get size() {
      return src.size;
    },
    read: (offset, length) => src.read(offset, length),
    close: async () => {},
  };
}
