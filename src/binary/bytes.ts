/**
 * Endian-aware integer access over a Uint8Array. Always built from (buffer, byteOffset, byteLength):
 * a subarray shares its parent's buffer, and ignoring byteOffset would read the wrong bytes.
 */
export class Bytes {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly little: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.byteLength;
  }
  u8(o: number): number {
    return this.view.getUint8(o);
  }
  u16(o: number): number {
    return this.view.getUint16(o, this.little);
  }
  u32(o: number): number {
    return this.view.getUint32(o, this.little);
  }
  i32(o: number): number {
    return this.view.getInt32(o, this.little);
  }
  /**
   * u64 as a number. Values above 2^53 lose precision; they only occur in hostile input and are then
   * rejected by bounds checks (an offset or size that large is never inside a file).
   */
  u64(o: number): number {
    const lo = this.view.getUint32(o + (this.little ? 0 : 4), this.little);
    const hi = this.view.getUint32(o + (this.little ? 4 : 0), this.little);
    return hi * 0x1_0000_0000 + lo;
  }
  /** Signed 64-bit as a number (for d_tag, whose OS-specific values are above 2^31 but below 2^63). */
  i64(o: number): number {
    return Number(this.view.getBigInt64(o, this.little));
  }
  /** Word of the ELF class: u32 for ELFCLASS32, u64 for ELFCLASS64. */
  word(o: number, is64: boolean): number {
    return is64 ? this.u64(o) : this.u32(o);
  }
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * NUL-terminated string at `offset` inside `table`. Returns null when the offset is outside the table
 * or no NUL terminates the string before the table ends (a corrupt string table).
 */
export function cString(table: Uint8Array, offset: number, maxLen = 4096): string | null {
  if (offset < 0 || offset >= table.byteLength) return null;
  const end = Math.min(table.byteLength, offset + maxLen);
  // Search no further than maxLen: thousands of names pointing into one table without a NUL would
  // otherwise each scan to its end (quadratic time on a crafted file, issue #12).
  const found = table.subarray(offset, end).indexOf(0);
  if (found < 0) return null;
  const nul = offset + found;
  // Symbol and section names are short ASCII: building them directly is several times cheaper than
  // a TextDecoder call per name, which dominated scans of whole systems.
  if (nul - offset <= 64) {
    let ascii = true;
    for (let i = offset; i < nul; i++) {
      if (table[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, table.subarray(offset, nul) as unknown as number[]);
  }
  return utf8.decode(table.subarray(offset, nul));
}

export function latin1String(b: Uint8Array): string {
  return latin1.decode(b);
}

export function hex(n: number): string {
  return "0x" + n.toString(16);
}
