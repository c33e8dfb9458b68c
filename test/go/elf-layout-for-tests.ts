import type { BinaryLayout, LayoutSection, LayoutSegment } from "../../src/binary/layout.js";
import type { ByteSource } from "../../src/io/reader.js";
import { isFatMacho, isMacho, readFatArches, readMachoLayout } from "../../src/macho/macho.js";
import { isPe, readPeLayout } from "../../src/pe/pe.js";

/**
 * Test-only ELF reader: just enough (PT_LOAD segments, section names and flags) to give the Go readers
 * a BinaryLayout until src/elf provides one. Not hardened: tests feed it real binaries only.
 */
export async function elfLayoutForTests(src: ByteSource): Promise<BinaryLayout> {
  const id = await src.read(0, 16);
  const is64 = id[4] === 2;
  const little = id[5] === 1;
  const eh = await src.read(0, is64 ? 64 : 52);
  const v = new DataView(eh.buffer, eh.byteOffset, eh.byteLength);
  const word = (dv: DataView, o: number): number =>
    is64 ? Number(dv.getBigUint64(o, little)) : dv.getUint32(o, little);
  const phoff = word(v, is64 ? 32 : 28);
  const shoff = word(v, is64 ? 40 : 32);
  const phentsize = v.getUint16(is64 ? 54 : 42, little);
  const phnum = v.getUint16(is64 ? 56 : 44, little);
  const shentsize = v.getUint16(is64 ? 58 : 46, little);
  const shnum = v.getUint16(is64 ? 60 : 48, little);
  const shstrndx = v.getUint16(is64 ? 62 : 50, little);

  const segments: LayoutSegment[] = [];
  if (phnum > 0) {
    const ph = await src.read(phoff, phnum * phentsize);
    const pv = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (pv.getUint32(o, little) !== 1) continue; // PT_LOAD only
      const flags = pv.getUint32(is64 ? o + 4 : o + 24, little);
      segments.push({
        offset: word(pv, is64 ? o + 8 : o + 4),
        addr: word(pv, is64 ? o + 16 : o + 8),
        fileSize: word(pv, is64 ? o + 32 : o + 16),
        memSize: word(pv, is64 ? o + 40 : o + 20),
        readable: (flags & 4) !== 0,
        writable: (flags & 2) !== 0,
        executable: (flags & 1) !== 0,
      });
    }
  }

  const sections: LayoutSection[] = [];
  if (shnum > 0 && shoff > 0) {
    const sh = await src.read(shoff, shnum * shentsize);
    const sv = new DataView(sh.buffer, sh.byteOffset, sh.byteLength);
    const strOff = word(sv, shstrndx * shentsize + (is64 ? 24 : 16));
    const strSize = word(sv, shstrndx * shentsize + (is64 ? 32 : 20));
    const names = await src.read(strOff, strSize);
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      const nameOff = sv.getUint32(o, little);
      const end = names.indexOf(0, nameOff);
      const name = new TextDecoder().decode(names.subarray(nameOff, end < 0 ? undefined : end));
      const type = sv.getUint32(o + 4, little);
      const flags = word(sv, o + 8);
      const size = word(sv, is64 ? o + 32 : o + 20);
      sections.push({
        name,
        addr: word(sv, is64 ? o + 16 : o + 12),
        offset: word(sv, is64 ? o + 24 : o + 16),
        fileSize: type === 8 ? 0 : size, // SHT_NOBITS
        memSize: size,
        flags,
        writable: (flags & 1) !== 0,
        executable: (flags & 4) !== 0,
      });
    }
  }
  return { format: "elf", littleEndian: little, ptrSize: is64 ? 8 : 4, sections, segments, baseOffset: 0 };
}

/**
 * The layout `go version -m` would look at: ELF, PE, thin Mach-O, or the first slice of a fat Mach-O
 * (debug/buildinfo reads Arches[0] only). null when the file is none of these.
 */
export async function layoutForTests(src: ByteSource): Promise<BinaryLayout | null> {
  if (src.size < 16) return null;
  const head = await src.read(0, 16);
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
    return elfLayoutForTests(src);
  if (isPe(head)) return (await readPeLayout(src)).layout;
  if (isMacho(head)) return (await readMachoLayout(src, 0)).layout;
  if (isFatMacho(head)) {
    const arches = await readFatArches(src);
    const first = arches[0]!;
    return (await readMachoLayout(src, first.offset, first.size)).layout;
  }
  return null;
}
