/** ELF constants used across the reader (System V gABI, LSB, glibc elf.h). */

export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
export const PT = {
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
} as const;
export const PF = { X: 1, W: 2, R: 4 } as const;
export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  GNU_HASH: 0x6ffffff6,
  GNU_VERDEF: 0x6ffffffd,
  GNU_VERNEED: 0x6ffffffe,
  GNU_VERSYM: 0x6fffffff,
} as const;
export const SHF = { WRITE: 1, ALLOC: 2, EXECINSTR: 4, COMPRESSED: 0x800 } as const;
export const DT = {
  NULL: 0,
  NEEDED: 1,
  HASH: 4,
  STRTAB: 5,
  SYMTAB: 6,
  STRSZ: 10,
  SYMENT: 11,
  SONAME: 14,
  RPATH: 15,
  DEBUG: 21,
  TEXTREL: 22,
  BIND_NOW: 24,
  RUNPATH: 29,
  FLAGS: 30,
  GNU_HASH: 0x6ffffef5,
  VERSYM: 0x6ffffff0,
  FLAGS_1: 0x6ffffffb,
  VERDEF: 0x6ffffffc,
  VERDEFNUM: 0x6ffffffd,
  VERNEED: 0x6ffffffe,
  VERNEEDNUM: 0x6fffffff,
} as const;
export const DF = { ORIGIN: 0x1, SYMBOLIC: 0x2, TEXTREL: 0x4, BIND_NOW: 0x8, STATIC_TLS: 0x10 } as const;
export const DF_1 = { NOW: 0x1, ORIGIN: 0x80, PIE: 0x08000000 } as const;

export const EM = {
  SPARC: 2,
  I386: 3,
  M68K: 4,
  MIPS: 8,
  PPC: 20,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  SPARCV9: 43,
  IA_64: 50,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
  BPF: 247,
  LOONGARCH: 258,
} as const;

/** OS/ABI byte (e_ident[EI_OSABI]). */
export const OSABI_NAMES: Record<number, string> = {
  0: "sysv",
  1: "hpux",
  2: "netbsd",
  3: "linux",
  6: "solaris",
  9: "freebsd",
  12: "openbsd",
  97: "arm",
  255: "standalone",
};

/**
 * Architecture in GOARCH / OCI platform naming. Class and endianness pick among the variants of one
 * e_machine (EM_MIPS covers mips, mipsle, mips64, mips64le).
 */
export function archName(machine: number, is64: boolean, little: boolean): string {
  switch (machine) {
    case EM.X86_64:
      return is64 ? "amd64" : "amd64p32";
    case EM.I386:
      return "386";
    case EM.AARCH64:
      return little ? "arm64" : "arm64be";
    case EM.ARM:
      return little ? "arm" : "armbe";
    case EM.MIPS:
      return (is64 ? "mips64" : "mips") + (little ? "le" : "");
    case EM.PPC64:
      return little ? "ppc64le" : "ppc64";
    case EM.PPC:
      return "ppc";
    case EM.S390:
      return is64 ? "s390x" : "s390";
    case EM.RISCV:
      return is64 ? "riscv64" : "riscv";
    case EM.LOONGARCH:
      return is64 ? "loong64" : "loong32";
    case EM.SPARCV9:
      return "sparc64";
    case EM.SPARC:
      return "sparc";
    case EM.IA_64:
      return "ia64";
    case EM.M68K:
      return "m68k";
    case EM.BPF:
      return "bpf";
    default:
      return `unknown(${machine})`;
  }
}
