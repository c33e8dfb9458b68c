import { Bytes, cString } from "../binary/bytes.js";
import { DF, DF_1, DT, ET, PF, PT, SHF, SHT } from "../elf/constants.js";
import type { ElfFile } from "../elf/elf-file.js";
import { NT_GNU_ABI_TAG, parseAbiTag, parseNotes } from "../elf/notes.js";
import { SECTION_TYPE_NAMES } from "../elf/section-header.js";
import {
  type ElfSymbol,
  parseSymbols,
  SYM_SIZE,
  stringEndsWith,
  stringsContaining,
  stringTableHas,
} from "../elf/symbols.js";
import { compareDotted, minimumGlibc } from "../elf/versions.js";
import type { DebugInfo, Hardening, Libc, Linkage, SectionSize } from "./types.js";

export function hasDt(elf: ElfFile, tag: number): boolean {
  return elf.dynamic?.some((d) => d.tag === tag) ?? false;
}

/**
 * static / static-pie / dynamic / shared-library, from the ELF alone (REFERENCE.md "ELF: linkage").
 * Build settings such as CGO_ENABLED never decide it: a cgo-enabled program may still be static.
 */
export function classifyLinkage(elf: ElfFile): Linkage {
  const { type } = elf.header;
  if (type === ET.REL) return "relocatable";
  if (type === ET.CORE) return "core";
  const pieFlag = (elf.flags1 & DF_1.PIE) !== 0;
  if (elf.interpreter !== null) {
    // An ET_DYN with an interpreter but without DF_1_PIE is either a PIE from a linker older than
    // DF_1_PIE (binutils < 2.26) or a shared object that can also be run (libc.so.6, libcap.so.2,
    // pam_cap.so). Linkers add DT_DEBUG to every executable they write, PIEs included (ld.bfd for
    // bfd_link_executable, gold, lld, mold, Go's linker), and never to a shared object: without
    // DT_DEBUG, or with a SONAME, it is a library. pam_cap.so has neither SONAME nor DT_DEBUG.
    if (type === ET.DYN && !pieFlag && (elf.soname !== null || !hasDt(elf, DT.DEBUG)))
      return "shared-library";
    return "dynamic";
  }
  if (type === ET.EXEC) return "static";
  if (pieFlag) return "static-pie";
  // Static PIEs from linkers that predate DF_1_PIE: DT_DEBUG only appears in executables.
  if (elf.soname === null && hasDt(elf, DT.DEBUG) && elf.header.entry !== 0) return "static-pie";
  return "shared-library";
}

/** Evidence for the C library, strongest first. Go-only binaries (no libc at all) get "none". */
export async function detectLibc(elf: ElfFile, linkage: Linkage, isGo: boolean): Promise<Libc> {
  const interp = elf.interpreter ?? "";
  if (/\/ld-musl-[^/]*\.so\.1$/.test(interp)) return "musl";
  const needsGlibcVersions = elf.versionNeeds.some((n) =>
    n.versions.some((v) => v.name.startsWith("GLIBC_")),
  );
  if (needsGlibcVersions || elf.needed.includes("libc.so.6")) return "glibc";
  if (elf.needed.some((n) => /^libc\.musl-.*\.so\.1$/.test(n) || n === "libc.so")) return "musl";
  if (elf.soname !== null && /^(libc\.so\.6|ld-linux.*\.so\.\d|ld64\.so\.\d)$/.test(elf.soname))
    return "glibc";
  if (elf.versionDefs.some((d) => d.names.some((n) => n.startsWith("GLIBC_")))) return "glibc";
  if (/\/(ld-linux[^/]*\.so\.\d|ld64\.so\.\d|ld\.so\.1)$/.test(interp)) return "glibc";
  if (linkage === "static" || linkage === "static-pie") {
    // Static glibc always carries crt1's NT_GNU_ABI_TAG note; musl's crt1 does not.
    if (await hasAbiTag(elf)) return "glibc";
    const syms = await elf.staticSymbols();
    const names = new Set(syms.map((s) => s.name));
    if (names.has("__libc_setup_tls") || names.has("_dl_relocate_static_pie")) return "glibc";
    if (names.has("__init_libc") || names.has("__libc_start_init")) return "musl";
    if (isGo) return "none";
    // Stripped, no ABI tag: musl's strerror table ("No error information" for errno 0; glibc says
    // "Success") is linked in by printf and friends, so most musl programs carry it.
    if (await rodataHas(elf, "No error information\0")) return "musl";
    return "unknown";
  }
  if (linkage === "shared-library" && elf.needed.length === 0) return "none";
  return "unknown";
}

async function rodataHas(elf: ElfFile, text: string): Promise<boolean> {
  const sec = elf.section(".rodata");
  if (!sec || sec.type === SHT.NOBITS || sec.size > 64 << 20) return false;
  const b = await elf.sectionBytes(sec);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(text, 0, "latin1") >= 0;
}

async function hasAbiTag(elf: ElfFile): Promise<boolean> {
  return (await abiTag(elf)) !== null;
}

export async function abiTag(elf: ElfFile): Promise<{ os: string; kernel: string } | null> {
  for (const p of elf.programHeaders) {
    if (p.type !== PT.NOTE || p.filesz === 0 || p.filesz > 1 << 20 || p.offset + p.filesz > elf.source.size)
      continue;
    const notes = parseNotes(await elf.source.read(p.offset, p.filesz), elf.little, p.align === 8 ? 8 : 4);
    for (const n of notes)
      if (n.name === "GNU" && n.type === NT_GNU_ABI_TAG) return parseAbiTag(n.desc, elf.little);
  }
  const sec = elf.section(".note.ABI-tag");
  if (sec && sec.type === SHT.NOTE && sec.size <= 4096) {
    for (const n of parseNotes(await elf.sectionBytes(sec), elf.little)) {
      if (n.name === "GNU" && n.type === NT_GNU_ABI_TAG) return parseAbiTag(n.desc, elf.little);
    }
  }
  return null;
}

export function glibcFloor(elf: ElfFile): string | null {
  return minimumGlibc(elf.versionNeeds);
}

/**
 * The imported symbols bound to the highest GLIBC version: DT_VERSYM gives each dynamic symbol a
 * version index, and the matching vernaux carries the same index in vna_other.
 */
export async function glibcFloorSymbols(elf: ElfFile, floor: string | null): Promise<string[]> {
  if (floor === null) return [];
  const idx = new Set<number>();
  for (const n of elf.versionNeeds)
    for (const v of n.versions) if (v.name === `GLIBC_${floor}`) idx.add(v.index);
  const versymAddr = elf.dynamic?.find((d) => d.tag === DT.VERSYM)?.val;
  if (versymAddr === undefined || idx.size === 0) return [];
  const loc = await elf.dynamicSymbolLocation();
  if (!loc || loc.count === 0) return [];
  const off = elf.vaddrToOffset(versymAddr, loc.count * 2);
  if (off === null) return [];
  const vs = new Bytes(await elf.source.read(off, loc.count * 2), elf.little);
  const wanted: number[] = [];
  for (let i = 1; i < loc.count; i++) if (idx.has(vs.u16(i * 2) & 0x7fff)) wanted.push(i);
  // Usually a handful of symbols: read their entries alone rather than the whole table.
  const cls = elf.header.class;
  const size = SYM_SIZE[cls];
  let syms: ElfSymbol[];
  if (wanted.length <= 64) {
    syms = [];
    for (const i of wanted)
      syms.push(
        ...parseSymbols(await elf.source.read(loc.offset + i * size, size), cls, elf.little, loc.strtab),
      );
  } else {
    const t = (await elf.dynamicSymbolTable())!;
    const keep = new Set(wanted);
    syms = parseSymbols(t.raw, cls, elf.little, t.strtab, (i) => keep.has(i));
  }
  return syms
    .filter((s) => s.shndx === 0 && s.name !== "")
    .map((s) => s.name)
    .sort();
}

const CANARY_SYMBOLS = ["__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie"];

/**
 * Our hardening rules (README "Hardening rules"). RELRO, NX, PIE and bind-now come from headers and
 * are certain. Canary and FORTIFY come from dynamic symbols, and are null where symbols cannot decide:
 * static binaries carry libc's own __stack_chk_fail whether or not the program was compiled with
 * -fstack-protector (checksec reports "Canary found" there), and Go code uses neither.
 */
export async function computeHardening(
  elf: ElfFile,
  linkage: Linkage,
  libc: Libc,
  isGo: boolean,
): Promise<Hardening> {
  const relroSeg = elf.programHeaders.some((p) => p.type === PT.GNU_RELRO);
  const bindNow = hasDt(elf, DT.BIND_NOW) || (elf.flags & DF.BIND_NOW) !== 0 || (elf.flags1 & DF_1.NOW) !== 0;
  const stack = elf.programHeaders.find((p) => p.type === PT.GNU_STACK);
  let pie: boolean | null;
  if (elf.header.type === ET.EXEC) pie = false;
  else if (linkage === "dynamic" || linkage === "static-pie") pie = true;
  else pie = null;

  let canary: boolean | null = null;
  let fortify: boolean | null = null;
  if (linkage === "dynamic" || linkage === "shared-library") {
    // The dynamic string table holds exactly the names of dynamic symbols (plus sonames and version
    // names, which never look like these): a byte search answers without decoding the symbol table.
    // One pass finds both "__stack_chk_fail"/"__stack_chk_guard" and the "__*_chk" names.
    const withChk = stringsContaining(elf.dynstr, "_chk");
    const hasCanary =
      withChk.some((n) => CANARY_SYMBOLS.includes(n)) ||
      stringTableHas(elf.dynstr, "__intel_security_cookie");
    const chkNames = new Set(withChk.filter((n) => /^__\w+_chk$/.test(n)));
    let hasChk = chkNames.size > 0;
    if (hasChk && linkage === "shared-library") {
      // A library may define the checking functions (libc itself, sanitizers): only imports count.
      const t = await elf.dynamicSymbolTable();
      hasChk =
        t !== null &&
        parseSymbols(
          t.raw,
          elf.header.class,
          elf.little,
          t.strtab,
          (_i, shndx, nameOff) => shndx === 0 && stringEndsWith(t.strtab, nameOff, "_chk"),
        ).some((s) => chkNames.has(s.name));
    }
    canary = hasCanary ? true : isGo ? null : false;
    // musl implements FORTIFY in headers (no __*_chk imports), so absence proves nothing there.
    fortify = hasChk ? true : isGo || libc === "musl" ? null : false;
  }
  return {
    pie,
    relro: relroSeg ? (bindNow ? "full" : "partial") : "none",
    nx: stack !== undefined && (stack.flags & PF.X) === 0,
    bindNow,
    canary,
    fortify,
  };
}

const isDebugName = (n: string) => n.startsWith(".debug_") || n.startsWith(".zdebug_");

/** Debug info: bytes in the file and once decompressed (SHF_COMPRESSED Elf_Chdr, or GNU .zdebug "ZLIB"). */
export async function debugInfo(elf: ElfFile): Promise<DebugInfo> {
  let fileBytes = 0;
  let uncompressed = 0;
  let compressed = false;
  let present = false;
  for (const s of elf.sections) {
    if (!isDebugName(s.name) || s.type === SHT.NOBITS) continue;
    if (s.name === ".debug_info" || s.name === ".zdebug_info") present = present || s.size > 0;
    fileBytes += s.size;
    let full = s.size;
    if ((s.flags & SHF.COMPRESSED) !== 0 && s.offset + 24 <= elf.source.size) {
      compressed = true;
      const b = new Bytes(await elf.source.read(s.offset, elf.header.class === 64 ? 24 : 12), elf.little);
      full = elf.header.class === 64 ? b.u64(8) : b.u32(4); // ch_size
    } else if (s.name.startsWith(".zdebug_") && s.size >= 12 && s.offset + 12 <= elf.source.size) {
      const h = await elf.source.read(s.offset, 12);
      if (h[0] === 0x5a && h[1] === 0x4c && h[2] === 0x49 && h[3] === 0x42) {
        compressed = true;
        full = new Bytes(h, false).u64(4); // big-endian size after "ZLIB"
      }
    }
    uncompressed += full;
  }
  return { present, fileBytes, uncompressedBytes: uncompressed, compressed };
}

export function sectionTable(elf: ElfFile): SectionSize[] {
  return elf.sections
    .filter((s, i) => i > 0 || s.type !== SHT.NULL)
    .map((s) => ({
      name: s.name,
      type: SECTION_TYPE_NAMES[s.type] ?? `0x${s.type.toString(16)}`,
      fileBytes: s.type === SHT.NOBITS ? 0 : s.size,
      memBytes: (s.flags & SHF.ALLOC) !== 0 ? s.size : 0,
    }));
}

/**
 * What `strip` removes: .symtab, its string table and non-ALLOC debug sections, with their section
 * header entries and the bytes of .shstrtab that only their names use (checked against binutils
 * strip in test/inspect/strip.test.ts; what is left is alignment padding and strip's relayout).
 */
export function stripSavings(elf: ElfFile): number {
  let total = 0;
  const removed = new Set<number>();
  elf.sections.forEach((s, i) => {
    if (s.type === SHT.SYMTAB) {
      removed.add(i);
      if (s.link > 0 && s.link < elf.sections.length && elf.sections[s.link]!.name !== ".dynstr")
        removed.add(s.link);
    } else if (isDebugName(s.name) && (s.flags & SHF.ALLOC) === 0) removed.add(i);
  });
  for (const i of removed) {
    const s = elf.sections[i]!;
    if (s.type !== SHT.NOBITS) total += s.size;
  }
  if (removed.size === 0) return 0;
  total += removed.size * elf.header.shentsize;
  // Linkers share name tails in .shstrtab (".strtab" inside ".shstrtab"): only bytes that no kept
  // section's name covers are freed. Names are byte ranges [nameOffset, nameOffset + length + 1).
  const kept: [number, number][] = [];
  const gone: [number, number][] = [];
  elf.sections.forEach((s, i) => {
    const range: [number, number] = [s.nameOffset, s.nameOffset + Buffer.byteLength(s.name) + 1];
    (removed.has(i) ? gone : kept).push(range);
  });
  return total + uncoveredBytes(union(gone), union(kept));
}

/** Sorted, disjoint union of byte ranges. */
function union(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of ranges) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Bytes of the disjoint ranges `a` that no range of the disjoint ranges `b` covers. */
function uncoveredBytes(a: [number, number][], b: [number, number][]): number {
  let n = 0;
  let j = 0;
  for (const [s, e] of a) {
    let pos = s;
    while (j < b.length && b[j]![1] <= pos) j++;
    for (let k = j; k < b.length && b[k]![0] < e; k++) {
      if (b[k]![0] > pos) n += b[k]![0] - pos;
      pos = Math.max(pos, b[k]![1]);
      if (pos >= e) break;
    }
    if (pos < e) n += e - pos;
  }
  return n;
}

export async function toolchain(elf: ElfFile): Promise<string[]> {
  const sec = elf.section(".comment");
  if (!sec || sec.type === SHT.NOBITS || sec.size > 1 << 20) return [];
  const b = await elf.sectionBytes(sec);
  const out: string[] = [];
  let o = 0;
  while (o < b.byteLength) {
    const s = cString(b, o, 1 << 20);
    if (s === null) break;
    const t = s.trim();
    if (t && !out.includes(t)) out.push(t);
    o += Buffer.byteLength(s) + 1;
  }
  return out;
}

/**
 * ARM architecture version from `.ARM.attributes` (Tag_CPU_arch, ARM IHI 0045 "Addenda to the ABI").
 * Format: 'A', then sub-sections {u32 length, vendor NUL, {u8 tag, u32 size, attributes}}.
 */
export async function armVariant(elf: ElfFile): Promise<string | null> {
  const sec = elf.sections.find((s) => s.type === 0x70000003 || s.name === ".ARM.attributes");
  if (!sec || sec.size > 65536 || sec.size < 6) return null;
  const b = await elf.sectionBytes(sec);
  if (b[0] !== 0x41) return null; // 'A'
  const r = new Bytes(b, elf.little);
  let o = 1;
  while (o + 4 <= b.byteLength) {
    const len = r.u32(o);
    if (len < 5 || o + len > b.byteLength) return null;
    const end = o + len;
    const vendorEnd = b.indexOf(0, o + 4);
    if (vendorEnd < 0 || vendorEnd >= end) return null;
    const vendor = new TextDecoder().decode(b.subarray(o + 4, vendorEnd));
    let p = vendorEnd + 1;
    if (vendor === "aeabi") {
      while (p + 5 <= end) {
        const tag = b[p]!;
        const size = r.u32(p + 1);
        if (size < 5 || p + size > end) return null;
        if (tag === 1) return cpuArchFromAttributes(b.subarray(p + 5, p + size));
        p += size;
      }
    }
    o = end;
  }
  return null;
}

function uleb(b: Uint8Array, o: number): [number, number] {
  let v = 0;
  let shift = 0;
  while (o < b.byteLength && shift < 35) {
    const c = b[o++]!;
    v += (c & 0x7f) * 2 ** shift;
    if ((c & 0x80) === 0) return [v, o];
    shift += 7;
  }
  return [v, b.byteLength];
}

function cpuArchFromAttributes(b: Uint8Array): string | null {
  let o = 0;
  while (o < b.byteLength) {
    let tag: number;
    [tag, o] = uleb(b, o);
    // NTBS-valued tags: 4, 5, 65, 67, and 32 (uleb then NTBS); otherwise odd tags above 32 are strings.
    if (tag === 4 || tag === 5 || tag === 65 || tag === 67 || (tag > 32 && tag % 2 === 1)) {
      const nul = b.indexOf(0, o);
      if (nul < 0) return null;
      o = nul + 1;
      continue;
    }
    if (tag === 32) {
      [, o] = uleb(b, o);
      const nul = b.indexOf(0, o);
      if (nul < 0) return null;
      o = nul + 1;
      continue;
    }
    let val: number;
    [val, o] = uleb(b, o);
    if (tag === 6) {
      // Tag_CPU_arch: 1..4 v4..v5TE, 5 v5TEJ, 6..9 v6 family, 10 v7, 11..12 v6-M, 13 v7E-M, 14 v8
      if (val <= 5) return "v5";
      if (val <= 9 || val === 11 || val === 12) return "v6";
      if (val === 10 || val === 13) return "v7";
      return "v8";
    }
  }
  return null;
}

/** Well-known base images and their glibc, for the "built against a newer glibc" warning. */
export const COMMON_GLIBC_BASES: { name: string; glibc: string }[] = [
  { name: "Amazon Linux 2", glibc: "2.26" },
  { name: "RHEL/UBI 8", glibc: "2.28" },
  { name: "Debian 11", glibc: "2.31" },
  { name: "Ubuntu 20.04", glibc: "2.31" },
  { name: "RHEL/UBI 9", glibc: "2.34" },
  { name: "Ubuntu 22.04", glibc: "2.35" },
  { name: "Debian 12", glibc: "2.36" },
];

export function basesTooOld(glibcMin: string): string[] {
  return COMMON_GLIBC_BASES.filter((b) => compareDotted(b.glibc, glibcMin) < 0).map(
    (b) => `${b.name} (${b.glibc})`,
  );
}
