import { Bytes } from "../binary/bytes.js";
import { ParseError } from "../errors.js";

/** The first bytes of every ELF file. */
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;

export function isElf(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

export interface ElfHeader {
  class: 32 | 64;
  endian: "little" | "big";
  osabi: number;
  abiVersion: number;
  type: number;
  machine: number;
  version: number;
  entry: number;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  /** Raw e_phnum (0xffff means the real count is in section 0's sh_info). */
  phnum: number;
  shentsize: number;
  /** Raw e_shnum (0 with shoff != 0 means the real count is in section 0's sh_size). */
  shnum: number;
  shstrndx: number;
}

/** Size of the ELF header for each class. */
export const EHDR_SIZE = { 32: 52, 64: 64 } as const;

/**
 * Parses the ELF file header (gABI "ELF Header"). `b` must hold at least the header; offsets for
 * both classes are commented beside each field.
 */
export function parseElfHeader(b: Uint8Array, name: string): ElfHeader {
  if (!isElf(b)) throw new ParseError("NOT_ELF", `${name}: not an ELF file`, 0);
  if (b.byteLength < 16) throw new ParseError("TRUNCATED", `${name}: truncated ELF identification`, 0);
  const cls = b[4]; // EI_CLASS
  const data = b[5]; // EI_DATA
  if (cls !== 1 && cls !== 2) throw new ParseError("BAD_ELF_CLASS", `${name}: invalid ELF class ${cls}`, 4);
  if (data !== 1 && data !== 2)
    throw new ParseError("BAD_ELF_DATA", `${name}: invalid ELF data encoding ${data}`, 5);
  const is64 = cls === 2;
  const size = EHDR_SIZE[is64 ? 64 : 32];
  if (b.byteLength < size) {
    throw new ParseError("TRUNCATED", `${name}: truncated ELF header (${b.byteLength} of ${size} bytes)`, 0);
  }
  const r = new Bytes(b, data === 1);
  if (is64) {
    return {
      class: 64,
      endian: data === 1 ? "little" : "big",
      osabi: b[7]!, // EI_OSABI
      abiVersion: b[8]!, // EI_ABIVERSION
      type: r.u16(16), // e_type
      machine: r.u16(18), // e_machine
      version: r.u32(20), // e_version
      entry: r.u64(24), // e_entry
      phoff: r.u64(32), // e_phoff
      shoff: r.u64(40), // e_shoff
      flags: r.u32(48), // e_flags
      ehsize: r.u16(52), // e_ehsize
      phentsize: r.u16(54), // e_phentsize
      phnum: r.u16(56), // e_phnum
      shentsize: r.u16(58), // e_shentsize
      shnum: r.u16(60), // e_shnum
      shstrndx: r.u16(62), // e_shstrndx
    };
  }
  return {
    class: 32,
    endian: data === 1 ? "little" : "big",
    osabi: b[7]!,
    abiVersion: b[8]!,
    type: r.u16(16), // e_type
    machine: r.u16(18), // e_machine
    version: r.u32(20), // e_version
    entry: r.u32(24), // e_entry
    phoff: r.u32(28), // e_phoff
    shoff: r.u32(32), // e_shoff
    flags: r.u32(36), // e_flags
    ehsize: r.u16(40), // e_ehsize
    phentsize: r.u16(42), // e_phentsize
    phnum: r.u16(44), // e_phnum
    shentsize: r.u16(46), // e_shentsize
    shnum: r.u16(48), // e_shnum
    shstrndx: r.u16(50), // e_shstrndx
  };
}

export function elfTypeName(type: number): "NONE" | "REL" | "EXEC" | "DYN" | "CORE" | `UNKNOWN(${number})` {
  switch (type) {
    case 0:
      return "NONE";
    case 1:
      return "REL";
    case 2:
      return "EXEC";
    case 3:
      return "DYN";
    case 4:
      return "CORE";
    default:
      return `UNKNOWN(${type})`;
  }
}
