import { Bytes } from "../binary/bytes.js";

/**
 * GNU property notes (NT_GNU_PROPERTY_TYPE_0 in a "GNU" note, usually .note.gnu.property, also
 * reachable through PT_GNU_PROPERTY): the descriptor is an array of
 *   { u32 pr_type, u32 pr_datasz, pr_data padded to 8 bytes (ELFCLASS64) or 4 (ELFCLASS32) }
 * sorted by pr_type ("Linux Extensions to gABI", x86-64 psABI "Program Property").
 */
export interface GnuProperty {
  type: number;
  data: Uint8Array;
}

/**
 * x86 ISA level the program needs (x86-64 psABI: GNU_PROPERTY_X86_ISA_1_NEEDED, in the
 * GNU_PROPERTY_X86_UINT32_OR_LO range, so the linker ORs it over its inputs; `ld -z x86-64-vN` sets
 * it). glibc's loader (2.33 and later) refuses to start a program whose bits the CPU lacks: "CPU ISA
 * level is lower than required".
 */
export const GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;
/** Bits of GNU_PROPERTY_X86_ISA_1_NEEDED: x86-64-baseline, -v2, -v3, -v4. */
export const X86_ISA_1_BASELINE = 1;
export const X86_ISA_1_V2 = 2;
export const X86_ISA_1_V3 = 4;
export const X86_ISA_1_V4 = 8;

/** Parses one NT_GNU_PROPERTY_TYPE_0 descriptor; stops at the first entry that leaves it. */
export function parseGnuProperties(desc: Uint8Array, little: boolean, is64: boolean): GnuProperty[] {
  const r = new Bytes(desc, little);
  const align = is64 ? 8 : 4;
  const out: GnuProperty[] = [];
  let o = 0;
  while (o + 8 <= desc.byteLength && out.length < 1024) {
    const type = r.u32(o); // pr_type
    const size = r.u32(o + 4); // pr_datasz
    if (size > desc.byteLength - o - 8) break;
    out.push({ type, data: desc.subarray(o + 8, o + 8 + size) });
    o += 8 + Math.ceil(size / align) * align;
  }
  return out;
}

/**
 * The x86-64 micro-architecture level (1 to 4) that GNU_PROPERTY_X86_ISA_1_NEEDED asks for, or null
 * when the property is absent. A set bit of a higher level wins: "x86-64-baseline, x86-64-v3" is 3.
 */
export function x86IsaLevelNeeded(props: GnuProperty[], little: boolean): number | null {
  const p = props.find((x) => x.type === GNU_PROPERTY_X86_ISA_1_NEEDED);
  if (!p || p.data.byteLength < 4) return null;
  const bits = new Bytes(p.data, little).u32(0);
  if (bits & X86_ISA_1_V4) return 4;
  if (bits & X86_ISA_1_V3) return 3;
  if (bits & X86_ISA_1_V2) return 2;
  return 1;
}
