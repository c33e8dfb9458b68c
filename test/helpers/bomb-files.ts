/**
 * Crafted "bomb" binaries for the time and memory bounds (issue #12): small files whose metadata makes
 * a naive parser revisit the same bytes over and over (thousands of section headers covering one
 * range, PT_NOTE segments repeating one megabyte, symbol tables pointing at a string table with no
 * NUL, a PE whose sections all map the same data). Each builder returns the bytes; the tests and
 * `node dist/test/helpers/bomb-files.js DIR` (which writes every bomb to DIR) use the same code.
 * Layouts follow the gABI (ELF64 little-endian, x86-64) and the PE/COFF specification.
 */

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_R = 4;
const PF_W = 2;

interface Shdr {
  name: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link?: number;
  entsize?: number;
}
interface Phdr {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align?: number;
}

/**
 * ELF64 LE x86-64 ET_EXEC of `size` bytes: header at 0, program headers right after it, section
 * headers at `shoff`; `fill` writes the payload before the tables are laid over it.
 */
function elf64(opts: {
  size: number;
  phdrs: Phdr[];
  shdrs: Shdr[];
  shoff: number;
  shstrndx: number;
  fill?: (b: Uint8Array) => void;
}): Uint8Array {
  const b = new Uint8Array(opts.size);
  opts.fill?.(b);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
  v.setUint16(16, 2, true); // e_type ET_EXEC
  v.setUint16(18, 62, true); // e_machine EM_X86_64
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(24, 0x401000n, true); // e_entry
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setBigUint64(40, BigInt(opts.shdrs.length ? opts.shoff : 0), true); // e_shoff
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  // PN_XNUM / SHN_XINDEX-style extended numbering when the counts do not fit in 16 bits.
  const phnum = opts.phdrs.length;
  const shnum = opts.shdrs.length;
  v.setUint16(56, Math.min(phnum, 0xffff), true); // e_phnum (PN_XNUM past 65534)
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, shnum >= 0xff00 ? 0 : shnum, true); // e_shnum
  v.setUint16(62, opts.shstrndx >= 0xff00 ? 0xffff : opts.shstrndx, true); // e_shstrndx
  opts.phdrs.forEach((p, i) => {
    const o = 64 + i * 56;
    v.setUint32(o, p.type, true);
    v.setUint32(o + 4, p.flags, true);
    v.setBigUint64(o + 8, BigInt(p.offset), true);
    v.setBigUint64(o + 16, BigInt(p.vaddr), true);
    v.setBigUint64(o + 24, BigInt(p.vaddr), true);
    v.setBigUint64(o + 32, BigInt(p.filesz), true);
    v.setBigUint64(o + 40, BigInt(p.memsz), true);
    v.setBigUint64(o + 48, BigInt(p.align ?? 0x1000), true);
  });
  opts.shdrs.forEach((s, i) => {
    const o = opts.shoff + i * 64;
    v.setUint32(o, s.name, true);
    v.setUint32(o + 4, s.type, true);
    v.setBigUint64(o + 8, BigInt(s.flags), true);
    v.setBigUint64(o + 16, BigInt(s.addr), true);
    v.setBigUint64(o + 24, BigInt(s.offset), true);
    v.setBigUint64(o + 32, BigInt(s.size), true);
    v.setUint32(o + 40, s.link ?? 0, true);
    v.setUint32(o + 44, 0, true); // sh_info
    v.setBigUint64(o + 48, 8n, true);
    v.setBigUint64(o + 56, BigInt(s.entsize ?? 0), true);
  });
  if (shnum >= 0xff00) {
    // Section 0 carries the real counts (gABI extended numbering).
    v.setBigUint64(opts.shoff + 32, BigInt(shnum), true); // sh_size = e_shnum
    v.setUint32(opts.shoff + 40, opts.shstrndx, true); // sh_link = e_shstrndx
  }
  if (phnum >= 0xffff) v.setUint32(opts.shoff + 44, phnum, true); // sh_info = e_phnum
  return b;
}

/** Text that the Go version scan and the pclntab pre-filter both stop on, repeated. */
function hostileFill(b: Uint8Array, from: number): void {
  // Raw bytes (latin1): 0xff before the version, and 4-byte-aligned words that pass the pclntab
  // magic pre-filter (0xff 0xff 0xff 0xf1 read big-endian) without being a valid header.
  const unit = Buffer.from("\xffgo1.22.1\0go1.21rc1 \xff\xff\xff\xf1\xf1\xff\xff\xff", "latin1");
  for (let o = from; o < b.byteLength; o += unit.byteLength)
    b.set(unit.subarray(0, Math.min(unit.byteLength, b.byteLength - o)), o);
}

/**
 * Thousands of section headers that all cover the same large data range, one of them named
 * `.note.go.buildid` (so the file is taken for Go) and none holding build info: every data scan
 * (build info magic, pclntab magic, Go version string) used to run once per section.
 */
export function overlappingSectionsElf(size = 4 << 20, count = 16384): Uint8Array {
  const shoff = size - count * 64;
  const names = "\0.shstrtab\0.note.go.buildid\0.data\0";
  const dataOff = 0x1000;
  const dataSize = shoff - dataOff;
  const shdrs: Shdr[] = [{ name: 0, type: 0, flags: 0, addr: 0, offset: 0, size: 0 }];
  shdrs.push({ name: 1, type: SHT_STRTAB, flags: 0, addr: 0, offset: 0x800, size: names.length });
  shdrs.push({
    name: 11,
    type: SHT_PROGBITS,
    flags: SHF_ALLOC,
    addr: 0x500000 + dataOff,
    offset: dataOff,
    size: dataSize,
  });
  while (shdrs.length < count)
    shdrs.push({
      name: 28,
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_WRITE,
      addr: 0x500000 + dataOff,
      offset: dataOff,
      size: dataSize,
    });
  return elf64({
    size,
    shoff,
    shstrndx: 1,
    shdrs,
    phdrs: [{ type: PT_LOAD, flags: PF_R | PF_W, offset: 0, vaddr: 0x500000, filesz: shoff, memsz: shoff }],
    fill: (b) => {
      hostileFill(b, dataOff);
      b.set(new TextEncoder().encode(names), 0x800);
    },
  });
}

/**
 * No section headers; thousands of writable PT_LOAD segments, each mapping the whole file at the next
 * address, the first with a huge p_memsz: the build info search (a walk through the address range of
 * the first writable segment) reads the file once per segment. Also thousands of PT_NOTE segments
 * over one megabyte of empty notes.
 */
export function segmentsElf(size = 4 << 20, loads = 4096, notes = 4096): Uint8Array {
  const tableEnd = 64 + (loads + notes) * 56;
  const phdrs: Phdr[] = [];
  for (let i = 0; i < loads; i++)
    phdrs.push({
      type: PT_LOAD,
      flags: PF_R | PF_W,
      offset: 0,
      vaddr: 0x10000000 + i * size,
      filesz: size,
      memsz: i === 0 ? loads * size : size,
    });
  const noteLen = Math.min(1 << 20, size - tableEnd);
  for (let i = 0; i < notes; i++)
    phdrs.push({
      type: PT_NOTE,
      flags: PF_R,
      offset: tableEnd,
      vaddr: 0,
      filesz: noteLen,
      memsz: 0,
      align: 4,
    });
  return elf64({ size, shoff: 0, shstrndx: 0, shdrs: [], phdrs });
}

/**
 * Section names and symbol names that all point into one string table without a NUL until its last
 * byte (each lookup used to search to the end of the table), a `.symtab` of that many symbols, and a
 * `.comment` of many distinct strings (deduplicated with a linear search before).
 */
export function stringTablesElf(size = 4 << 20): Uint8Array {
  const strOff = 0x1000;
  const strSize = 1 << 20;
  const commentOff = strOff + strSize;
  const commentSize = 1 << 20;
  const symOff = commentOff + commentSize;
  const nsections = 8192;
  const shoff = size - nsections * 64;
  const symSize = shoff - symOff;
  const shdrs: Shdr[] = [{ name: 0, type: 0, flags: 0, addr: 0, offset: 0, size: 0 }];
  // 1: the string table (shstrtab and strtab at once); its only NUL is its last byte, after
  // ".comment" and ".symtab" names at its end.
  const tail = "\0.comment\0.symtab\0";
  const commentName = strSize - tail.length + 1;
  const symtabName = commentName + ".comment\0".length;
  shdrs.push({ name: symtabName + 2, type: SHT_STRTAB, flags: 0, addr: 0, offset: strOff, size: strSize });
  shdrs.push({
    name: commentName,
    type: SHT_PROGBITS,
    flags: 0,
    addr: 0,
    offset: commentOff,
    size: commentSize,
  });
  shdrs.push({
    name: symtabName,
    type: SHT_SYMTAB,
    flags: 0,
    addr: 0,
    offset: symOff,
    size: symSize - (symSize % 24),
    link: 1,
    entsize: 24,
  });
  for (let i = shdrs.length; i < nsections; i++)
    shdrs.push({ name: 0, type: SHT_PROGBITS, flags: 0, addr: 0, offset: strOff, size: 16 });
  return elf64({
    size,
    shoff,
    shstrndx: 1,
    shdrs,
    phdrs: [{ type: PT_LOAD, flags: PF_R, offset: 0, vaddr: 0x400000, filesz: 0x1000, memsz: 0x1000 }],
    fill: (b) => {
      b.fill(0x41, strOff, strOff + strSize);
      b.set(new TextEncoder().encode(tail), strOff + strSize - tail.length);
      // .comment: "GCC: 0000001\0GCC: 0000002\0..." all distinct.
      const enc = new TextEncoder();
      let o = commentOff;
      for (let i = 0; o + 16 <= commentOff + commentSize; i++) {
        o += enc.encodeInto(`GCC: ${i.toString(16).padStart(7, "0")}\0`, b.subarray(o)).written;
      }
      // Symbols: st_name spread over the NUL-less table (each a distinct offset), st_shndx 1.
      const v = new DataView(b.buffer);
      for (let s = symOff, i = 0; s + 24 <= symOff + symSize; s += 24, i++) {
        v.setUint32(s, (i * 7) % (strSize - tail.length), true);
        v.setUint8(s + 4, 0x12); // GLOBAL FUNC
        v.setUint16(s + 6, 1, true);
      }
    },
  });
}

/**
 * A PE32+ whose sections (up to 65535 of them) all map the same raw data at consecutive addresses,
 * the first an initialized-data section with a 4 GiB VirtualSize: the build info search walks that
 * address range section by section; the pclntab and version scans used to read every section.
 */
export function overlappingSectionsPe(size = 4 << 20, count = 8192): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b.set([0x4d, 0x5a], 0); // "MZ"
  const peOff = 0x80;
  v.setUint32(0x3c, peOff, true); // e_lfanew
  b.set([0x50, 0x45, 0, 0], peOff); // "PE\0\0"
  v.setUint16(peOff + 4, 0x8664, true); // Machine AMD64
  v.setUint16(peOff + 6, count, true); // NumberOfSections
  const optSize = 0xf0;
  v.setUint16(peOff + 20, optSize, true); // SizeOfOptionalHeader
  v.setUint16(peOff + 22, 0x22, true); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
  const opt = peOff + 24;
  v.setUint16(opt, 0x20b, true); // PE32+
  v.setBigUint64(opt + 24, 0x140000000n, true); // ImageBase
  v.setUint16(opt + 68, 3, true); // Subsystem CUI
  const shOff = opt + optSize;
  const dataOff = Math.ceil((shOff + count * 40) / 0x200) * 0x200;
  const dataSize = size - dataOff;
  hostileFill(b, dataOff);
  for (let i = 0; i < count; i++) {
    const o = shOff + i * 40;
    b.set(new TextEncoder().encode(".data"), o);
    v.setUint32(o + 8, i === 0 ? 0xffffffff : dataSize, true); // VirtualSize
    v.setUint32(o + 12, 0x1000 + i * dataSize, true); // VirtualAddress
    v.setUint32(o + 16, dataSize, true); // SizeOfRawData
    v.setUint32(o + 20, dataOff, true); // PointerToRawData
    v.setUint32(o + 36, 0xc0000040, true); // INITIALIZED_DATA | MEM_READ | MEM_WRITE
  }
  return b;
}

/**
 * A Go 1.20 `.gopclntab` whose functions each name a different offset inside one 60 KiB name: a
 * walk of the function names (check's run-time needs, analyze's size per package) used to decode up
 * to 60 KiB per function. A static ELF, so `check` reads the table.
 */
export function pclntabNamesElf(size = 4 << 20): Uint8Array {
  const tabOff = 0x1000;
  const nameLen = 60 * 1024;
  const shoff = size - 4 * 64;
  const tabSize = shoff - tabOff;
  const hdr = 8 + 8 * 8;
  const names = hdr;
  const functab = names + nameLen + 1;
  // functab: nfunc (entryOff, funcOff) u32 pairs + end PC; then one 8-byte _func per function.
  const nfunc = Math.floor((tabSize - functab - 4) / 16);
  const names0 = "\0.shstrtab\0.gopclntab\0.text\0";
  const shdrs: Shdr[] = [
    { name: 0, type: 0, flags: 0, addr: 0, offset: 0, size: 0 },
    { name: 1, type: SHT_STRTAB, flags: 0, addr: 0, offset: 0x800, size: names0.length },
    {
      name: 11,
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      addr: 0x400000 + tabOff,
      offset: tabOff,
      size: tabSize,
    },
    { name: 22, type: SHT_PROGBITS, flags: SHF_ALLOC | 4, addr: 0x400000, offset: 0, size: 0x800 },
  ];
  return elf64({
    size,
    shoff,
    shstrndx: 1,
    shdrs,
    phdrs: [{ type: PT_LOAD, flags: PF_R, offset: 0, vaddr: 0x400000, filesz: shoff, memsz: shoff }],
    fill: (b) => {
      b.set(new TextEncoder().encode(names0), 0x800);
      const v = new DataView(b.buffer, tabOff);
      v.setUint32(0, 0xfffffff1, true); // Go 1.20 magic
      v.setUint8(6, 1); // quantum
      v.setUint8(7, 8); // ptrSize
      // nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset
      const words = [nfunc, 1, 0x400000, names, functab, functab, functab, functab];
      for (const [i, x] of words.entries()) v.setBigUint64(8 + i * 8, BigInt(x), true);
      b.fill(0x61, tabOff + names, tabOff + names + nameLen); // "aaaa…", NUL after it
      const recs = (2 * nfunc + 1) * 4;
      for (let i = 0; i < nfunc; i++) {
        v.setUint32(functab + i * 8, i * 16, true); // entryOff
        v.setUint32(functab + i * 8 + 4, recs + i * 8, true); // funcOff
        v.setUint32(functab + recs + i * 8, i * 16, true); // _func.entryOff
        v.setInt32(functab + recs + i * 8 + 4, i % nameLen, true); // _func.nameOff
      }
      v.setUint32(functab + nfunc * 8, nfunc * 16, true); // end PC
    },
  });
}

/**
 * A dynamic executable whose PT_DYNAMIC holds 60 000 DT_NEEDED entries naming 64 libraries that do
 * not exist: library resolution searched the root again for every repetition.
 */
export function neededElf(count = 60_000, size = 2 << 20): Uint8Array {
  const interp = "/lib64/ld-linux-x86-64.so.2\0";
  const strOff = 0x300;
  const dynOff = 0x1000;
  const names: number[] = [];
  let strLen = 1;
  const strings: string[] = [];
  for (let k = 0; k < 64; k++) {
    names.push(strLen);
    strings.push(`libx${k}.so\0`);
    strLen += `libx${k}.so\0`.length;
  }
  const base = 0x400000;
  const b = elf64({
    size,
    shoff: 0,
    shstrndx: 0,
    shdrs: [],
    phdrs: [
      { type: PT_LOAD, flags: PF_R | 1, offset: 0, vaddr: base, filesz: size, memsz: size },
      {
        type: 3,
        flags: PF_R,
        offset: 0x200,
        vaddr: base + 0x200,
        filesz: interp.length,
        memsz: interp.length,
      },
      {
        type: 2,
        flags: PF_R | PF_W,
        offset: dynOff,
        vaddr: base + dynOff,
        filesz: (count + 3) * 16,
        memsz: (count + 3) * 16,
      },
    ],
    fill: (b) => {
      b.set(Buffer.from(interp, "latin1"), 0x200);
      b.set(Buffer.from(`\0${strings.join("")}`, "latin1"), strOff);
      const v = new DataView(b.buffer);
      let o = dynOff;
      for (let i = 0; i < count; i++, o += 16) {
        v.setBigInt64(o, 1n, true); // DT_NEEDED
        v.setBigUint64(o + 8, BigInt(names[i % 64]!), true);
      }
      v.setBigInt64(o, 5n, true); // DT_STRTAB
      v.setBigUint64(o + 8, BigInt(base + strOff), true);
      v.setBigInt64(o + 16, 10n, true); // DT_STRSZ
      v.setBigUint64(o + 24, BigInt(strLen), true);
    },
  });
  return b;
}

/** Every bomb by file name, for the CLI measurements. */
export const BOMBS: Record<string, () => Uint8Array> = {
  "elf-overlapping-sections": () => overlappingSectionsElf(),
  "elf-segments-notes": () => segmentsElf(),
  "elf-string-tables": () => stringTablesElf(),
  "pe-overlapping-sections": () => overlappingSectionsPe(),
  "elf-pclntab-names": () => pclntabNamesElf(),
  "elf-needed": () => neededElf(),
};

if (process.argv[1]?.endsWith("bomb-files.js") && process.argv[2]) {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  for (const [name, make] of Object.entries(BOMBS)) writeFileSync(join(process.argv[2], name), make());
}
