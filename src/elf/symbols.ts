import { Bytes, cString } from "../binary/bytes.js";

export interface ElfSymbol {
  /** Index in its table (matches `.gnu.version` entries for dynamic symbols). */
  index: number;
  name: string;
  value: number;
  size: number;
  /** STB_* (0 local, 1 global, 2 weak). */
  bind: number;
  /** STT_* (0 notype, 1 object, 2 func, 6 tls, 10 ifunc). */
  type: number;
  /** Section index; 0 (SHN_UNDEF) means imported. */
  shndx: number;
}

export const SYM_SIZE = { 32: 16, 64: 24 } as const;

/**
 * Parses a symbol table (`.symtab` or `.dynsym`), resolving names in `strtab`. Symbol 0 is the null
 * symbol and is included. `keep` selects by index, section index and name offset before any name is
 * decoded: decoding every name of a large library dominates a scan otherwise.
 */
export function parseSymbols(
  b: Uint8Array,
  cls: 32 | 64,
  little: boolean,
  strtab: Uint8Array,
  keep?: (index: number, shndx: number, nameOffset: number) => boolean,
): ElfSymbol[] {
  const r = new Bytes(b, little);
  const size = SYM_SIZE[cls];
  const n = Math.floor(b.byteLength / size);
  const out: ElfSymbol[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * size;
    let name: number;
    let value: number;
    let sz: number;
    let info: number;
    let shndx: number;
    if (cls === 64) {
      name = r.u32(o); // st_name
      info = r.u8(o + 4); // st_info
      shndx = r.u16(o + 6); // st_shndx
      value = r.u64(o + 8); // st_value
      sz = r.u64(o + 16); // st_size
    } else {
      name = r.u32(o); // st_name
      value = r.u32(o + 4); // st_value
      sz = r.u32(o + 8); // st_size
      info = r.u8(o + 12); // st_info
      shndx = r.u16(o + 14); // st_shndx
    }
    if (keep && !keep(i, shndx, name)) continue;
    out.push({
      index: i,
      name: cString(strtab, name) ?? "",
      value,
      size: sz,
      bind: info >> 4,
      type: info & 0xf,
      shndx,
    });
  }
  return out;
}

/**
 * Number of dynamic symbols from a DT_GNU_HASH table when there are no section headers: the
 * highest symbol index reached by any bucket's chain, plus one. Layout: u32 nbuckets, u32 symoffset,
 * u32 bloomSize, u32 bloomShift, bloom words (class-sized), buckets (u32), chain (u32, bit 0 ends a chain).
 * Returns null when the table does not fit in `b`.
 */
export function countGnuHashSymbols(b: Uint8Array, cls: 32 | 64, little: boolean): number | null {
  if (b.byteLength < 16) return null;
  const r = new Bytes(b, little);
  const nbuckets = r.u32(0);
  const symoffset = r.u32(4);
  const bloomSize = r.u32(8);
  const bucketsOff = 16 + bloomSize * (cls === 64 ? 8 : 4);
  const chainOff = bucketsOff + nbuckets * 4;
  if (chainOff > b.byteLength) return null;
  let max = 0;
  for (let i = 0; i < nbuckets; i++) max = Math.max(max, r.u32(bucketsOff + i * 4));
  if (max < symoffset) return symoffset;
  for (let idx = max; ; idx++) {
    const o = chainOff + (idx - symoffset) * 4;
    if (o + 4 > b.byteLength) return null;
    if ((r.u32(o) & 1) !== 0) return idx + 1;
  }
}

/**
 * Whether `name` is one of the NUL-terminated strings of `table` (an exact string, not a suffix of a
 * longer one). A native byte search: much cheaper than decoding a symbol table to look for one name.
 */
export function stringTableHas(table: Uint8Array, name: string): boolean {
  const buf = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const needle = Buffer.from(name + "\0", "latin1");
  let at = buf.indexOf(needle);
  while (at >= 0) {
    if (at === 0 || buf[at - 1] === 0) return true;
    at = buf.indexOf(needle, at + 1);
  }
  return false;
}

/** Whether the NUL-terminated string at `offset` of `table` ends with `suffix` (ASCII), without decoding it. */
export function stringEndsWith(table: Uint8Array, offset: number, suffix: string): boolean {
  if (offset < 0 || offset >= table.byteLength) return false;
  // Bounded like cString (names longer than 4 KiB are corruption): an unbounded search per symbol
  // is quadratic when every symbol points into one NUL-less table.
  const found = table.subarray(offset, offset + 4096).indexOf(0);
  if (found < 0 || found < suffix.length) return false;
  const end = offset + found;
  for (let k = 0; k < suffix.length; k++)
    if (table[end - suffix.length + k] !== suffix.charCodeAt(k)) return false;
  return true;
}

/**
 * Every string of `table` that contains `needle` (ASCII), each once, at most `limit`: one native
 * byte search over the table answers several questions about names ("__stack_chk_fail", "*_chk").
 */
export function stringsContaining(table: Uint8Array, needle: string, limit = 256): string[] {
  const buf = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const out: string[] = [];
  let at = buf.indexOf(needle, 0, "latin1");
  while (at >= 0 && out.length < limit) {
    const end = buf.indexOf(0, at);
    if (end < 0) break; // the table's last string has no NUL: not a string
    out.push(buf.toString("latin1", buf.lastIndexOf(0, at) + 1, end));
    at = buf.indexOf(needle, end, "latin1");
  }
  return out;
}
