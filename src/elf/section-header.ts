import { Bytes } from "../binary/bytes.js";

export interface SectionHeader {
  /** Resolved from the section header string table; "" when unnamed or unresolvable. */
  name: string;
  nameOffset: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

/** Entry size per class (gABI "Section Header"). */
export const SHDR_SIZE = { 32: 40, 64: 64 } as const;

export function parseSectionHeaders(
  table: Uint8Array,
  cls: 32 | 64,
  little: boolean,
  count: number,
  entsize: number,
): SectionHeader[] {
  const r = new Bytes(table, little);
  const out: SectionHeader[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * entsize;
    if (cls === 64) {
      out.push({
        name: "",
        nameOffset: r.u32(o), // sh_name
        type: r.u32(o + 4), // sh_type
        flags: r.u64(o + 8), // sh_flags
        addr: r.u64(o + 16), // sh_addr
        offset: r.u64(o + 24), // sh_offset
        size: r.u64(o + 32), // sh_size
        link: r.u32(o + 40), // sh_link
        info: r.u32(o + 44), // sh_info
        addralign: r.u64(o + 48), // sh_addralign
        entsize: r.u64(o + 56), // sh_entsize
      });
    } else {
      out.push({
        name: "",
        nameOffset: r.u32(o), // sh_name
        type: r.u32(o + 4), // sh_type
        flags: r.u32(o + 8), // sh_flags
        addr: r.u32(o + 12), // sh_addr
        offset: r.u32(o + 16), // sh_offset
        size: r.u32(o + 20), // sh_size
        link: r.u32(o + 24), // sh_link
        info: r.u32(o + 28), // sh_info
        addralign: r.u32(o + 32), // sh_addralign
        entsize: r.u32(o + 36), // sh_entsize
      });
    }
  }
  return out;
}

export const SECTION_TYPE_NAMES: Record<number, string> = {
  0: "NULL",
  1: "PROGBITS",
  2: "SYMTAB",
  3: "STRTAB",
  4: "RELA",
  5: "HASH",
  6: "DYNAMIC",
  7: "NOTE",
  8: "NOBITS",
  9: "REL",
  11: "DYNSYM",
  14: "INIT_ARRAY",
  15: "FINI_ARRAY",
  16: "PREINIT_ARRAY",
  17: "GROUP",
  18: "SYMTAB_SHNDX",
  19: "RELR",
  1879048182: "GNU_HASH",
  1879048189: "VERDEF",
  1879048190: "VERNEED",
  1879048191: "VERSYM",
  1879048195: "ARM_ATTRIBUTES",
  1879048193: "ARM_EXIDX",
};
