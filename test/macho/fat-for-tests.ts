/**
 * Builds a fat (universal) Mach-O from thin images, as lipo(1) does: big-endian fat_header and
 * fat_arch entries, each slice aligned to 2^14. lipo is not available here; the result is checked
 * against `go version -m` (which reads the first slice) and against our own reader.
 */
export function makeFatMacho(slices: Uint8Array[]): Uint8Array {
  const ALIGN_LOG2 = 14;
  const align = 1 << ALIGN_LOG2;
  const offsets: number[] = [];
  let at = 8 + 20 * slices.length;
  for (const s of slices) {
    at = Math.ceil(at / align) * align;
    offsets.push(at);
    at += s.byteLength;
  }
  const out = new Uint8Array(at);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(0, 0xcafebabe, false);
  v.setUint32(4, slices.length, false);
  slices.forEach((s, i) => {
    const sv = new DataView(s.buffer, s.byteOffset, s.byteLength);
    const little = sv.getUint32(0, false) === 0xcffaedfe || sv.getUint32(0, false) === 0xcefaedfe;
    const o = 8 + 20 * i;
    v.setInt32(o, sv.getInt32(4, little), false); // cputype
    v.setInt32(o + 4, sv.getInt32(8, little), false); // cpusubtype
    v.setUint32(o + 8, offsets[i]!, false);
    v.setUint32(o + 12, s.byteLength, false);
    v.setUint32(o + 16, ALIGN_LOG2, false);
    out.set(s, offsets[i]!);
  });
  return out;
}
