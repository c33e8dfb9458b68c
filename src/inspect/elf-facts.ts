import { Bytes } from "../binary/bytes.js";
import { armVariantOfCpuArch, parseArmAttributes } from "../elf/arm-attributes.js";
import { DF, DF_1, DT, ET, PF, PT, SHF, SHT } from "../elf/constants.js";
import type { ElfFile } from "../elf/elf-file.js";
import { parseGnuProperties, x86IsaLevelNeeded } from "../elf/gnu-property.js";
import { NT_GNU_ABI_TAG, NT_GNU_PROPERTY_TYPE_0, parseAbiTag, parseNotes } from "../elf/notes.js";
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
 * static / static-pie / dynamic / shared-library, from the ELF alone (README "Linkage rules").
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
  // Note segments of a real file never overlap, so together they hold at most the file's bytes:
  // past that budget the rest repeat bytes already read (a crafted file's 65 535 PT_NOTEs over one
  // megabyte made this read 64 GiB).
  let budget = elf.source.size;
  for (const p of elf.programHeaders) {
    if (p.type !== PT.NOTE || p.filesz === 0 || p.filesz > 1 << 20 || p.offset + p.filesz > elf.source.size)
      continue;
    budget -= p.filesz;
    if (budget < 0) break;
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

/** SHT_ARM_ATTRIBUTES (SHT_LOPROC + 3), the section type of .ARM.attributes. */
const SHT_ARM_ATTRIBUTES = 0x70000003;

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

/** Distinct `.comment` strings reported: a real file has one per compiler and linker involved. */
const MAX_TOOLCHAIN_STRINGS = 64;
const utf8 = new TextDecoder();

export async function toolchain(elf: ElfFile): Promise<string[]> {
  const sec = elf.section(".comment");
  if (!sec || sec.type === SHT.NOBITS || sec.size > 1 << 20) return [];
  const b = await elf.sectionBytes(sec);
  // A Set (not a search of the list) and a cap: a crafted .comment of 100 000 distinct strings made
  // the deduplication quadratic and the report unreadable; real files carry a handful.
  const out = new Set<string>();
  let o = 0;
  while (o < b.byteLength && out.size < MAX_TOOLCHAIN_STRINGS) {
    const nul = b.indexOf(0, o);
    if (nul < 0) break; // an unterminated last string is not a string
    const t = utf8.decode(b.subarray(o, nul)).trim();
    if (t) out.add(t);
    o = nul + 1;
  }
  return [...out];
}

/** Tag_CPU_arch of an ARM file's `.ARM.attributes` (src/elf/arm-attributes.ts), or null. */
export async function armCpuArch(elf: ElfFile): Promise<number | null> {
  const sec = elf.sections.find((s) => s.type === SHT_ARM_ATTRIBUTES || s.name === ".ARM.attributes");
  if (!sec || sec.type === SHT.NOBITS || sec.size > 65536 || sec.size < 6) return null;
  return parseArmAttributes(await elf.sectionBytes(sec), elf.little)?.cpuArch ?? null;
}

/**
 * The x86-64 level (1..4) the GNU property note's GNU_PROPERTY_X86_ISA_1_NEEDED asks for, or null.
 * Read from PT_GNU_PROPERTY (what glibc's loader reads), else from the .note.gnu.property section.
 */
export async function x86IsaLevel(elf: ElfFile): Promise<number | null> {
  const is64 = elf.header.class === 64;
  const seg = elf.programHeaders.find((p) => p.type === PT.GNU_PROPERTY);
  let notes: Uint8Array | null = null;
  if (seg && seg.filesz > 0 && seg.filesz <= 4096 && seg.offset + seg.filesz <= elf.source.size)
    notes = await elf.source.read(seg.offset, seg.filesz);
  else {
    const sec = elf.section(".note.gnu.property");
    if (sec && sec.type === SHT.NOTE && sec.size <= 4096) notes = await elf.sectionBytes(sec);
  }
  if (!notes) return null;
  for (const n of parseNotes(notes, elf.little, is64 ? 8 : 4))
    if (n.name === "GNU" && n.type === NT_GNU_PROPERTY_TYPE_0)
      return x86IsaLevelNeeded(parseGnuProperties(n.desc, elf.little, is64), elf.little);
  return null;
}

/**
 * The platform variant: the CPU the binary needs, which `check` reports and `pack` writes into its
 * index. Where the Go build settings and the ELF's own attributes disagree (GOARM=6 with cgo code
 * compiled for ARMv7; GOAMD64=v1 with C code marked x86-64-v3) the stricter wins, because one
 * instruction of the newer kind is enough to fault on the older CPU.
 * - arm: max(GOARM, Tag_CPU_arch of .ARM.attributes), as v5..v8.
 * - arm64: v8. Neither the ELF (its GNU property bits, BTI and PAC, are hints older CPUs ignore)
 *   nor the OCI variants say more; GOARM64 (v8.x/v9.x) is left in the build settings.
 * - amd64: max(GOAMD64, GNU_PROPERTY_X86_ISA_1_NEEDED) as v2..v4; the baseline v1 is not written,
 *   as containerd treats amd64 without a variant as v1.
 */
export async function platformVariant(
  elf: ElfFile,
  arch: string | null,
  settings: Record<string, string>,
): Promise<string | null> {
  if (arch === "arm64") return "v8";
  if (arch === "arm") {
    const fromGo = /^(\d+)/.exec(settings["GOARM"] ?? "")?.[1];
    const cpu = await armCpuArch(elf);
    const fromElf = cpu === null ? null : armVariantOfCpuArch(cpu);
    const levels = [fromGo ? Number(fromGo) : 0, fromElf ? Number(fromElf.slice(1)) : 0];
    const v = Math.max(...levels);
    return v > 0 ? `v${v}` : null;
  }
  if (arch === "amd64") {
    const fromGo = /^v(\d)$/.exec(settings["GOAMD64"] ?? "")?.[1];
    const v = Math.max(fromGo ? Number(fromGo) : 1, (await x86IsaLevel(elf)) ?? 1);
    return v > 1 ? `v${v}` : null;
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
