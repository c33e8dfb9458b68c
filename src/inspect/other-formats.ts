import type { ByteSource } from "../io/reader.js";
import type { InspectResult } from "./types.js";

export type SniffedFormat = "elf" | "pe" | "macho" | "macho-fat" | "unknown";

/**
 * Recognises a binary from its first bytes. A fat Mach-O shares 0xcafebabe with Java class files:
 * the architecture count disambiguates (class files have a major version of 45+ there).
 */
export function sniffFormat(head: Uint8Array): SniffedFormat {
  if (head.byteLength < 4) return "unknown";
  const [a, b, c, d] = [head[0]!, head[1]!, head[2]!, head[3]!];
  if (a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46) return "elf";
  if (a === 0x4d && b === 0x5a) return "pe"; // "MZ"; confirmed by the PE reader
  const be = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const le = ((d << 24) | (c << 16) | (b << 8) | a) >>> 0;
  if (be === 0xfeedface || be === 0xfeedfacf || le === 0xfeedface || le === 0xfeedfacf) return "macho";
  if (be === 0xcafebabe && head.byteLength >= 8) {
    const n = ((head[4]! << 24) | (head[5]! << 16) | (head[6]! << 8) | head[7]!) >>> 0;
    if (n > 0 && n < 30) return "macho-fat";
  }
  return "unknown";
}

export async function inspectPe(_src: ByteSource, r: InspectResult): Promise<void> {
  r.format = "pe";
}

export async function inspectMacho(_src: ByteSource, r: InspectResult, _fat: boolean): Promise<void> {
  r.format = "macho";
}
