import type { BinaryLayout } from "../binary/layout.js";
import { ParseError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";
import { readRawGoBuildInfo } from "./build-info.js";

/**
 * The Go pc-line table ("pclntab", runtime/symtab.go pcHeader; reader: debug/gosym/pclntab.go). It
 * survives `-ldflags="-s -w"`, so it is how function (and hence package) names are recovered from
 * stripped binaries. Reads are lazy and bounded: header first, then function table and names in
 * windows of at most WINDOW bytes.
 */

export const PCLNTAB_MAGIC = {
  GO12: 0xfffffffb, // Go 1.2 - 1.15
  GO116: 0xfffffffa, // Go 1.16 - 1.17
  GO118: 0xfffffff0, // Go 1.18 - 1.19
  GO120: 0xfffffff1, // Go 1.20 and later (1.26 too)
} as const;

const RANGES: Record<number, string> = {
  [PCLNTAB_MAGIC.GO12]: ">=1.2 <1.16",
  [PCLNTAB_MAGIC.GO116]: ">=1.16 <1.18",
  [PCLNTAB_MAGIC.GO118]: ">=1.18 <1.20",
  [PCLNTAB_MAGIC.GO120]: ">=1.20",
};

/** Lowest minor version each magic allows, for checking a version string against the table. */
const MIN_MINOR: Record<number, [number, number]> = {
  [PCLNTAB_MAGIC.GO12]: [2, 15],
  [PCLNTAB_MAGIC.GO116]: [16, 17],
  [PCLNTAB_MAGIC.GO118]: [18, 19],
  [PCLNTAB_MAGIC.GO120]: [20, Number.POSITIVE_INFINITY],
};

const SECTION_NAMES = new Set([".gopclntab", ".data.rel.ro.gopclntab", "__gopclntab"]);
const WINDOW = 64 * 1024;
const SCAN_CHUNK = 1 << 20;
/** Upper bound on bytes examined by the magic scans (pclntab and version string). */
const SCAN_BUDGET = 512 * 1024 * 1024;
/** Function names longer than this are treated as corruption (generic instantiations stay far below). */
const MAX_NAME = 64 * 1024;

export interface PclntabFunc {
  name: string;
  /** Entry address (see Pclntab.textStart for what it is relative to). */
  entry: number;
  /** Next function's entry minus this one's. */
  size: number;
}

export interface Pclntab {
  magic: number;
  /** Go versions that write this table format, e.g. ">=1.20". */
  goVersionRange: string;
  littleEndian: boolean;
  ptrSize: 4 | 8;
  /** PC quantum: 1 (x86), 2 (s390x), 4 (RISC). */
  quantum: number;
  nfunc: number;
  nfiles: number;
  /**
   * Address added to the Go >= 1.18 entry offsets. The header's textStart word when non-zero; Go 1.26
   * writes 0 there (the runtime uses moduledata), and so do unrelocated PIEs, in which case we use the
   * address of the text section (`.text` / `__text`), where the Go linker puts runtime.text.
   */
  textStart: number;
  /** Absolute file offset of the table and bytes available from there. */
  offset: number;
  size: number;
  /** Section name it was found in, or "scan" when found by a magic scan (PE, section-less ELF). */
  foundIn: string;
  funcNames(): AsyncGenerator<string>;
  funcs(): AsyncGenerator<PclntabFunc>;
}

function bad(what: string, offset?: number): never {
  throw new ParseError("GO_PCLNTAB_CORRUPT", `pclntab: ${what}`, offset);
}

/** Bounded random access inside [base, base+size) with a one-block cache. */
class Window {
  private blockStart = -1;
  private block: Uint8Array = new Uint8Array(0);
  /** Bytes of every string decoded so far, terminators included. */
  stringBytes = 0;
  constructor(
    private readonly src: ByteSource,
    readonly base: number,
    readonly size: number,
  ) {}

  async bytes(off: number, len: number): Promise<Uint8Array> {
    if (off < 0 || len < 0 || off + len > this.size)
      bad(`read of ${len} bytes at +0x${off.toString(16)} past its end`);
    if (off >= this.blockStart && off + len <= this.blockStart + this.block.byteLength) {
      return this.block.subarray(off - this.blockStart, off - this.blockStart + len);
    }
    if (len > WINDOW) return this.src.read(this.base + off, len);
    const start = off;
    const n = Math.min(WINDOW, this.size - start);
    this.block = await this.src.read(this.base + start, n);
    this.blockStart = start;
    return this.block.subarray(0, len);
  }

  async cString(off: number): Promise<string> {
    let want = 256;
    for (;;) {
      const n = Math.min(want, this.size - off);
      if (n <= 0) bad(`name at +0x${off.toString(16)} outside the table`);
      const b = await this.bytes(off, n);
      const z = b.indexOf(0);
      if (z >= 0) {
        this.stringBytes += z + 1;
        return new TextDecoder().decode(b.subarray(0, z));
      }
      if (n < want || want >= MAX_NAME) bad(`unterminated name at +0x${off.toString(16)}`);
      want *= 4;
    }
  }
}

interface Header {
  magic: number;
  little: boolean;
  ptrSize: 4 | 8;
  quantum: number;
  nfunc: number;
  nfiles: number;
  textStart: number;
  funcnametab: number;
  functab: number;
  funcdata: number;
}

/**
 * Parses and validates the header at the start of `b` (`avail` bytes are available from there).
 * Returns null when it is not a plausible pclntab (the scan relies on this to reject false positives).
 */
function parseHeader(
  b: Uint8Array,
  avail: number,
  wantPtr: 4 | 8 | null,
  wantLittle: boolean | null,
): Header | null {
  if (b.byteLength < 16) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // Magic u32 @0, two zero bytes @4, PC quantum u8 @6, pointer size u8 @7 (pcHeader).
  if (b[4] !== 0 || b[5] !== 0) return null;
  const quantum = b[6]!;
  const ptr = b[7]!;
  if (quantum !== 1 && quantum !== 2 && quantum !== 4) return null;
  if (ptr !== 4 && ptr !== 8) return null;
  if (wantPtr !== null && ptr !== wantPtr) return null;
  // The magics read differently in the other byte order, which is how the order is detected.
  let little: boolean;
  let magic = v.getUint32(0, true);
  if (RANGES[magic] !== undefined) little = true;
  else {
    magic = v.getUint32(0, false);
    if (RANGES[magic] === undefined) return null;
    little = false;
  }
  if (wantLittle !== null && little !== wantLittle) return null;
  const words = magic === PCLNTAB_MAGIC.GO12 ? 1 : magic === PCLNTAB_MAGIC.GO116 ? 7 : 8;
  if (b.byteLength < 8 + words * ptr) return null;
  const w = (i: number): number =>
    ptr === 4 ? v.getUint32(8 + i * 4, little) : Number(v.getBigUint64(8 + i * 8, little));
  const nfunc = w(0);
  if (nfunc <= 0 || !Number.isSafeInteger(nfunc)) return null;

  if (magic === PCLNTAB_MAGIC.GO12) {
    // Go 1.2: functab of (pc, funcoff) uintptr pairs right after the nfunc word, then a u32 file
    // table offset; names and _func records are addressed from the table start.
    const functab = 8 + ptr;
    if (functab + (2 * nfunc + 1) * ptr + 4 > avail) return null;
    return {
      magic,
      little,
      ptrSize: ptr,
      quantum,
      nfunc,
      nfiles: 0,
      textStart: 0,
      funcnametab: 0,
      functab,
      funcdata: 0,
    };
  }
  const hdrSize = 8 + words * ptr;
  // 1.16: nfunc, nfiles, funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset.
  // 1.18+: nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset.
  const first = magic === PCLNTAB_MAGIC.GO116 ? 2 : 3;
  const offs = [w(first), w(first + 1), w(first + 2), w(first + 3), w(first + 4)];
  let prev = hdrSize;
  for (const o of offs) {
    if (o < prev) return null; // the linker writes the tables in this order
    prev = o;
  }
  const functab = offs[4]!;
  const field = magic === PCLNTAB_MAGIC.GO116 ? ptr : 4;
  if (functab + (2 * nfunc + 1) * field > avail) return null;
  return {
    magic,
    little,
    ptrSize: ptr,
    quantum,
    nfunc,
    nfiles: w(1),
    textStart: magic === PCLNTAB_MAGIC.GO116 ? 0 : w(2),
    funcnametab: offs[0]!,
    functab,
    funcdata: functab,
  };
}

function makeTable(
  src: ByteSource,
  h: Header,
  offset: number,
  size: number,
  textStart: number,
  foundIn: string,
): Pclntab {
  // Three cursors move forward through three areas (function table, _func records, names): one
  // cache block each, so they do not evict one another.
  const win = new Window(src, offset, size);
  const funcWin = new Window(src, offset, size);
  const nameWin = new Window(src, offset, size);
  const modern = h.magic === PCLNTAB_MAGIC.GO118 || h.magic === PCLNTAB_MAGIC.GO120;
  const field = modern ? 4 : h.ptrSize;
  const readField = (b: Uint8Array, o: number): number => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return field === 4 ? v.getUint32(o, h.little) : Number(v.getBigUint64(o, h.little));
  };
  async function* walk(withNames: boolean): AsyncGenerator<PclntabFunc> {
    // functab: nfunc (entry, funcoff) pairs plus the end PC, read in windows of 4096 entries.
    const per = 4096;
    const names = new Map<number, string>();
    for (let i = 0; i < h.nfunc; i += per) {
      const count = Math.min(per, h.nfunc - i);
      const chunk = await win.bytes(h.functab + i * 2 * field, (count * 2 + 1) * field);
      const ft = chunk;
      for (let j = 0; j < count; j++) {
        const entry = readField(ft, j * 2 * field);
        const funcOff = readField(ft, (j * 2 + 1) * field);
        const next = readField(ft, (j * 2 + 2) * field);
        let name = "";
        if (withNames) {
          // _func: entry (u32 entryOff in 1.18+, uintptr before), then i32 nameOff.
          const f = await funcWin.bytes(h.funcdata + funcOff, field + 4);
          const nameOff = new DataView(f.buffer, f.byteOffset, f.byteLength).getInt32(field, h.little);
          if (nameOff < 0) bad(`negative name offset for function ${i + j}`);
          const known = names.get(nameOff);
          if (known !== undefined) name = known;
          else {
            name = await nameWin.cString(h.funcnametab + nameOff);
            // Distinct names never overlap in a real table, so together they fit in it; functions
            // pointing into one long name at ever new offsets would decode it again each time (#12).
            if (nameWin.stringBytes > size)
              bad("function names overlap (more name bytes than the table holds)");
            names.set(nameOff, name);
          }
        }
        yield { name, entry: modern ? textStart + entry : entry, size: next - entry };
      }
    }
  }
  return {
    magic: h.magic,
    goVersionRange: RANGES[h.magic]!,
    littleEndian: h.little,
    ptrSize: h.ptrSize,
    quantum: h.quantum,
    nfunc: h.nfunc,
    nfiles: h.nfiles,
    textStart,
    offset,
    size,
    foundIn,
    async *funcNames() {
      for await (const f of walk(true)) yield f.name;
    },
    funcs: () => walk(true),
  };
}

interface Region {
  name: string;
  offset: number;
  size: number;
}

/**
 * Non-executable file-backed regions, in file order and disjoint: where a scan may find the table or
 * strings. Overlapping regions are merged, so a scan reads each byte of the file at most once however
 * many sections cover it (thousands of section headers over one range made scans quadratic, #12).
 * `skip` leaves out sections by name before merging.
 */
function dataRegions(src: ByteSource, layout: BinaryLayout, skip?: ReadonlySet<string>): Region[] {
  const out: Region[] = [];
  const base = layout.baseOffset;
  const fits = (o: number, n: number) => n > 0 && base + o < src.size;
  if (layout.sections.length > 0) {
    for (const s of layout.sections) {
      // Debug sections are not loaded and can be large; the tables we want are in loaded data.
      if (s.executable || !fits(s.offset, s.fileSize) || /^(\.z?debug|__z?debug)/.test(s.name)) continue;
      if (layout.format === "elf" && s.addr === 0) continue; // not allocated (.symtab, .strtab, ...)
      if (skip?.has(s.name)) continue;
      out.push({
        name: s.name,
        offset: base + s.offset,
        size: Math.min(s.fileSize, src.size - base - s.offset),
      });
    }
  } else {
    for (const s of layout.segments) {
      if (s.executable || !fits(s.offset, s.fileSize)) continue;
      out.push({
        name: "segment",
        offset: base + s.offset,
        size: Math.min(s.fileSize, src.size - base - s.offset),
      });
    }
  }
  return mergeRegions(out);
}

/** Sorted by offset, overlapping regions joined (the first one's name kept). */
function mergeRegions(regions: Region[]): Region[] {
  regions.sort((a, b) => a.offset - b.offset);
  const out: Region[] = [];
  for (const r of regions) {
    const last = out[out.length - 1];
    if (last && r.offset < last.offset + last.size) {
      last.size = Math.max(last.size, r.offset + r.size - last.offset);
    } else out.push({ ...r });
  }
  return out;
}

function textAddress(layout: BinaryLayout): number {
  const t = layout.sections.find((s) => s.name === ".text" || s.name === "__text");
  return t ? t.addr : 0;
}

/**
 * Finds and parses the pclntab: a named section first (ELF `.gopclntab` / `.data.rel.ro.gopclntab`,
 * Mach-O `__gopclntab`), else (PE, which has no such section, or ELF without section headers) a
 * scan of non-executable data for the magic at 4-byte-aligned offsets, accepting only a header whose
 * pointer size and byte order match the image and whose table offsets are ordered and fit. Returns
 * null when nothing plausible is found.
 */
export async function readPclntab(src: ByteSource, layout: BinaryLayout): Promise<Pclntab | null> {
  const text = textAddress(layout);
  const sec = layout.sections.find((s) => SECTION_NAMES.has(s.name) && s.fileSize > 0);
  if (sec) {
    const offset = layout.baseOffset + sec.offset;
    const size = Math.min(sec.fileSize, src.size - offset);
    if (size >= 16) {
      const h = parseHeader(
        await src.read(offset, Math.min(size, 72)),
        size,
        layout.ptrSize,
        layout.littleEndian,
      );
      if (h) return makeTable(src, h, offset, size, h.textStart !== 0 ? h.textStart : text, sec.name);
    }
  }
  let budget = SCAN_BUDGET;
  for (const r of dataRegions(src, layout)) {
    for (let at = 0; at < r.size && budget > 0; at += SCAN_CHUNK) {
      // Overlap by a header's length so a table starting near the end of a chunk is still seen whole.
      const n = Math.min(SCAN_CHUNK + 72, r.size - at);
      const b = await src.read(r.offset + at, n);
      budget -= n;
      for (let i = 0; i < Math.min(SCAN_CHUNK, n); i += 4) {
        // 0xff at both ends of the u32 in either byte order: a cheap pre-filter before parseHeader.
        if (b[i] !== 0xff && b[i] !== 0xf0 && b[i] !== 0xf1 && b[i] !== 0xfa && b[i] !== 0xfb) continue;
        if (b[i + 1] !== 0xff || b[i + 2] !== 0xff) continue;
        const avail = r.size - at - i;
        const h = parseHeader(b.subarray(i, Math.min(i + 72, n)), avail, layout.ptrSize, layout.littleEndian);
        if (h)
          return makeTable(src, h, r.offset + at + i, avail, h.textStart !== 0 ? h.textStart : text, "scan");
      }
    }
  }
  return null;
}

export interface GoVersionEvidence {
  /** "go1.26.8" etc., or null when only the range is known. */
  version: string | null;
  /** Range implied by the pclntab format, e.g. ">=1.20"; null when no pclntab was found. */
  range: string | null;
  /** Where the version came from. */
  source: "build-info" | "version-string" | "pclntab";
}

const VERSION_RE = /go1\.(\d{1,3})(?:\.\d{1,3}|rc\d{1,2}|beta\d{1,2})?/g;

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.byteLength; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/**
 * The Go toolchain version of a binary, with the strength of the evidence:
 *
 * 1. "build-info": the version recorded in the build info blob (what `go version` prints). Exact.
 *    Present in every binary built by Go >= 1.13 unless a tool removed it.
 * 2. "version-string": otherwise, a scan of non-executable loaded data (bounded) for the text of
 *    runtime.buildVersion, a string such as "go1.21.5" that the linker stores in read-only data.
 *    Without symbols we cannot know which match is runtime.buildVersion, so we prefer matches that
 *    stand alone (a non-printable byte before and a non-identifier byte after, as between packed
 *    strings) and that agree with the pclntab format; messages in the program that mention a Go
 *    version ("requires go1.21") can still mislead it. A runtime.buildVersion overridden with
 *    `-ldflags=-X` is not recognised unless it still looks like "go1.N".
 * 3. "pclntab": otherwise only the range of Go versions that write this pclntab format (e.g. ">=1.20"),
 *    which says nothing finer than that.
 *
 * Returns null when none of these is found (most likely not a Go binary).
 */
export async function goVersionFromBinary(
  src: ByteSource,
  layout: BinaryLayout,
): Promise<GoVersionEvidence | null> {
  let tab: Pclntab | null = null;
  try {
    tab = await readPclntab(src, layout);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  const range = tab ? tab.goVersionRange : null;
  const raw = await readRawGoBuildInfo(src, layout).catch((err: unknown) => {
    if (err instanceof ParseError) return null;
    throw err;
  });
  if (raw) return { version: raw.version, range, source: "build-info" };

  const scores = new Map<string, number>();
  let budget = SCAN_BUDGET;
  for (const r of dataRegions(src, layout, SECTION_NAMES)) {
    for (let at = 0; at < r.size && budget > 0; at += SCAN_CHUNK) {
      const n = Math.min(SCAN_CHUNK + 16, r.size - at);
      const b = await src.read(r.offset + at, n);
      budget -= n;
      const text = latin1(b);
      for (const m of text.matchAll(VERSION_RE)) {
        const i = m.index;
        if (i >= SCAN_CHUNK) continue; // seen again in the next chunk
        const minor = Number(m[1]);
        if (tab) {
          const [lo, hi] = MIN_MINOR[tab.magic]!;
          if (minor < lo || minor > hi) continue;
        }
        const before = i === 0 ? 0 : text.charCodeAt(i - 1);
        const after = text.charCodeAt(i + m[0].length);
        let score = 1;
        if (before < 0x20 || before > 0x7e) score += 4;
        if (Number.isNaN(after) || !/[0-9A-Za-z_.\-+]/.test(String.fromCharCode(after))) score += 2;
        if (m[0].split(".").length === 3) score += 1; // a release with a patch number
        scores.set(m[0], Math.max(scores.get(m[0]) ?? 0, score));
      }
    }
  }
  let best: string | null = null;
  let bestScore = 0;
  for (const [v, s] of scores) {
    if (s > bestScore) {
      best = v;
      bestScore = s;
    }
  }
  // Only a standalone string (score >= 5) is taken for runtime.buildVersion; prose does not qualify.
  if (best !== null && bestScore >= 5) return { version: best, range, source: "version-string" };
  if (tab) return { version: null, range, source: "pclntab" };
  return null;
}
