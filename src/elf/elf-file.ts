import { Bytes, cString, hex } from "../binary/bytes.js";
import type { BinaryLayout } from "../binary/layout.js";
import { ParseError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";
import { DT, PF, PT, SHF, SHT } from "./constants.js";
import { type DynamicEntry, parseDynamic } from "./dynamic.js";
import { EHDR_SIZE, type ElfHeader, parseElfHeader } from "./header.js";
import { PHDR_SIZE, type ProgramHeader, parseProgramHeaders } from "./program-header.js";
import { parseSectionHeaders, type SectionHeader, SHDR_SIZE } from "./section-header.js";
import { countGnuHashSymbols, type ElfSymbol, parseSymbols, SYM_SIZE } from "./symbols.js";
import { parseVerdef, parseVerneed, type VersionDef, type VersionNeed } from "./versions.js";

/** Upper bound for a single metadata table we read whole (string tables, symbol tables). */
const MAX_TABLE = 256 * 1024 * 1024;
/**
 * The dynamic array is read up to this (65 536 entries of ELF64; real ones have a few dozen): a
 * crafted PT_DYNAMIC of hundreds of MiB must not be read whole before DT_NULL is found (issue #12).
 */
const MAX_DYNAMIC = 1 << 20;

/** Everything the loader and our checks need from one ELF file, read by ranges. */
export interface ElfFile {
  source: ByteSource;
  header: ElfHeader;
  little: boolean;
  programHeaders: ProgramHeader[];
  sections: SectionHeader[];
  interpreter: string | null;
  /** Dynamic entries from PT_DYNAMIC (what the loader uses), or null when there is no dynamic array. */
  dynamic: DynamicEntry[] | null;
  needed: string[];
  soname: string | null;
  rpath: string[];
  runpath: string[];
  /** DT_FLAGS and DT_FLAGS_1 (0 when absent). */
  flags: number;
  flags1: number;
  versionNeeds: VersionNeed[];
  versionDefs: VersionDef[];
  /** Survivable oddities found while reading (e.g. a string offset outside .dynstr). */
  problems: string[];
  /** Format-neutral layout for the Go readers. */
  layout: BinaryLayout;
  /** The dynamic string table (DT_STRTAB); empty when there is none. */
  dynstr: Uint8Array;
  /** Dynamic symbols, read on first call (index 0 is the null symbol). */
  dynamicSymbols(): Promise<ElfSymbol[]>;
  /** Raw dynamic symbol table and its string table, for callers that decode selectively. */
  dynamicSymbolTable(): Promise<{ raw: Uint8Array; strtab: Uint8Array; count: number } | null>;
  /**
   * Where the dynamic symbol table lies (file offset, entry count) and its string table, without
   * reading the entries: callers that need a few symbols read those alone.
   */
  dynamicSymbolLocation(): Promise<{ offset: number; count: number; strtab: Uint8Array } | null>;
  /** `.symtab` symbols, read on first call; [] when stripped. */
  staticSymbols(): Promise<ElfSymbol[]>;
  /** File bytes of a section (NOBITS → empty). Bounds-checked. */
  sectionBytes(sec: SectionHeader): Promise<Uint8Array>;
  section(name: string): SectionHeader | undefined;
  /** File offset of `len` bytes at virtual address `addr` via PT_LOAD, or null. */
  vaddrToOffset(addr: number, len: number): number | null;
}

/** One parse per source: check, deps and the run-time needs detector all read the same program. */
const parsed = new WeakMap<ByteSource, Promise<ElfFile>>();

/**
 * Reads the structure of an ELF file. Throws ParseError for files whose headers or tables lie outside
 * the file (truncated or corrupt); softer problems go to `problems`. The result is remembered for the
 * source object, so every reader of one ByteSource shares one parse (a command parses a binary once).
 */
export function readElf(src: ByteSource): Promise<ElfFile> {
  let p = parsed.get(src);
  if (!p) {
    p = parseElf(src);
    parsed.set(src, p);
  }
  return p;
}

async function parseElf(src: ByteSource): Promise<ElfFile> {
  const name = src.name;
  if (src.size < 16) throw new ParseError("TRUNCATED", `${name}: truncated ELF file (${src.size} bytes)`, 0);
  const ident = await src.read(0, Math.min(src.size, 64));
  const cls0 = ident[4] === 2 ? 64 : 32;
  if (src.size < EHDR_SIZE[cls0]) {
    throw new ParseError(
      "TRUNCATED",
      `${name}: truncated ELF header (${src.size} of ${EHDR_SIZE[cls0]} bytes)`,
      0,
    );
  }
  const header = parseElfHeader(ident, name);
  const cls = header.class;
  const little = header.endian === "little";
  const problems: string[] = [];

  const tableRange = async (what: string, off: number, count: number, entsize: number, min: number) => {
    if (entsize < min) {
      throw new ParseError("BAD_ENTSIZE", `${name}: ${what} entry size ${entsize} is smaller than ${min}`);
    }
    const bytes = count * entsize;
    if (off + bytes > src.size || off < 0) {
      throw new ParseError(
        "TRUNCATED",
        `${name}: truncated or corrupt: ${what} (${count} entries at ${hex(off)}) extends past end of file (size ${src.size})`,
        off,
      );
    }
    return src.read(off, bytes);
  };

  // Section 0 holds the real counts when e_shnum / e_phnum / e_shstrndx overflow (gABI extended numbering).
  let shnum = header.shnum;
  let shstrndx = header.shstrndx;
  let phnum = header.phnum;
  let sections: SectionHeader[] = [];
  if (header.shoff !== 0) {
    if (header.shentsize < SHDR_SIZE[cls]) {
      throw new ParseError("BAD_ENTSIZE", `${name}: section header size ${header.shentsize} is invalid`, 0);
    }
    if (shnum === 0 || shstrndx === 0xffff || phnum === 0xffff) {
      const s0 = parseSectionHeaders(
        await tableRange("section header table", header.shoff, 1, header.shentsize, SHDR_SIZE[cls]),
        cls,
        little,
        1,
        header.shentsize,
      )[0]!;
      if (shnum === 0) shnum = s0.size;
      if (shstrndx === 0xffff) shstrndx = s0.link;
      if (phnum === 0xffff) phnum = s0.info;
    }
    const tableEnd = header.shoff + shnum * header.shentsize;
    if (phnum > 0 && phnum !== 0xffff && (tableEnd > src.size || header.shoff < 0)) {
      // A program runs from its segments alone (the kernel and the loader never read sections): a
      // section table cut off or pointing away is a damaged file to report, not one that cannot run.
      problems.push(
        `section header table (${shnum} entries at ${hex(header.shoff)}) extends past the end of the file (size ${src.size}): sections ignored`,
      );
    } else {
      const table = await tableRange(
        "section header table",
        header.shoff,
        shnum,
        header.shentsize,
        SHDR_SIZE[cls],
      );
      sections = parseSectionHeaders(table, cls, little, shnum, header.shentsize);
    }
  }

  let programHeaders: ProgramHeader[] = [];
  if (phnum > 0) {
    if (header.phoff === 0)
      throw new ParseError("BAD_PHOFF", `${name}: ${phnum} program headers at offset 0`, 0);
    const table = await tableRange(
      "program header table",
      header.phoff,
      phnum,
      header.phentsize,
      PHDR_SIZE[cls],
    );
    programHeaders = parseProgramHeaders(table, cls, little, phnum, header.phentsize);
  }

  const unreadable = new Set<SectionHeader>();
  const sectionBytes = async (sec: SectionHeader): Promise<Uint8Array> => {
    if (sec.type === SHT.NOBITS || sec.size === 0) return new Uint8Array(0);
    if ((sec.offset + sec.size > src.size || sec.size > MAX_TABLE) && programHeaders.length > 0) {
      // As above: in a program, a section whose bytes are not in the file is noted and read as empty.
      if (!unreadable.has(sec)) {
        unreadable.add(sec);
        problems.push(
          `section ${sec.name || "#?"} (${sec.size} bytes at ${hex(sec.offset)}) is not within the file (size ${src.size}): read as empty`,
        );
      }
      return new Uint8Array(0);
    }
    if (sec.offset + sec.size > src.size || sec.size > MAX_TABLE) {
      throw new ParseError(
        "TRUNCATED",
        `${name}: truncated or corrupt: section ${sec.name || "#?"} (${sec.size} bytes at ${hex(sec.offset)}) extends past end of file`,
        sec.offset,
      );
    }
    return src.read(sec.offset, sec.size);
  };

  // Section names. A bad shstrtab is survivable: sections stay unnamed.
  if (sections.length > 0 && shstrndx !== 0) {
    const strsec = sections[shstrndx];
    if (!strsec || strsec.offset + strsec.size > src.size) {
      problems.push(`section name table index ${shstrndx} is invalid or outside the file`);
    } else {
      // Only the bytes the names can reach (a name is at most 4 KiB): a crafted file's huge
      // .shstrtab is not read whole for a few short names (issue #12).
      let reach = 0;
      for (const s of sections) reach = Math.max(reach, s.nameOffset + 4096);
      const strtab =
        strsec.type === SHT.NOBITS || strsec.size <= reach
          ? await sectionBytes(strsec)
          : await src.read(strsec.offset, reach);
      for (const s of sections) s.name = cString(strtab, s.nameOffset) ?? "";
    }
  }

  const loads = programHeaders.filter((p) => p.type === PT.LOAD);
  // The kernel maps every PT_LOAD from the file: bytes past the end are not there, and touching them
  // kills the program (SIGBUS/SIGSEGV) — a cut-short download still has headers that parse. A separate
  // debug-info file keeps its segments with no bytes (filesz 0 or NOBITS), which is not this.
  for (const p of loads) {
    if (p.filesz > 0 && p.offset + p.filesz > src.size) {
      throw new ParseError(
        "TRUNCATED",
        `${name}: truncated or corrupt: loadable segment (${p.filesz} bytes at ${hex(p.offset)}) extends past end of file (size ${src.size})`,
        p.offset,
      );
    }
  }
  const vaddrToOffset = (addr: number, len: number): number | null => {
    for (const p of loads) {
      if (addr >= p.vaddr && addr + len <= p.vaddr + p.filesz) return p.offset + (addr - p.vaddr);
    }
    return null;
  };

  // PT_INTERP: the path the kernel loads. Cap: PATH_MAX.
  let interpreter: string | null = null;
  const interp = programHeaders.find((p) => p.type === PT.INTERP);
  if (interp && interp.filesz === 0) {
    problems.push("PT_INTERP has no bytes in the file (a separate debug-info file?)");
  } else if (interp) {
    if (interp.offset + interp.filesz > src.size || interp.filesz > 4096) {
      throw new ParseError(
        "BAD_INTERP",
        `${name}: truncated or corrupt: PT_INTERP (${interp.filesz} bytes at ${hex(interp.offset)}) is outside the file or too long`,
        interp.offset,
      );
    }
    const b = await src.read(interp.offset, interp.filesz);
    const nul = b.indexOf(0);
    interpreter = new TextDecoder().decode(nul >= 0 ? b.subarray(0, nul) : b);
  }

  // Dynamic array: the loader reads PT_DYNAMIC; fall back on the SHT_DYNAMIC section.
  let dynamic: DynamicEntry[] | null = null;
  const dynSeg = programHeaders.find((p) => p.type === PT.DYNAMIC);
  const dynSec = sections.find((s) => s.type === SHT.DYNAMIC);
  if (dynSeg && dynSeg.filesz > 0) {
    // The loader finds its dynamic array at p_vaddr in the mapped image (l_ld), not at p_offset: read
    // it through the PT_LOAD that maps it, and only fall back on p_offset for files without one.
    const mapped = vaddrToOffset(dynSeg.vaddr, dynSeg.filesz);
    const off = mapped ?? dynSeg.offset;
    if (off + dynSeg.filesz > src.size) {
      throw new ParseError(
        "TRUNCATED",
        `${name}: truncated or corrupt: dynamic segment (${dynSeg.filesz} bytes at ${hex(off)}) extends past end of file`,
        off,
      );
    }
    if (mapped !== null && mapped !== dynSeg.offset)
      problems.push(
        `PT_DYNAMIC's p_offset ${hex(dynSeg.offset)} disagrees with its address (file offset ${hex(mapped)})`,
      );
    dynamic = parseDynamic(await src.read(off, Math.min(dynSeg.filesz, MAX_DYNAMIC)), cls, little);
  } else if (dynSec && dynSec.size > 0) {
    dynamic = parseDynamic(await sectionBytes(dynSec), cls, little);
  }

  const dynVal = (tag: number) => dynamic?.find((d) => d.tag === tag)?.val;
  // The dynamic string table, addressed by DT_STRTAB (a virtual address) or the .dynamic section's link.
  let dynstr: Uint8Array = new Uint8Array(0);
  let dynstrOff = -1;
  if (dynamic) {
    const strAddr = dynVal(DT.STRTAB);
    const strSize = dynVal(DT.STRSZ) ?? 0;
    let off = strAddr !== undefined ? vaddrToOffset(strAddr, strSize) : null;
    let size = strSize;
    if (off === null && dynSec && sections[dynSec.link]) {
      off = sections[dynSec.link]!.offset;
      size = sections[dynSec.link]!.size;
    }
    if (off !== null && size > 0 && off + size <= src.size && size <= MAX_TABLE) {
      dynstr = await src.read(off, size);
      dynstrOff = off;
    } else if (dynamic.some((d) => d.tag === DT.NEEDED || d.tag === DT.SONAME)) {
      problems.push(
        `dynamic string table (DT_STRTAB ${hex(strAddr ?? 0)}, ${strSize} bytes) is outside the file`,
      );
    }
  }
  const str = (off: number): string | null => cString(dynstr, off);
  const strOrFlag = (off: number, what: string): string => {
    const s = str(off);
    if (s === null) {
      problems.push(`${what} string offset ${hex(off)} is outside the dynamic string table`);
      return `<corrupt ${hex(off)}>`;
    }
    return s;
  };

  const needed: string[] = [];
  let soname: string | null = null;
  const rpath: string[] = [];
  const runpath: string[] = [];
  let flags = 0;
  let flags1 = 0;
  for (const d of dynamic ?? []) {
    switch (d.tag) {
      case DT.NEEDED:
        needed.push(strOrFlag(d.val, "DT_NEEDED"));
        break;
      case DT.SONAME:
        soname = strOrFlag(d.val, "DT_SONAME");
        break;
      case DT.RPATH:
        rpath.push(...strOrFlag(d.val, "DT_RPATH").split(":"));
        break;
      case DT.RUNPATH:
        runpath.push(...strOrFlag(d.val, "DT_RUNPATH").split(":"));
        break;
      case DT.FLAGS:
        flags |= d.val;
        break;
      case DT.FLAGS_1:
        flags1 |= d.val;
        break;
    }
  }

  // Version tables: addressed by DT_VERNEED / DT_VERDEF; the section (when present) bounds the bytes.
  const versionTable = async (addrTag: number, secType: number): Promise<Uint8Array | null> => {
    const addr = dynVal(addrTag);
    const sec = sections.find((s) => s.type === secType);
    if (addr === undefined) return sec ? sectionBytes(sec) : null;
    const off = vaddrToOffset(addr, 1);
    if (off === null) {
      problems.push(`version table at ${hex(addr)} is not mapped by any PT_LOAD segment`);
      return null;
    }
    if (sec && sec.offset === off && sec.offset + sec.size <= src.size) return sectionBytes(sec);
    const seg = loads.find((p) => addr >= p.vaddr && addr < p.vaddr + p.filesz)!;
    const len = Math.min(seg.offset + seg.filesz - off, 1 << 20, src.size - off);
    return src.read(off, len);
  };
  let versionNeeds: VersionNeed[] = [];
  const vnBytes = await versionTable(DT.VERNEED, SHT.GNU_VERNEED);
  if (vnBytes) {
    const count = dynVal(DT.VERNEEDNUM) ?? sections.find((s) => s.type === SHT.GNU_VERNEED)?.info ?? 0;
    const r = parseVerneed(vnBytes, little, count, str);
    versionNeeds = r.needs;
    if (r.truncated) problems.push("version needs (.gnu.version_r) run past the end of their table");
  }
  let versionDefs: VersionDef[] = [];
  const vdBytes = await versionTable(DT.VERDEF, SHT.GNU_VERDEF);
  if (vdBytes) {
    const count = dynVal(DT.VERDEFNUM) ?? sections.find((s) => s.type === SHT.GNU_VERDEF)?.info ?? 0;
    const r = parseVerdef(vdBytes, little, count, str);
    versionDefs = r.defs;
    if (r.truncated) problems.push("version definitions (.gnu.version_d) run past the end of their table");
  }

  let dynLoc: { offset: number; count: number; strtab: Uint8Array } | null | undefined;
  const dynamicSymbolLocation = async () => {
    if (dynLoc !== undefined) return dynLoc;
    dynLoc = null;
    const size = SYM_SIZE[cls];
    const sec = sections.find((s) => s.type === SHT.DYNSYM);
    if (sec && sec.offset + sec.size <= src.size && sec.size <= MAX_TABLE) {
      const strsec = sections[sec.link];
      let strtab = dynstr;
      if (strsec && strsec.offset + strsec.size <= src.size && strsec.size <= MAX_TABLE) {
        // Usually the very bytes DT_STRTAB already gave us: do not read them twice.
        strtab =
          strsec.offset === dynstrOff && strsec.size <= dynstr.byteLength
            ? dynstr.subarray(0, strsec.size)
            : await sectionBytes(strsec);
      }
      dynLoc = {
        offset: sec.offset,
        count: sec.type === SHT.NOBITS ? 0 : Math.floor(sec.size / size),
        strtab,
      };
      return dynLoc;
    }
    // No section headers (sstrip'ed): count from the hash tables, as the loader never needs to.
    const symAddr = dynVal(DT.SYMTAB);
    if (symAddr === undefined) return dynLoc;
    let count: number | null = null;
    const hashAddr = dynVal(DT.HASH);
    if (hashAddr !== undefined) {
      const ho = vaddrToOffset(hashAddr, 8);
      if (ho !== null) count = new Bytes(await src.read(ho + 4, 4), little).u32(0); // nchain
    }
    const gnuAddr = dynVal(DT.GNU_HASH);
    if (count === null && gnuAddr !== undefined) {
      const go = vaddrToOffset(gnuAddr, 16);
      if (go !== null) {
        const seg = loads.find((p) => gnuAddr >= p.vaddr && gnuAddr < p.vaddr + p.filesz)!;
        const len = Math.min(seg.offset + seg.filesz - go, 16 << 20);
        count = countGnuHashSymbols(await src.read(go, len), cls, little);
      }
    }
    if (count === null || count * size > src.size) return dynLoc;
    const so = vaddrToOffset(symAddr, count * size);
    if (so === null) {
      problems.push("dynamic symbol table is not mapped by any PT_LOAD segment");
      return dynLoc;
    }
    dynLoc = { offset: so, count, strtab: dynstr };
    return dynLoc;
  };
  let dynTable: { raw: Uint8Array; strtab: Uint8Array; count: number } | null | undefined;
  const dynamicSymbolTable = async () => {
    if (dynTable !== undefined) return dynTable;
    const loc = await dynamicSymbolLocation();
    dynTable = loc && {
      raw: await src.read(loc.offset, loc.count * SYM_SIZE[cls]),
      strtab: loc.strtab,
      count: loc.count,
    };
    return dynTable;
  };
  let dynSyms: ElfSymbol[] | null = null;
  const dynamicSymbols = async (): Promise<ElfSymbol[]> => {
    if (dynSyms) return dynSyms;
    const t = await dynamicSymbolTable();
    dynSyms = t ? parseSymbols(t.raw, cls, little, t.strtab) : [];
    return dynSyms;
  };

  let staticSyms: ElfSymbol[] | null = null;
  const staticSymbols = async (): Promise<ElfSymbol[]> => {
    if (staticSyms) return staticSyms;
    staticSyms = [];
    const sec = sections.find((s) => s.type === SHT.SYMTAB);
    const strsec = sec ? sections[sec.link] : undefined;
    if (sec && strsec)
      staticSyms = parseSymbols(await sectionBytes(sec), cls, little, await sectionBytes(strsec));
    return staticSyms;
  };

  const layout: BinaryLayout = {
    format: "elf",
    littleEndian: little,
    ptrSize: cls === 64 ? 8 : 4,
    baseOffset: 0,
    segments: loads.map((p) => ({
      addr: p.vaddr,
      offset: p.offset,
      fileSize: p.filesz,
      memSize: p.memsz,
      readable: (p.flags & PF.R) !== 0,
      writable: (p.flags & PF.W) !== 0,
      executable: (p.flags & PF.X) !== 0,
    })),
    sections: sections.map((s) => ({
      name: s.name,
      addr: s.addr,
      offset: s.offset,
      fileSize: s.type === SHT.NOBITS ? 0 : s.size,
      memSize: s.size,
      flags: s.flags,
      writable: (s.flags & SHF.WRITE) !== 0,
      executable: (s.flags & SHF.EXECINSTR) !== 0,
    })),
  };

  return {
    source: src,
    header,
    little,
    programHeaders,
    sections,
    interpreter,
    dynamic,
    needed,
    soname,
    rpath,
    runpath,
    flags,
    flags1,
    versionNeeds,
    versionDefs,
    problems,
    layout,
    dynstr,
    dynamicSymbols,
    dynamicSymbolTable,
    dynamicSymbolLocation,
    staticSymbols,
    sectionBytes,
    section: (n: string) => sections.find((s) => s.name === n),
    vaddrToOffset,
  };
}
