import { Bytes } from "../binary/bytes.js";

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

/** Entry size per class (gABI "Program Header"). */
export const PHDR_SIZE = { 32: 32, 64: 56 } as const;

/**
 * Parses `count` program headers of `entsize` bytes from `table`. The caller has already checked that
 * the table is inside the file; entsize may exceed the standard size (extra bytes ignored).
 */
export function parseProgramHeaders(
  table: Uint8Array,
  cls: 32 | 64,
  little: boolean,
  count: number,
  entsize: number,
): ProgramHeader[] {
  const r = new Bytes(table, little);
  const out: ProgramHeader[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * entsize;
    if (cls === 64) {
      out.push({
        type: r.u32(o), // p_type
        flags: r.u32(o + 4), // p_flags
        offset: r.u64(o + 8), // p_offset
        vaddr: r.u64(o + 16), // p_vaddr
        paddr: r.u64(o + 24), // p_paddr
        filesz: r.u64(o + 32), // p_filesz
        memsz: r.u64(o + 40), // p_memsz
        align: r.u64(o + 48), // p_align
      });
    } else {
      out.push({
        type: r.u32(o), // p_type
        offset: r.u32(o + 4), // p_offset
        vaddr: r.u32(o + 8), // p_vaddr
        paddr: r.u32(o + 12), // p_paddr
        filesz: r.u32(o + 16), // p_filesz
        memsz: r.u32(o + 20), // p_memsz
        flags: r.u32(o + 24), // p_flags
        align: r.u32(o + 28), // p_align
      });
    }
  }
  return out;
}
