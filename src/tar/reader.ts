import type { Diagnostic } from "../diagnostic.js";
import { ParseError, ZerodepError } from "../errors.js";
import type { TarEntry, TarEntryType } from "./entry.js";
import { ChunkReader } from "./internal/chunk-reader.js";
import { BLOCK, checksums, F, type Field, fieldBytes, fromUtf8 } from "./internal/ustar.js";

export interface TarReadEntry extends TarEntry {
  /** Byte offset of the header in the stream (the first header of the entry: its PAX or GNU long-name header when it has one). */
  offset: number;
  /** Byte offset of the entry's content in the stream (after its header block). */
  dataOffset: number;
  /** Raw name before normalisation. */
  rawPath: string;
  /** Odd but survivable things about the entry (absolute path, '..' component, malformed PAX …). */
  warnings: TarWarning[];
}

/** Codes of tar reading warnings (README "tar warning codes"). */
export const TAR_WARNING_CODES = [
  "TAR_ABSOLUTE_PATH",
  "TAR_DOTDOT_PATH",
  "TAR_NUL_IN_PATH",
  "TAR_EMPTY_PATH",
  "TAR_ROOT_ENTRY",
  "TAR_SYMLINK_DATA",
  "TAR_PAX_MALFORMED",
  "TAR_HARDLINK_TARGET",
] as const;
export type TarWarningCode = (typeof TAR_WARNING_CODES)[number];
export type TarWarning = Diagnostic<TarWarningCode>;

/** Names that could escape a careless extractor (absolute, '..', cut at a NUL). */
export const HOSTILE_PATH_CODES: ReadonlySet<string> = new Set<TarWarningCode>([
  "TAR_ABSOLUTE_PATH",
  "TAR_DOTDOT_PATH",
  "TAR_NUL_IN_PATH",
  "TAR_HARDLINK_TARGET",
]);

function tw(code: TarWarningCode, message: string): TarWarning {
  return { code, severity: "warning", message };
}

/** PAX extended headers and GNU long names larger than this are refused rather than buffered. */
const MAX_META = 1 << 20;

const td = fromUtf8;

/**
 * Parses a tar stream (ustar, PAX 'x' and 'g', GNU 'L'/'K' long names) from an async iterable of chunks,
 * calling onEntry for each entry with an async iterable of exactly its content bytes (the consumer may
 * ignore it; it is drained).
 * Hostile input: bounded header/PAX sizes (PAX/long-name records > 1 MiB are an error), checksum verified,
 * truncated stream is ParseError "TRUNCATED" naming the entry and offset, paths with ".." or absolute are
 * kept with a warning and a normalised `path` that can never escape (".." clamped), never a hang on garbage.
 *
 * Framing follows GNU tar 1.34 (the anchor), checked by crafting archives: data follows every header
 * except hard links (size taken as 0) and directories; device, FIFO and unknown entries are skipped (not
 * reported) with their data; a symlink's stray data is skipped with a warning. Reading stops at the first
 * zero block (the second one is consumed when present), or at a clean end of stream between entries.
 */
export async function readTar(
  chunks: AsyncIterable<Uint8Array>,
  onEntry: (e: TarReadEntry, body: AsyncIterable<Uint8Array>) => Promise<void> | void,
): Promise<{ entries: number; endOffset: number }> {
  const src = new ChunkReader(chunks);
  try {
    return await readEntries(src, onEntry);
  } catch (e) {
    // Stopped by an error: the source is closed now (a blob's file handle, a decompressor), not at
    // garbage collection. A normal end leaves it to its reader, which may still verify the rest.
    await src.close();
    throw e;
  }
}

async function readEntries(
  src: ChunkReader,
  onEntry: (e: TarReadEntry, body: AsyncIterable<Uint8Array>) => Promise<void> | void,
): Promise<{ entries: number; endOffset: number }> {
  let entries = 0;
  let global = new Map<string, string>();
  // Metadata that applies to the next entry.
  let local: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let metaStart: number | undefined;
  let metaWarnings: TarWarning[] = [];
  let lastPath: string | undefined;

  for (;;) {
    const hdrOff = src.offset;
    const block = await src.read(BLOCK);
    const pendingName = (local && paxString(local, "path")) ?? longName;
    if (block.length === 0) {
      if (metaStart !== undefined) {
        throw new ParseError(
          "TRUNCATED",
          `tar: the stream ends after the extended header at offset ${metaStart}${pendingName === undefined ? "" : ` of ${quote(pendingName)}`}, before its entry`,
          hdrOff,
        );
      }
      return { entries, endOffset: hdrOff };
    }
    if (block.length < BLOCK) {
      throw new ParseError(
        "TRUNCATED",
        `tar: truncated in a header: ${block.length} of ${BLOCK} bytes at offset ${hdrOff}, ${pendingName === undefined ? (lastPath === undefined ? "the first entry" : `the entry after ${quote(lastPath)}`) : `entry ${quote(pendingName)}`}`,
        src.offset,
      );
    }
    if (isZero(block)) {
      if (metaStart !== undefined) {
        throw new ParseError(
          "TRUNCATED",
          `tar: end-of-archive block at offset ${hdrOff} right after the extended header at offset ${metaStart}`,
          hdrOff,
        );
      }
      const second = await src.read(BLOCK);
      const endOffset = second.length === BLOCK && isZero(second) ? hdrOff + 2 * BLOCK : hdrOff + BLOCK;
      return { entries, endOffset };
    }

    const ustarName = td(fieldBytes(block, F.name));
    const where = `tar entry ${quote(pendingName ?? ustarName)} (header at offset ${hdrOff})`;
    verifyChecksum(block, where, hdrOff);
    const num = (f: Field, what: string) => parseNumeric(block, f, what, where, hdrOff);
    const typeflag = block[F.typeflag.off]!;
    const headerSize = num(F.size, "size");

    // Extended headers and GNU long names describe the next header.
    if (
      typeflag === 0x78 /* x */ ||
      typeflag === 0x67 /* g */ ||
      typeflag === 0x4c /* L */ ||
      typeflag === 0x4b /* K */
    ) {
      if (headerSize > MAX_META) {
        throw new ParseError(
          "HEADER_TOO_LARGE",
          `${where}: ${String.fromCharCode(typeflag)} header of ${headerSize} bytes exceeds the ${MAX_META}-byte limit`,
          hdrOff,
        );
      }
      const data = await src.read(headerSize);
      if (data.length < headerSize || (await src.skip(padding(headerSize))) < padding(headerSize)) {
        throw new ParseError(
          "TRUNCATED",
          `${where}: truncated in the ${String.fromCharCode(typeflag)} header data (${headerSize} bytes)`,
          src.offset,
        );
      }
      if (typeflag === 0x67) {
        // A global header applies to every following entry, merged over earlier globals (POSIX pax, 'g').
        const g = parsePax(data, metaWarnings);
        global = new Map([...global, ...g]);
        continue;
      }
      metaStart ??= hdrOff;
      if (typeflag === 0x78) local = new Map([...(local ?? []), ...parsePax(data, metaWarnings)]);
      else if (typeflag === 0x4c) longName = td(cutNul(data));
      else longLink = td(cutNul(data));
      continue;
    }

    const pax = new Map([...global, ...(local ?? [])]);
    const warnings = metaWarnings;
    const magic = td(block.subarray(F.magic.off, F.magic.off + F.magic.len));
    const isPosix = magic === "ustar\u0000";
    let rawPath = pendingName ?? paxString(global, "path");
    if (rawPath === undefined) {
      const prefix = isPosix ? td(fieldBytes(block, F.prefix)) : "";
      rawPath = prefix === "" ? ustarName : `${prefix}/${ustarName}`;
    }
    const rawLink =
      (local && paxString(local, "linkpath")) ??
      longLink ??
      paxString(global, "linkpath") ??
      td(fieldBytes(block, F.linkname));
    const entryWhere = `tar entry ${quote(rawPath)} (header at offset ${metaStart ?? hdrOff})`;

    let size = headerSize;
    const paxSize = paxString(pax, "size");
    if (paxSize !== undefined) {
      if (!/^\d{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
        // The size frames the stream: without it nothing after this entry can be located.
        throw new ParseError(
          "BAD_SIZE",
          `${entryWhere}: PAX size ${JSON.stringify(paxSize.slice(0, 40))} is not a usable size`,
          metaStart ?? hdrOff,
        );
      }
      size = Number(paxSize);
    }
    const paxInt = (key: string, fallback: number, re: RegExp) => {
      const v = paxString(pax, key);
      if (v === undefined) return fallback;
      const n = re.test(v) ? Math.floor(Number(v)) : Number.NaN;
      if (!Number.isSafeInteger(n)) {
        warnings.push(
          tw("TAR_PAX_MALFORMED", `PAX record malformed: ${key}=${JSON.stringify(v.slice(0, 40))}`),
        );
        return fallback;
      }
      return n;
    };
    const uid = paxInt("uid", num(F.uid, "uid"), /^\d{1,16}$/);
    const gid = paxInt("gid", num(F.gid, "gid"), /^\d{1,16}$/);
    const mtime = paxInt("mtime", num(F.mtime, "mtime"), /^-?\d{1,16}(\.\d*)?$/);
    const mode = num(F.mode, "mode") & 0o7777;

    local = undefined;
    longName = undefined;
    longLink = undefined;
    const start = metaStart ?? hdrOff;
    metaStart = undefined;
    metaWarnings = [];

    let type: TarEntryType | undefined;
    let dataLen = size;
    switch (typeflag) {
      case 0x30: // '0'
      case 0x00: // v7 regular file
      case 0x37: // '7' contiguous file: a regular file everywhere that matters
        type = "file";
        break;
      case 0x31: // '1'
        type = "hardlink";
        dataLen = 0;
        break;
      case 0x32: // '2'
        type = "symlink";
        break;
      case 0x35: // '5'
        type = "dir";
        dataLen = 0;
        break;
      case 0x44: // 'D' GNU dumpdir: a directory whose data lists its contents
        type = "dir";
        break;
    }
    if (type === undefined) {
      // Devices, FIFOs, unknown types: not representable in TarEntry, skipped with their data as GNU tar does.
      await skipData(src, dataLen, entryWhere);
      continue;
    }

    const { path, warnings: pathWarnings } = sanitizePath(rawPath);
    warnings.push(...pathWarnings);
    if (path === "." && type !== "dir")
      warnings.push(tw("TAR_ROOT_ENTRY", "entry resolves to the archive root"));
    const entry: TarReadEntry = {
      path,
      type,
      mode,
      uid,
      gid,
      mtime,
      size: type === "file" ? dataLen : 0,
      offset: start,
      dataOffset: src.offset,
      rawPath,
      warnings,
    };
    if (type === "symlink") {
      entry.linkname = rawLink;
      if (dataLen > 0)
        warnings.push(tw("TAR_SYMLINK_DATA", `symlink carries ${dataLen} bytes of data (skipped)`));
    } else if (type === "hardlink") {
      const t = sanitizePath(rawLink);
      entry.linkname = t.path;
      // The link's own name problems, under one code: the entry's path is not what is odd.
      warnings.push(...t.warnings.map((w) => tw("TAR_HARDLINK_TARGET", `hardlink target: ${w.message}`)));
    }

    const contentLen = type === "file" ? dataLen : 0;
    let remaining = contentLen;
    let open = true;
    const truncated = () =>
      new ParseError(
        "TRUNCATED",
        `${entryWhere}: truncated in the body: ${remaining} of ${contentLen} bytes missing`,
        src.offset,
      );
    async function* content(): AsyncGenerator<Uint8Array> {
      if (!open) {
        throw new ZerodepError(
          "BODY_EXPIRED",
          `${entryWhere}: the body can only be read before onEntry returns`,
        );
      }
      while (remaining > 0) {
        const c = await src.next(remaining);
        if (c === undefined) throw truncated();
        remaining -= c.length;
        yield c;
        if (!open) return;
      }
    }
    lastPath = rawPath;
    await onEntry(entry, { [Symbol.asyncIterator]: content });
    open = false;
    entries++;
    if (remaining > 0) {
      remaining -= await src.skip(remaining);
      if (remaining > 0) throw truncated();
    }
    await skipData(src, dataLen - contentLen, entryWhere, contentLen);
  }
}

/** Skips `n` data bytes that are not content, and the padding of `n + alreadyRead` bytes. */
async function skipData(src: ChunkReader, n: number, where: string, alreadyRead = 0): Promise<void> {
  const total = n + padding(n + alreadyRead);
  const got = await src.skip(total);
  if (got < total) {
    throw new ParseError(
      "TRUNCATED",
      `${where}: truncated: ${total - got} bytes of data or padding missing`,
      src.offset,
    );
  }
}

/** A name for a message: JSON-quoted (control characters escaped) and cut to a readable length. */
function quote(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

function padding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

function cutNul(b: Uint8Array): Uint8Array {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

function paxString(pax: Map<string, string>, key: string): string | undefined {
  const v = pax.get(key);
  // An empty value cancels a global record (POSIX pax: "the field shall be considered unset").
  return v === undefined || v === "" ? undefined : v;
}

function verifyChecksum(block: Uint8Array, where: string, off: number): void {
  const raw = td(block.subarray(F.chksum.off, F.chksum.off + F.chksum.len));
  const m = /^[ \0]*([0-7]{1,8})[ \0]*$/.exec(raw);
  const { unsigned, signed } = checksums(block);
  const stored = m ? Number.parseInt(m[1]!, 8) : Number.NaN;
  if (stored !== unsigned && stored !== signed) {
    throw new ParseError(
      "BAD_CHECKSUM",
      `${where}: header checksum ${JSON.stringify(raw)} does not match the computed ${unsigned.toString(8)} (not a tar header, or corrupt)`,
      off,
    );
  }
}

/** Octal (space/NUL padded and terminated) or GNU base-256 (first byte 0x80 or 0xff, two's complement). */
function parseNumeric(block: Uint8Array, f: Field, what: string, where: string, off: number): number {
  const b = block.subarray(f.off, f.off + f.len);
  if (b[0]! & 0x80) {
    const negative = b[0] === 0xff;
    let v = BigInt(b[0]! & 0x7f) - (negative ? 0x80n : 0n);
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
    if (
      v > BigInt(Number.MAX_SAFE_INTEGER) ||
      v < -BigInt(Number.MAX_SAFE_INTEGER) ||
      (v < 0n && what !== "mtime")
    ) {
      throw new ParseError("BAD_HEADER", `${where}: base-256 ${what} ${v} is out of range`, off + f.off);
    }
    return Number(v);
  }
  const s = td(b);
  const m = /^[ \0]*([0-7]*)(?:[ \0].*)?$/s.exec(s);
  if (!m) {
    throw new ParseError(
      "BAD_HEADER",
      `${where}: ${what} field ${JSON.stringify(s)} is not octal`,
      off + f.off,
    );
  }
  return m[1] === "" ? 0 : Number.parseInt(m[1]!, 8);
}

/** POSIX pax extended header records: "<len> <key>=<value>\n", len counting the whole record. */
function parsePax(data: Uint8Array, warnings: TarWarning[]): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0 && isZero(data.subarray(i))) break; // NUL padding some writers leave
    let j = i;
    while (j < data.length && j - i < 8 && data[j]! >= 0x30 && data[j]! <= 0x39) j++;
    const len = Number(td(data.subarray(i, j)));
    if (
      j === i ||
      data[j] !== 0x20 ||
      !(len > j - i + 1) ||
      i + len > data.length ||
      data[i + len - 1] !== 0x0a
    ) {
      warnings.push(tw("TAR_PAX_MALFORMED", `PAX record malformed at byte ${i} of the extended header`));
      break;
    }
    const rec = data.subarray(j + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0)
      warnings.push(
        tw("TAR_PAX_MALFORMED", `PAX record malformed at byte ${i} of the extended header (no key=value)`),
      );
    else out.set(td(rec.subarray(0, eq)), td(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

/** Clamps a raw archive name to a relative path that cannot leave the extraction root. */
function sanitizePath(raw: string): { path: string; warnings: TarWarning[] } {
  const warnings: TarWarning[] = [];
  let s = raw;
  const nul = s.indexOf("\0");
  if (nul >= 0) {
    warnings.push(tw("TAR_NUL_IN_PATH", "NUL in path (cut there)"));
    s = s.slice(0, nul);
  }
  if (s === "") warnings.push(tw("TAR_EMPTY_PATH", "empty path"));
  if (s.startsWith("/")) warnings.push(tw("TAR_ABSOLUTE_PATH", "absolute path"));
  const parts: string[] = [];
  let dotdot = false;
  for (const c of s.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (!dotdot) warnings.push(tw("TAR_DOTDOT_PATH", "'..' component"));
      dotdot = true;
      parts.pop();
      continue;
    }
    parts.push(c);
  }
  return { path: parts.length === 0 ? "." : parts.join("/"), warnings };
}
