import type { ByteSource } from "../io/reader.js";
import { readFatArches, readMachoLayout } from "../macho/macho.js";
import { readPeLayout } from "../pe/pe.js";
import { readGoInfo } from "./go-facts.js";
import type { InspectResult } from "./types.js";

export type SniffedFormat = "elf" | "pe" | "macho" | "macho-fat" | "unknown";

/**
 * Recognises a binary from its first bytes. A fat Mach-O shares 0xcafebabe with Java class files:
 * the architecture count disambiguates (a class file has its major version, 45 or more, there).
 */
export function sniffFormat(head: Uint8Array): SniffedFormat {
  if (head.byteLength < 4) return "unknown";
  const [a, b, c, d] = [head[0]!, head[1]!, head[2]!, head[3]!];
  if (a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46) return "elf";
  if (a === 0x4d && b === 0x5a && head.byteLength >= 64) return "pe"; // "MZ"; the PE reader confirms
  const be = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const le = ((d << 24) | (c << 16) | (b << 8) | a) >>> 0;
  if (be === 0xfeedface || be === 0xfeedfacf || le === 0xfeedface || le === 0xfeedfacf) return "macho";
  if (be === 0xcafebabe && head.byteLength >= 8) {
    const n = ((head[4]! << 24) | (head[5]! << 16) | (head[6]! << 8) | head[7]!) >>> 0;
    if (n > 0 && n < 30) return "macho-fat";
  }
  return "unknown";
}

/**
 * PE (Windows) files: platform and Go build info. Linkage and hardening are ELF concepts here and
 * stay null; the deployment warning says the file cannot run in a Linux container.
 */
export async function inspectPe(src: ByteSource, r: InspectResult): Promise<void> {
  const pe = await readPeLayout(src);
  r.format = "pe";
  r.arch = pe.arch;
  r.os = pe.os;
  r.go = await readGoInfo(src, pe.layout, r.warnings);
}

/** Mach-O, thin or fat. For fat files the top-level facts are the first slice's (as `go version -m`). */
export async function inspectMacho(src: ByteSource, r: InspectResult, fat: boolean): Promise<void> {
  r.format = "macho";
  if (!fat) {
    const m = await readMachoLayout(src, 0);
    r.arch = m.arch;
    r.os = m.os;
    if (m.arch === "arm64") r.variant = "v8";
    r.go = await readGoInfo(src, m.layout, r.warnings);
    return;
  }
  const arches = await readFatArches(src);
  r.slices = [];
  for (const a of arches) {
    const m = await readMachoLayout(src, a.offset, a.size);
    r.slices.push({ arch: m.arch, go: await readGoInfo(src, m.layout, r.warnings) });
  }
  const first = r.slices[0];
  r.os = "darwin";
  r.arch = first?.arch ?? null;
  r.go = first?.go ?? null;
}
