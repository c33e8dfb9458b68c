import { Bytes } from "../binary/bytes.js";

/** One library's version needs (`.gnu.version_r`, Elf_Verneed + Elf_Vernaux). */
export interface VersionNeed {
  /** The library file name (vn_file), e.g. "libc.so.6". */
  file: string;
  versions: { name: string; hash: number; flags: number; weak: boolean; index: number }[];
}

/** One version definition (`.gnu.version_d`, Elf_Verdef + Elf_Verdaux). */
export interface VersionDef {
  index: number;
  flags: number;
  /** First name is the version itself; later names are its parents. */
  names: string[];
  /** VER_FLG_BASE: the definition naming the file itself (its soname). */
  base: boolean;
}

/** Hard cap on entries walked, so a next-pointer loop in a hostile file cannot spin. */
const MAX_ENTRIES = 1 << 16;

/**
 * Parses verneed entries. `b` holds the section (or the bytes from DT_VERNEED to the end of its
 * segment); `count` is DT_VERNEEDNUM / sh_info; `str(off)` resolves names in the dynamic string table.
 * Entry (16 bytes): u16 vn_version, u16 vn_cnt, u32 vn_file, u32 vn_aux, u32 vn_next.
 * Aux (16 bytes): u32 vna_hash, u16 vna_flags, u16 vna_other, u32 vna_name, u32 vna_next.
 * Returns what could be read; `truncated` says a chain left the buffer.
 */
export function parseVerneed(
  b: Uint8Array,
  little: boolean,
  count: number,
  str: (off: number) => string | null,
): { needs: VersionNeed[]; truncated: boolean } {
  const r = new Bytes(b, little);
  const needs: VersionNeed[] = [];
  let off = 0;
  let walked = 0;
  for (let i = 0; i < count && walked < MAX_ENTRIES; i++) {
    if (off < 0 || off + 16 > b.byteLength) return { needs, truncated: true };
    const cnt = r.u16(off + 2); // vn_cnt
    const file = str(r.u32(off + 4)) ?? "?"; // vn_file
    const aux = r.u32(off + 8); // vn_aux
    const next = r.u32(off + 12); // vn_next
    const need: VersionNeed = { file, versions: [] };
    let a = off + aux;
    for (let j = 0; j < cnt && walked < MAX_ENTRIES; j++, walked++) {
      if (a < 0 || a + 16 > b.byteLength) {
        needs.push(need);
        return { needs, truncated: true };
      }
      const flags = r.u16(a + 4); // vna_flags
      need.versions.push({
        hash: r.u32(a), // vna_hash
        flags,
        weak: (flags & 0x2) !== 0, // VER_FLG_WEAK
        index: r.u16(a + 6) & 0x7fff, // vna_other (version index used by .gnu.version)
        name: str(r.u32(a + 8)) ?? "?", // vna_name
      });
      const an = r.u32(a + 12); // vna_next
      if (an === 0) break;
      a += an;
    }
    needs.push(need);
    walked++;
    if (next === 0) break;
    off += next;
  }
  return { needs, truncated: false };
}

/**
 * Parses verdef entries. Entry (20 bytes): u16 vd_version, u16 vd_flags, u16 vd_ndx, u16 vd_cnt,
 * u32 vd_hash, u32 vd_aux, u32 vd_next. Aux (8 bytes): u32 vda_name, u32 vda_next.
 */
export function parseVerdef(
  b: Uint8Array,
  little: boolean,
  count: number,
  str: (off: number) => string | null,
): { defs: VersionDef[]; truncated: boolean } {
  const r = new Bytes(b, little);
  const defs: VersionDef[] = [];
  let off = 0;
  let walked = 0;
  for (let i = 0; i < count && walked < MAX_ENTRIES; i++) {
    if (off < 0 || off + 20 > b.byteLength) return { defs, truncated: true };
    const flags = r.u16(off + 2); // vd_flags
    const index = r.u16(off + 4); // vd_ndx
    const cnt = r.u16(off + 6); // vd_cnt
    const aux = r.u32(off + 12); // vd_aux
    const next = r.u32(off + 16); // vd_next
    const def: VersionDef = { index, flags, base: (flags & 0x1) !== 0, names: [] };
    let a = off + aux;
    for (let j = 0; j < cnt && walked < MAX_ENTRIES; j++, walked++) {
      if (a < 0 || a + 8 > b.byteLength) {
        defs.push(def);
        return { defs, truncated: true };
      }
      def.names.push(str(r.u32(a)) ?? "?"); // vda_name
      const an = r.u32(a + 4); // vda_next
      if (an === 0) break;
      a += an;
    }
    defs.push(def);
    walked++;
    if (next === 0) break;
    off += next;
  }
  return { defs, truncated: false };
}

/**
 * Compares dotted version numbers numerically ("2.34" > "2.4"). Missing components count as 0.
 */
const dottedCache = new Map<string, number[]>();
function dotted(s: string): number[] {
  let v = dottedCache.get(s);
  if (!v) {
    v = s.split(".").map((x) => Number.parseInt(x, 10) || 0);
    if (dottedCache.size < 4096) dottedCache.set(s, v);
  }
  return v;
}

export function compareDotted(a: string, b: string): number {
  const pa = dotted(a);
  const pb = dotted(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The highest `GLIBC_x.y[.z]` among the needed versions, or null. `GLIBC_PRIVATE` and
 * `GLIBC_ABI_DT_RELR` are markers, not releases (README "inspect --json schema", `glibcMin`).
 */
export function minimumGlibc(needs: VersionNeed[]): string | null {
  let best: string | null = null;
  for (const n of needs) {
    for (const v of n.versions) {
      const m = /^GLIBC_(\d+\.\d+(?:\.\d+)?)$/.exec(v.name);
      if (!m) continue;
      if (best === null || compareDotted(m[1]!, best) > 0) best = m[1]!;
    }
  }
  return best;
}
