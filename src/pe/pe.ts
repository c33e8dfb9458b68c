import type { BinaryLayout, LayoutSection } from "../binary/layout.js";
import { ParseError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";

/**
 * PE/COFF reader (Microsoft "PE Format" specification, sections "MS-DOS Stub", "Signature",
 * "COFF File Header", "Optional Header", "Section Table"). Reads headers only, through bounded
 * ByteSource reads; never the whole file.
 */

/** IMAGE_FILE_MACHINE_* values we name; everything else is reported as "unknown". */
export const PE_MACHINE = {
  I386: 0x14c,
  ARM: 0x1c0,
  ARMNT: 0x1c4,
  AMD64: 0x8664,
  ARM64: 0xaa64,
} as const;

/** Section Characteristics bits used by our readers (PE spec "Section Flags"). */
export const SCN = {
  CNT_CODE: 0x20,
  CNT_INITIALIZED_DATA: 0x40,
  CNT_UNINITIALIZED_DATA: 0x80,
  ALIGN_MASK: 0x00f00000,
  MEM_EXECUTE: 0x20000000,
  MEM_READ: 0x40000000,
  MEM_WRITE: 0x80000000,
} as const;

/** IMAGE_FILE_DLL in the COFF header Characteristics. */
const IMAGE_FILE_DLL = 0x2000;

const SUBSYSTEMS: Record<number, string> = {
  1: "native",
  2: "windows-gui",
  3: "windows-cui",
  5: "os2-cui",
  7: "posix-cui",
  9: "windows-ce-gui",
  10: "efi-application",
  11: "efi-boot-service-driver",
  12: "efi-runtime-driver",
  13: "efi-rom",
  14: "xbox",
  16: "windows-boot-application",
};

export interface PeWarning {
  code: string;
  message: string;
}

export interface PeInfo {
  layout: BinaryLayout;
  /** COFF Machine field. */
  machine: number;
  /** GOARCH naming: amd64, 386, arm64, arm; "unknown" otherwise. */
  arch: string;
  os: "windows";
  /** Optional header Subsystem (numeric) and its name ("windows-cui", ...). */
  subsystem: number;
  subsystemName: string;
  isDll: boolean;
  /** Optional header ImageBase. */
  imageBase: number;
  /** "PE32" (magic 0x10b) or "PE32+" (0x20b). */
  kind: "PE32" | "PE32+";
  /** Odd but survivable input (sections past EOF, ...). */
  warnings: PeWarning[];
}

/** "MZ" at offset 0. Cheap pre-check; readPeLayout does the real validation. */
export function isPe(head: Uint8Array): boolean {
  return head.byteLength >= 2 && head[0] === 0x4d && head[1] === 0x5a;
}

export function peArchName(machine: number): string {
  switch (machine) {
    case PE_MACHINE.AMD64:
      return "amd64";
    case PE_MACHINE.I386:
      return "386";
    case PE_MACHINE.ARM64:
      return "arm64";
    case PE_MACHINE.ARM:
    case PE_MACHINE.ARMNT:
      return "arm";
    default:
      return "unknown";
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function fail(src: ByteSource, code: string, what: string, offset?: number): never {
  throw new ParseError(code, `${src.name}: not a valid PE file: ${what}`, offset);
}

const COFF_HEADER_SIZE = 20;
const SECTION_HEADER_SIZE = 40;
const SYMBOL_SIZE = 18;

export async function readPeLayout(src: ByteSource): Promise<PeInfo> {
  if (src.size < 0x40) fail(src, "PE_TRUNCATED", "file shorter than the DOS header");
  const dos = await src.read(0, 0x40);
  if (!isPe(dos)) fail(src, "PE_BAD_MAGIC", "no MZ signature", 0);
  // e_lfanew (u32 at 0x3c): file offset of the "PE\0\0" signature.
  const peOff = view(dos).getUint32(0x3c, true);
  if (peOff + 4 + COFF_HEADER_SIZE > src.size) {
    fail(src, "PE_TRUNCATED", `e_lfanew 0x${peOff.toString(16)} points past the end of the file`, 0x3c);
  }
  const hdr = await src.read(peOff, 4 + COFF_HEADER_SIZE);
  if (hdr[0] !== 0x50 || hdr[1] !== 0x45 || hdr[2] !== 0 || hdr[3] !== 0) {
    fail(src, "PE_BAD_SIGNATURE", "missing PE\\0\\0 signature", peOff);
  }
  const coff = view(hdr);
  // COFF File Header, at peOff+4: Machine u16 @0, NumberOfSections u16 @2, TimeDateStamp u32 @4,
  // PointerToSymbolTable u32 @8, NumberOfSymbols u32 @12, SizeOfOptionalHeader u16 @16,
  // Characteristics u16 @18.
  const machine = coff.getUint16(4, true);
  const nsect = coff.getUint16(6, true);
  const symtabOff = coff.getUint32(12, true);
  const nsyms = coff.getUint32(16, true);
  const optSize = coff.getUint16(20, true);
  const characteristics = coff.getUint16(22, true);
  const optOff = peOff + 4 + COFF_HEADER_SIZE;

  if (optSize < 2 || optOff + optSize > src.size) {
    fail(src, "PE_BAD_OPTIONAL_HEADER", `optional header of ${optSize} bytes does not fit`, optOff);
  }
  // Only the standard fields and the Windows-specific fields we use: up to Subsystem (offset 68).
  const opt = await src.read(optOff, Math.min(optSize, 0x60));
  const ov = view(opt);
  const magic = ov.getUint16(0, true);
  let kind: "PE32" | "PE32+";
  let imageBase: number;
  if (magic === 0x10b) {
    kind = "PE32";
    if (opt.byteLength < 70) fail(src, "PE_BAD_OPTIONAL_HEADER", "PE32 optional header too short", optOff);
    imageBase = ov.getUint32(28, true); // ImageBase u32 @28 (PE32 has BaseOfData @24)
  } else if (magic === 0x20b) {
    kind = "PE32+";
    if (opt.byteLength < 70) fail(src, "PE_BAD_OPTIONAL_HEADER", "PE32+ optional header too short", optOff);
    imageBase = Number(ov.getBigUint64(24, true)); // ImageBase u64 @24
  } else {
    fail(src, "PE_BAD_OPTIONAL_HEADER", `unknown optional header magic 0x${magic.toString(16)}`, optOff);
  }
  const subsystem = ov.getUint16(68, true); // Subsystem u16 @68, same place in PE32 and PE32+

  const shOff = optOff + optSize;
  if (shOff + nsect * SECTION_HEADER_SIZE > src.size) {
    fail(src, "PE_TRUNCATED", `section table of ${nsect} entries does not fit in the file`, shOff);
  }
  const table = nsect > 0 ? await src.read(shOff, nsect * SECTION_HEADER_SIZE) : new Uint8Array(0);
  const tv = view(table);
  const warnings: PeWarning[] = [];
  const strtab = new LongNames(src, symtabOff === 0 ? 0 : symtabOff + nsyms * SYMBOL_SIZE);

  const sections: LayoutSection[] = [];
  for (let i = 0; i < nsect; i++) {
    const o = i * SECTION_HEADER_SIZE;
    // Name[8] @0, VirtualSize @8, VirtualAddress @12, SizeOfRawData @16, PointerToRawData @20,
    // PointerToRelocations @24, PointerToLinenumbers @28, NumberOf* u16 @32/@34, Characteristics @36.
    let name = shortName(table.subarray(o, o + 8));
    if (name.startsWith("/")) {
      // Executables written by Go (and mingw) keep long names such as .debug_info in the COFF string
      // table: "/<decimal offset>".
      const long = await strtab.get(name.slice(1));
      if (long !== null) name = long;
    }
    const virtualSize = tv.getUint32(o + 8, true);
    const virtualAddress = tv.getUint32(o + 12, true);
    const rawSize = tv.getUint32(o + 16, true);
    const rawPtr = tv.getUint32(o + 20, true);
    const flags = tv.getUint32(o + 36, true);
    // Bytes beyond VirtualSize are file-alignment padding and never loaded; VirtualSize 0 means
    // "use SizeOfRawData" (object files).
    let fileSize = rawPtr === 0 ? 0 : virtualSize === 0 ? rawSize : Math.min(rawSize, virtualSize);
    if (fileSize > 0 && rawPtr + fileSize > src.size) {
      warnings.push({
        code: "PE_SECTION_PAST_EOF",
        message: `section ${name} (${fileSize} bytes at 0x${rawPtr.toString(16)}) extends past the end of the file`,
      });
      fileSize = Math.max(0, src.size - rawPtr);
    }
    sections.push({
      name,
      addr: imageBase + virtualAddress,
      offset: rawPtr,
      fileSize,
      memSize: virtualSize,
      flags,
      writable: (flags & SCN.MEM_WRITE) !== 0,
      executable: (flags & SCN.MEM_EXECUTE) !== 0 || (flags & SCN.CNT_CODE) !== 0,
    });
  }

  return {
    layout: {
      format: "pe",
      littleEndian: true,
      ptrSize: kind === "PE32+" ? 8 : 4,
      sections,
      // PE has no program headers: the loader maps sections, and addrToOffset falls back on them.
      segments: [],
      baseOffset: 0,
    },
    machine,
    arch: peArchName(machine),
    os: "windows",
    subsystem,
    subsystemName: SUBSYSTEMS[subsystem] ?? `unknown(${subsystem})`,
    isDll: (characteristics & IMAGE_FILE_DLL) !== 0,
    imageBase,
    kind,
    warnings,
  };
}

function shortName(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.byteLength;
  return latin1(b.subarray(0, end));
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/**
 * The COFF string table follows the symbol table: u32 total size (including itself), then
 * NUL-terminated names. Names longer than 8 bytes are referenced as "/offset".
 */
class LongNames {
  constructor(
    private readonly src: ByteSource,
    private readonly offset: number,
  ) {}

  async get(decimal: string): Promise<string | null> {
    if (this.offset === 0 || !/^[0-9]{1,7}$/.test(decimal)) return null;
    const at = this.offset + Number(decimal);
    if (at >= this.src.size) return null;
    // Section names are short; 256 bytes is plenty and keeps the read bounded.
    const b = await this.src.read(at, Math.min(256, this.src.size - at));
    const end = b.indexOf(0);
    return end < 0 ? null : latin1(b.subarray(0, end));
  }
}
