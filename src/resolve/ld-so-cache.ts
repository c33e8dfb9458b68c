import { Bytes } from "../binary/bytes.js";

export interface LdCacheEntry {
  /** Library name (the key), e.g. "libc.so.6". */
  name: string;
  /** Path it maps to. */
  path: string;
  /** Flags: low byte the type (3 = ELF libc6), second byte the arch (0x03 x86-64, 0x0a aarch64 …). */
  flags: number;
  /** Non-zero for glibc-hwcaps subdirectory entries (x86-64-v3 …) or legacy hwcaps. */
  hwcap: bigint;
}

const MAGIC_NEW = "glibc-ld.so.cache1.1";
const MAGIC_OLD = "ld.so-1.7.0";

/**
 * Parses /etc/ld.so.cache, the table the glibc loader really uses (it never reads ld.so.conf itself).
 * New format (glibc ≥ 2.32 writes only it): 20-byte magic+version, u32 nlibs, u32 len_strings,
 * u8 flags, 3 pad, u32 extension_offset, 3×u32 unused (48 bytes), then nlibs × 24-byte entries
 * {i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap}; key/value are offsets from the start of
 * the new header. The old format ("ld.so-1.7.0", 12-byte entries) may precede it: skipped over.
 * Returns null when the bytes are not a cache we understand.
 */
export function parseLdSoCache(b: Uint8Array): LdCacheEntry[] | null {
  const text = (o: number, n: number) => new TextDecoder("latin1").decode(b.subarray(o, o + n));
  let base = 0;
  if (b.byteLength >= 16 && text(0, MAGIC_OLD.length) === MAGIC_OLD) {
    const n = new Bytes(b, true).u32(12);
    base = 16 + n * 12;
    base = (base + 7) & ~7; // the new header is aligned to the cache_file_new alignment
  }
  if (b.byteLength < base + 48 || text(base, MAGIC_NEW.length) !== MAGIC_NEW) return null;
  // flags byte: 0 unknown, 1 invalid, 2 little endian, 3 big endian
  const little = b[base + 28] !== 3;
  const r = new Bytes(b, little);
  const nlibs = r.u32(base + 20);
  if (base + 48 + nlibs * 24 > b.byteLength) return null;
  const str = (off: number) => {
    const o = base + off;
    if (o < 0 || o >= b.byteLength) return null;
    // At most PATH_MAX: entries pointing into one NUL-less run must not each scan to its end.
    const n = b.subarray(o, o + 4096).indexOf(0);
    return n < 0 ? null : text(o, n);
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const e = base + 48 + i * 24;
    const name = str(r.u32(e + 4));
    const path = str(r.u32(e + 8));
    if (name === null || path === null) continue;
    const hwcap = r.view.getBigUint64(e + 16, little);
    out.push({ name, path, flags: r.i32(e), hwcap });
  }
  return out;
}
