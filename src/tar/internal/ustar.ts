/**
 * The POSIX ustar header block (IEEE Std 1003.1, "pax" utility, "ustar Interchange Format"): field
 * offsets and sizes shared by the writer and the reader.
 */
export const BLOCK = 512;

export const F = {
  name: { off: 0, len: 100 },
  mode: { off: 100, len: 8 },
  uid: { off: 108, len: 8 },
  gid: { off: 116, len: 8 },
  size: { off: 124, len: 12 },
  mtime: { off: 136, len: 12 },
  chksum: { off: 148, len: 8 },
  typeflag: { off: 156, len: 1 },
  linkname: { off: 157, len: 100 },
  magic: { off: 257, len: 6 },
  version: { off: 263, len: 2 },
  uname: { off: 265, len: 32 },
  gname: { off: 297, len: 32 },
  devmajor: { off: 329, len: 8 },
  devminor: { off: 337, len: 8 },
  prefix: { off: 345, len: 155 },
} as const;

export type Field = (typeof F)[keyof typeof F];

/** Largest value an octal field of `len` bytes holds with its terminating NUL (len-1 digits). */
export function maxOctal(len: number): number {
  return 8 ** (len - 1) - 1;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8");

export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return dec.decode(b);
}

/** Bytes of a NUL-terminated (or full-width) string field. */
export function fieldBytes(block: Uint8Array, f: Field): Uint8Array {
  const raw = block.subarray(f.off, f.off + f.len);
  const nul = raw.indexOf(0);
  return nul < 0 ? raw : raw.subarray(0, nul);
}

/**
 * Header checksum: the sum of all 512 bytes as unsigned octets with the chksum field taken as eight
 * spaces. Some historic writers summed signed chars; the reader accepts either (as GNU tar does).
 */
export function checksums(block: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= F.chksum.off && i < F.chksum.off + F.chksum.len ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return { unsigned, signed };
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
