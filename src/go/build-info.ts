import type { BinaryLayout } from "../binary/layout.js";
import { ParseError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";
import { quotedPrefixGo, quoteGo, unquoteGo } from "./go-quote.js";

/**
 * Go build information, read the way `go version -m` reads it (Go 1.26 debug/buildinfo and
 * runtime/debug.ParseBuildInfo / BuildInfo.String). Comments cite the Go function each step follows.
 */

export interface GoModule {
  path: string;
  version: string;
  sum: string;
  replace?: GoModule;
}

export interface GoBuildSetting {
  key: string;
  value: string;
}

export interface GoBuildInfo {
  /** Toolchain version, e.g. "go1.26.8" (may carry a suffix such as " X:nocoverageredesign"). */
  version: string;
  /** Package path of the main package; "" for binaries built outside module mode. */
  path: string;
  main: GoModule;
  deps: GoModule[];
  /** Build settings by key (a repeated key keeps its last value). */
  settings: Record<string, string>;
  /** Build settings in file order, duplicates kept: what formatGoVersionM prints. */
  settingList: GoBuildSetting[];
}

/** Raw blob contents before modinfo parsing. `modinfo` is "" when the sentinels were missing. */
export interface GoRawBuildInfo {
  version: string;
  modinfo: string;
  /** File offset of the 32-byte header. */
  offset: number;
  /** true for the Go >= 1.18 inline format, false for the pointer format. */
  inline: boolean;
}

const MAGIC = [0xff, 0x20, 0x47, 0x6f, 0x20, 0x62, 0x75, 0x69, 0x6c, 0x64, 0x69, 0x6e, 0x66, 0x3a]; // "\xff Go buildinf:"
const ALIGN = 16;
const HEADER_SIZE = 32;
/** debug/buildinfo.searchChunkSize: reads are bounded by this, never by a section size. */
const CHUNK = 1 << 20;
const MAX_VARINT_LEN = 10;

const decoder = new TextDecoder("utf-8");

/**
 * A readable run of file bytes: the region that holds a virtual address, from that address to the
 * end of the region (debug/buildinfo's DataReader: readers stop at the end of the segment or section
 * containing the address, not at the end of the file).
 */
interface Run {
  offset: number;
  remaining: number;
}

/** The two operations debug/buildinfo's `exe` interface needs, over our BinaryLayout. */
interface Exe {
  /** Address and size of the range to search for the magic (exe.DataStart), or null. */
  dataStart(): { addr: number; size: number } | null;
  /** exe.DataReader: the run of file bytes starting at `addr`. */
  run(addr: number): Run | null;
}

function clampRun(src: ByteSource, offset: number, remaining: number): Run | null {
  // A truncated file: Go's SectionReader just returns fewer bytes (io.EOF); so do we.
  if (offset >= src.size) return null;
  return { offset, remaining: Math.min(remaining, src.size - offset) };
}

function exeFor(src: ByteSource, layout: BinaryLayout): Exe {
  const base = layout.baseOffset;
  const fromSegments = (addr: number): Run | null => {
    for (const seg of layout.segments) {
      if (seg.fileSize > 0 && addr >= seg.addr && addr < seg.addr + seg.fileSize) {
        return clampRun(src, base + seg.offset + (addr - seg.addr), seg.addr + seg.fileSize - addr);
      }
    }
    return null;
  };
  const fromSections = (addr: number): Run | null => {
    for (const sec of layout.sections) {
      if (sec.fileSize > 0 && addr >= sec.addr && addr < sec.addr + sec.fileSize) {
        return clampRun(src, base + sec.offset + (addr - sec.addr), sec.addr + sec.fileSize - addr);
      }
    }
    return null;
  };
  switch (layout.format) {
    case "elf":
      return {
        // elfExe.DataStart: section .go.buildinfo, else the first PT_LOAD with PF_W and without PF_X
        // (its Memsz). Our layout's segments are PT_LOAD entries.
        dataStart() {
          const sec = layout.sections.find((s) => s.name === ".go.buildinfo");
          if (sec) return { addr: sec.addr, size: sec.memSize };
          const seg = layout.segments.find((s) => s.writable && !s.executable);
          return seg ? { addr: seg.addr, size: seg.memSize } : null;
        },
        // elfExe.DataReader reads through program headers; a layout without them (a section-only
        // object) falls back on sections.
        run: (addr) => (layout.segments.length > 0 ? fromSegments(addr) : fromSections(addr)),
      };
    case "macho":
      return {
        // machoExe.DataStart: section __go_buildinfo (any segment), else the first segment with a
        // non-zero address and file size mapped read-write (Go also requires maxprot == RW, which the
        // layout does not carry; readMachoLayout's `segments` has it).
        dataStart() {
          const sec = layout.sections.find((s) => s.name === "__go_buildinfo");
          if (sec) return { addr: sec.addr, size: sec.memSize };
          const seg = layout.segments.find(
            (s) => s.addr !== 0 && s.fileSize !== 0 && s.readable && s.writable && !s.executable,
          );
          return seg ? { addr: seg.addr, size: seg.memSize } : null;
        },
        run: fromSegments,
      };
    case "pe":
      return {
        // peExe.DataStart: the first section whose Characteristics, with IMAGE_SCN_ALIGN_32BYTES
        // (0x600000) masked out, are exactly INITIALIZED_DATA|MEM_READ|MEM_WRITE (0xC0000040); the
        // search covers its VirtualSize.
        dataStart() {
          const sec = layout.sections.find(
            (s) => s.fileSize !== 0 && (s.flags & ~0x600000) >>> 0 === 0xc0000040,
          );
          return sec ? { addr: sec.addr, size: sec.memSize } : null;
        },
        run: fromSections,
      };
  }
}

/** A flat exe over the file itself, for callers without a layout: addresses are file offsets. */
function flatExe(src: ByteSource): Exe {
  return {
    dataStart: () => (src.size > 0 ? { addr: 0, size: src.size } : null),
    run: (addr) => clampRun(src, addr, src.size - addr),
  };
}

/** readData: up to `size` bytes at `addr`, stopping at the end of the containing run. */
async function readData(src: ByteSource, exe: Exe, addr: number, size: number): Promise<Uint8Array | null> {
  const r = exe.run(addr);
  if (r === null) return null;
  const n = Math.min(size, r.remaining);
  return n <= 0 ? new Uint8Array(0) : src.read(r.offset, n);
}

function matchesMagic(b: Uint8Array, i: number): boolean {
  for (let j = 0; j < MAGIC.length; j++) if (b[i + j] !== MAGIC[j]) return false;
  return true;
}

/**
 * searchMagic: the first 16-byte-aligned magic in [start, start+size), read in 1 MiB chunks with no
 * overall cap (golang/go#61644: a 64 KiB cap missed the blob in large binaries).
 */
async function searchMagic(src: ByteSource, exe: Exe, start0: number, size: number): Promise<number | null> {
  const end = start0 + size;
  let start = Math.ceil(start0 / ALIGN) * ALIGN;
  // Go walks the address range with no overall cap. Over a real file the range maps each file byte
  // once, so the walk takes at most size/CHUNK steps and reads at most the file; a crafted file whose
  // segments map the same bytes again at every next address would make it read the file once per
  // segment (#12). Past those bounds every further chunk repeats bytes already searched.
  let steps = Math.ceil(src.size / CHUNK) + 2;
  let budget = src.size;
  while (start < end && steps-- > 0 && budget > 0) {
    const remaining = end - start;
    const chunk = Math.min(CHUNK, remaining);
    const r = exe.run(start);
    // Go: a DataReader error (address beyond the file bytes, e.g. into .bss) ends the search.
    if (r === null) return null;
    const n = Math.min(chunk, r.remaining);
    budget -= n;
    const data = await src.read(r.offset, n);
    // Same order of checks as Go: the first occurrence anywhere, then room for the header, then
    // alignment (relative to `start`, which is itself aligned).
    let pos = 0;
    for (;;) {
      const i = data.indexOf(0xff, pos);
      if (i < 0 || i + MAGIC.length > data.byteLength) break;
      if (!matchesMagic(data, i)) {
        pos = i + 1;
        continue;
      }
      if (remaining - i < HEADER_SIZE) return null;
      if (i % ALIGN !== 0) {
        const next = Math.ceil(i / ALIGN) * ALIGN;
        if (next > data.byteLength) return null;
        pos = next;
        continue;
      }
      return start + i;
    }
    start += chunk;
  }
  return null;
}

/** binary.Uvarint: value and bytes consumed; n == 0 for a short buffer, n < 0 on overflow. */
export function readUvarint(b: Uint8Array): { value: bigint; n: number } {
  let x = 0n;
  let s = 0n;
  for (let i = 0; i < b.byteLength && i < MAX_VARINT_LEN; i++) {
    const c = b[i]!;
    if (c < 0x80) {
      if (i === MAX_VARINT_LEN - 1 && c > 1) return { value: 0n, n: -(i + 1) };
      return { value: x | (BigInt(c) << s), n: i + 1 };
    }
    x |= BigInt(c & 0x7f) << s;
    s += 7n;
  }
  return { value: 0n, n: b.byteLength >= MAX_VARINT_LEN ? -(MAX_VARINT_LEN + 1) : 0 };
}

/** decodeString: uvarint length + bytes, all inside one run. */
async function decodeString(
  src: ByteSource,
  exe: Exe,
  addr: number,
): Promise<{ bytes: Uint8Array; next: number } | null> {
  const b = await readData(src, exe, addr, MAX_VARINT_LEN);
  if (b === null || b.byteLength === 0) return null;
  const { value, n } = readUvarint(b);
  if (n <= 0) return null;
  const r = exe.run(addr + n);
  // Check the untrusted length against what the run really holds before reading anything.
  if (r === null || value > BigInt(r.remaining)) return null;
  const len = Number(value);
  const data = len === 0 ? new Uint8Array(0) : await src.read(r.offset, len);
  return { bytes: data, next: addr + n + len };
}

/** readString (pointer format): a Go string header {ptr, len} at addr, then its bytes. "" on failure. */
async function readGoString(
  src: ByteSource,
  exe: Exe,
  ptrSize: 4 | 8,
  little: boolean,
  addr: number,
): Promise<Uint8Array> {
  const none = new Uint8Array(0);
  const hdr = await readData(src, exe, addr, 2 * ptrSize);
  if (hdr === null || hdr.byteLength < 2 * ptrSize) return none;
  const v = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  const ptr = ptrSize === 4 ? v.getUint32(0, little) : Number(v.getBigUint64(0, little));
  const len = ptrSize === 4 ? v.getUint32(4, little) : v.getBigUint64(8, little);
  const r = exe.run(ptr);
  if (r === null || BigInt(len) > BigInt(r.remaining)) return none;
  const n = Number(len);
  return n === 0 ? none : src.read(r.offset, n);
}

/**
 * readRawBuildInfo: locate the blob and return the version and the framed modinfo, or null when this is
 * not a Go executable as far as `go version` can tell. With `layout` null, the whole file is scanned
 * in 1 MiB chunks for a 16-byte-aligned header, treating file offsets as addresses: that finds every
 * inline (Go >= 1.18) blob, because loaders keep file offset and address congruent modulo the page
 * size, but cannot follow pointer-format (< 1.18) headers.
 */
export async function readRawGoBuildInfo(
  src: ByteSource,
  layout: BinaryLayout | null,
): Promise<GoRawBuildInfo | null> {
  const exe = layout ? exeFor(src, layout) : flatExe(src);
  const ds = exe.dataStart();
  if (ds === null || ds.size === 0) return null;
  const addr = await searchMagic(src, exe, ds.addr, ds.size);
  if (addr === null) return null;
  const header = await readData(src, exe, addr, HEADER_SIZE);
  if (header === null || header.byteLength < HEADER_SIZE) return null;
  const offset = exe.run(addr)!.offset;

  // Header: magic[14], ptrSize u8 @14, flags u8 @15 (bit 0 big-endian, bit 1 inline strings),
  // then (pointer format only) two target-sized pointers at @16 and @16+ptrSize.
  const ptrSizeByte = header[14]!;
  const flags = header[15]!;
  let version: string;
  let mod: Uint8Array;
  const inline = (flags & 2) !== 0;
  if (inline) {
    const v = await decodeString(src, exe, addr + HEADER_SIZE);
    if (v === null) return null;
    const m = await decodeString(src, exe, v.next);
    if (m === null) return null;
    version = decoder.decode(v.bytes);
    mod = m.bytes;
  } else {
    if (layout === null) return null;
    if (ptrSizeByte !== 4 && ptrSizeByte !== 8) return null;
    const little = (flags & 1) === 0;
    const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const readPtr = (o: number): number =>
      ptrSizeByte === 4 ? hv.getUint32(o, little) : Number(hv.getBigUint64(o, little));
    version = decoder.decode(await readGoString(src, exe, ptrSizeByte, little, readPtr(16)));
    mod = await readGoString(src, exe, ptrSizeByte, little, readPtr(16 + ptrSizeByte));
  }
  if (version === "") return null;
  // cmd/go/internal/modload infoStart/infoEnd: 16-byte sentinels frame the text; Go keeps it only when
  // the byte before the end sentinel is the newline that ends the last line.
  const modinfo =
    mod.byteLength >= 33 && mod[mod.byteLength - 17] === 0x0a
      ? decoder.decode(mod.subarray(16, mod.byteLength - 16))
      : "";
  return { version, modinfo, offset, inline };
}

function quoteKeyNeeded(key: string): boolean {
  return key.length === 0 || /[= \t\r\n"`]/.test(key);
}

function quoteValueNeeded(value: string): boolean {
  return /[ \t\r\n"`]/.test(value);
}

function modSyntax(line: number, what: string): never {
  throw new ParseError("GO_MODINFO_SYNTAX", `could not parse Go build info: line ${line}: ${what}`);
}

/**
 * runtime/debug.ParseBuildInfo. Unknown lines are ignored; a final line without a newline is ignored;
 * a malformed mod/dep/=>/build line is a ParseError (code GO_MODINFO_SYNTAX), as it is an error for Go.
 */
export function parseModInfo(text: string): Omit<GoBuildInfo, "version"> {
  const info: Omit<GoBuildInfo, "version"> = {
    path: "",
    main: { path: "", version: "", sum: "" },
    deps: [],
    settings: {},
    settingList: [],
  };
  const readModule = (elem: string[], line: number): GoModule => {
    if (elem.length !== 2 && elem.length !== 3)
      modSyntax(line, `expected 2 or 3 columns; got ${elem.length}`);
    return { path: elem[0]!, version: elem[1]!, sum: elem[2] ?? "" };
  };
  let last: GoModule | null = null;
  let lineNum = 1;
  let data = text;
  while (data.length > 0) {
    const nl = data.indexOf("\n");
    if (nl < 0) break;
    const line = data.slice(0, nl);
    data = data.slice(nl + 1);
    if (line.startsWith("path\t")) {
      info.path = line.slice(5);
    } else if (line.startsWith("mod\t")) {
      info.main = readModule(line.slice(4).split("\t"), lineNum);
      last = info.main;
    } else if (line.startsWith("dep\t")) {
      last = readModule(line.slice(4).split("\t"), lineNum);
      info.deps.push(last);
    } else if (line.startsWith("=>\t")) {
      const elem = line.slice(3).split("\t");
      if (elem.length !== 3) modSyntax(lineNum, `expected 3 columns for replacement; got ${elem.length}`);
      if (last === null) modSyntax(lineNum, "replacement with no module on previous line");
      last.replace = { path: elem[0]!, version: elem[1]!, sum: elem[2]! };
      last = null;
    } else if (line.startsWith("build\t")) {
      const kv = line.slice(6);
      if (kv.length < 1) modSyntax(lineNum, "build line missing '='");
      let key: string;
      let rawValue: string;
      if (kv[0] === "=") {
        modSyntax(lineNum, "build line with missing key");
      } else if (kv[0] === "`" || kv[0] === '"') {
        const rawKey = quotedPrefixGo(kv);
        if (rawKey === null) modSyntax(lineNum, "invalid quoted key in build line");
        if (kv.length === rawKey.length) modSyntax(lineNum, "build line missing '=' after quoted key");
        if (kv[rawKey.length] !== "=") modSyntax(lineNum, "unexpected character after quoted key");
        key = unquoteGo(rawKey) ?? "";
        rawValue = kv.slice(rawKey.length + 1);
      } else {
        const eq = kv.indexOf("=");
        if (eq < 0) modSyntax(lineNum, "build line missing '=' after key");
        key = kv.slice(0, eq);
        rawValue = kv.slice(eq + 1);
        if (quoteKeyNeeded(key)) modSyntax(lineNum, `unquoted key ${quoteGo(key)} must be quoted`);
      }
      let value = "";
      if (rawValue.length > 0) {
        if (rawValue[0] === "`" || rawValue[0] === '"') {
          const v = unquoteGo(rawValue);
          if (v === null) modSyntax(lineNum, "invalid quoted value in build line");
          value = v;
        } else {
          value = rawValue;
          if (quoteValueNeeded(value)) modSyntax(lineNum, `unquoted value ${quoteGo(value)} must be quoted`);
        }
      }
      info.settingList.push({ key, value });
    }
    lineNum++;
  }
  // Object.fromEntries defines own properties, so a key such as "__proto__" cannot reach a prototype.
  info.settings = Object.fromEntries(info.settingList.map((s) => [s.key, s.value]));
  return info;
}

/**
 * Build info of the Go executable described by `layout`, or null when `go version -m` would say it is
 * not a Go executable. Throws ParseError GO_MODINFO_SYNTAX when the blob is found but its module text
 * is malformed (Go reports an error too). Pass layout null to scan the whole file (see
 * readRawGoBuildInfo for what that cannot see).
 */
export async function readGoBuildInfo(
  src: ByteSource,
  layout: BinaryLayout | null,
): Promise<GoBuildInfo | null> {
  const raw = await readRawGoBuildInfo(src, layout);
  if (raw === null) return null;
  return { version: raw.version, ...parseModInfo(raw.modinfo) };
}

/** runtime/debug.BuildInfo.String without the "go" line (cmd/go clears GoVersion before calling it). */
function buildInfoString(info: GoBuildInfo): string {
  let buf = "";
  if (info.path !== "") buf += `path\t${info.path}\n`;
  const formatMod = (word: string, m: GoModule): void => {
    buf += `${word}\t${m.path}\t${m.version}`;
    if (m.replace === undefined) {
      buf += `\t${m.sum}`;
    } else {
      buf += "\n";
      formatMod("=>", m.replace);
    }
    // Go writes this newline after the replacement's own newline, hence an empty line after every
    // "=>" line in real `go version -m` output. We reproduce it byte for byte.
    buf += "\n";
  };
  const m = info.main;
  if (m.path !== "" || m.version !== "" || m.sum !== "" || m.replace !== undefined) formatMod("mod", m);
  for (const d of info.deps) formatMod("dep", d);
  for (const s of info.settingList) {
    const key = quoteKeyNeeded(s.key) ? quoteGo(s.key) : s.key;
    const value = quoteValueNeeded(s.value) ? quoteGo(s.value) : s.value;
    buf += `build\t${key}=${value}\n`;
  }
  return buf;
}

/**
 * Exactly what `go version -m <path>` prints on stdout for a Go executable (cmd/go/internal/version
 * scanFile): "<path>: <version>\n", then the module lines each prefixed by a tab.
 */
export function formatGoVersionM(info: GoBuildInfo, path: string): string {
  let out = `${path}: ${info.version}\n`;
  const mod = buildInfoString(info);
  if (mod.length > 0) out += `\t${mod.slice(0, -1).replaceAll("\n", "\n\t")}\n`;
  return out;
}
