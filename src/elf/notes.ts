import { Bytes, latin1String } from "../binary/bytes.js";

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_PROPERTY_TYPE_0 = 5;
/** Go's linker writes a note named "Go" with type 4 holding the Go build ID. */
export const NT_GO_BUILDID = 4;

/**
 * Parses a note section or PT_NOTE segment: u32 namesz, u32 descsz, u32 type, name and desc each
 * padded to `align` (4, or 8 for 64-bit GNU property notes) counted from the note's start. Stops at
 * the first entry that would leave the buffer.
 */
export function parseNotes(b: Uint8Array, little: boolean, align: 4 | 8 = 4): ElfNote[] {
  const r = new Bytes(b, little);
  const out: ElfNote[] = [];
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  let o = 0;
  while (o + 12 <= b.byteLength && out.length < 4096) {
    const namesz = r.u32(o); // n_namesz
    const descsz = r.u32(o + 4); // n_descsz
    const type = r.u32(o + 8); // n_type
    const nameStart = o + 12;
    // Padding is to the alignment from the note's start (binutils ELF_NOTE_DESC_OFFSET): with 8,
    // "GNU\0" after the 12-byte header ends at 16 and the descriptor starts there, not at 20.
    const descStart = o + pad(12 + namesz);
    const end = o + pad(descStart - o + descsz);
    if (namesz > b.byteLength || descsz > b.byteLength || descStart + descsz > b.byteLength) break;
    let nameBytes = b.subarray(nameStart, nameStart + namesz);
    if (nameBytes.byteLength > 0 && nameBytes[nameBytes.byteLength - 1] === 0)
      nameBytes = nameBytes.subarray(0, -1);
    out.push({ name: latin1String(nameBytes), type, desc: b.subarray(descStart, descStart + descsz) });
    if (end <= o) break;
    o = end;
  }
  return out;
}

/** NT_GNU_ABI_TAG descriptor: u32 os (0 Linux, 1 Hurd, 2 Solaris, 3 FreeBSD), then the minimum kernel. */
export function parseAbiTag(desc: Uint8Array, little: boolean): { os: string; kernel: string } | null {
  if (desc.byteLength < 16) return null;
  const r = new Bytes(desc, little);
  const os = ["linux", "hurd", "solaris", "freebsd"][r.u32(0)] ?? `unknown(${r.u32(0)})`;
  return { os, kernel: `${r.u32(4)}.${r.u32(8)}.${r.u32(12)}` };
}
