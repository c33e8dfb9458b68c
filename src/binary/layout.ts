/**
 * A format-neutral view of an executable's layout, produced by the ELF, PE and Mach-O readers and
 * consumed by format-independent readers (Go build info, pclntab). Addresses and offsets are plain
 * numbers: real files never exceed 2^53, and a hostile value that does fails the bounds checks.
 */
export interface LayoutSection {
  /** Section name (ELF `.go.buildinfo`, Mach-O `__go_buildinfo`, PE `.data`). */
  name: string;
  /** Mach-O segment name (`__DATA`), undefined elsewhere. */
  segment?: string;
  /** Virtual address when loaded (PE: image base + RVA). */
  addr: number;
  /** Offset in the file; meaningless when fileSize is 0. */
  offset: number;
  /** Bytes present in the file (0 for NOBITS/zerofill). */
  fileSize: number;
  /** Bytes in memory. */
  memSize: number;
  /** Raw format-specific flags (ELF sh_flags, PE Characteristics, Mach-O flags). */
  flags: number;
  /** Loaded, writable, executable, as far as the format can tell. */
  writable: boolean;
  executable: boolean;
}

export interface LayoutSegment {
  addr: number;
  offset: number;
  fileSize: number;
  memSize: number;
  readable: boolean;
  writable: boolean;
  executable: boolean;
}

export interface BinaryLayout {
  format: "elf" | "pe" | "macho";
  littleEndian: boolean;
  /** 4 or 8 */
  ptrSize: 4 | 8;
  sections: LayoutSection[];
  segments: LayoutSegment[];
  /** Offset of this image inside the file (non-zero for a slice of a fat Mach-O). */
  baseOffset: number;
}

/**
 * File offset (absolute, including baseOffset) of `length` bytes at virtual address `addr`, or null
 * when no segment maps the whole range from file bytes.
 */
export function addrToOffset(layout: BinaryLayout, addr: number, length: number): number | null {
  for (const seg of layout.segments) {
    if (addr >= seg.addr && addr + length <= seg.addr + seg.fileSize) {
      return layout.baseOffset + seg.offset + (addr - seg.addr);
    }
  }
  // Fall back on sections: PE has no segments, and some ELF files have sections outside PT_LOAD.
  for (const sec of layout.sections) {
    if (sec.fileSize > 0 && addr >= sec.addr && addr + length <= sec.addr + sec.fileSize) {
      return layout.baseOffset + sec.offset + (addr - sec.addr);
    }
  }
  return null;
}
