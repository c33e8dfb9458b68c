import { Bytes } from "../binary/bytes.js";

/**
 * ARM build attributes (`.ARM.attributes`, SHT_ARM_ATTRIBUTES), "Addenda to, and Errata in, the ABI
 * for the Arm Architecture" (ARM IHI 0045), section "Build attributes". Only the file-scope
 * attributes of the "aeabi" vendor subsection are read: they describe the whole linked file, and
 * the linker has merged every input object's Tag_CPU_arch into them (taking the newest
 * architecture), which is what a CPU must implement to run the program.
 *
 * Layout:
 *   u8 format-version 'A' (0x41)
 *   { u32 subsection-length (counting itself), NUL-terminated vendor name, vendor data }*
 * "aeabi" vendor data:
 *   { u8 tag (1 Tag_File, 2 Tag_Section, 3 Tag_Symbol), u32 size (counting tag and size), attributes }*
 * Attributes are (ULEB128 tag, value) pairs: the value is an NTBS for tags 4, 5 and 67, a ULEB128
 * then an NTBS for Tag_compatibility (32), otherwise a ULEB128 below 32; from 32 on, odd tags are
 * NTBS and even tags ULEB128 (the rule that lets a reader skip tags it does not know).
 * Lengths are in the ELF file's byte order.
 */
export interface ArmFileAttributes {
  /** Tag_CPU_arch (6), e.g. 10 for v7; null when the file scope does not say. */
  cpuArch: number | null;
  /** Tag_CPU_arch_profile (7) as a character: "A", "R", "M", "S"; null when absent or 0. */
  cpuArchProfile: string | null;
  /** Tag_CPU_name (5). */
  cpuName: string | null;
}

/** Tag_CPU_arch names as readelf prints them (binutils arm_attr_tag_CPU_arch), by value. */
export const ARM_CPU_ARCH_NAMES: readonly string[] = [
  "Pre-v4",
  "v4",
  "v4T",
  "v5T",
  "v5TE",
  "v5TEJ",
  "v6",
  "v6KZ",
  "v6T2",
  "v6K",
  "v7",
  "v6-M",
  "v6S-M",
  "v7E-M",
  "v8",
  "v8-R",
  "v8-M.baseline",
  "v8-M.mainline",
  "v8.1-A",
  "v8.2-A",
  "v8.3-A",
  "v8.1-M.mainline",
  "v9",
];

const TAG_FILE = 1;
const TAG_CPU_NAME = 5;
const TAG_CPU_ARCH = 6;
const TAG_CPU_ARCH_PROFILE = 7;
const TAG_COMPATIBILITY = 32;

/**
 * Parses the file-scope "aeabi" attributes. Returns null when the bytes are not a version 'A'
 * attributes section or have no aeabi Tag_File subsection; stops at the first length that leaves
 * its container (hostile input yields what was read before it, never an exception).
 */
export function parseArmAttributes(b: Uint8Array, little: boolean): ArmFileAttributes | null {
  if (b.byteLength < 1 || b[0] !== 0x41) return null;
  const r = new Bytes(b, little);
  let o = 1;
  while (o + 4 <= b.byteLength) {
    const len = r.u32(o); // subsection-length, counting its own 4 bytes
    if (len < 5 || len > b.byteLength - o) return null;
    const end = o + len;
    const nul = b.indexOf(0, o + 4);
    if (nul < 0 || nul >= end) return null;
    const vendor = String.fromCharCode(...b.subarray(o + 4, Math.min(nul, o + 4 + 64)));
    if (vendor === "aeabi") {
      let p = nul + 1;
      while (p + 5 <= end) {
        const tag = b[p]!;
        const size = r.u32(p + 1); // counting the tag byte and these 4 bytes
        if (size < 5 || size > end - p) return null;
        if (tag === TAG_FILE) return readFileAttributes(b.subarray(p + 5, p + size));
        p += size;
      }
    }
    o = end;
  }
  return null;
}

/** ULEB128 at o: [value, next offset], or null when it runs off the end or past 2^35. */
function uleb(b: Uint8Array, o: number): [number, number] | null {
  let v = 0;
  for (let shift = 0; o < b.byteLength && shift < 35; shift += 7) {
    const c = b[o++]!;
    v += (c & 0x7f) * 2 ** shift;
    if ((c & 0x80) === 0) return [v, o];
  }
  return null;
}

/** NUL-terminated string at o: [text, next offset], or null without a terminator. */
function ntbs(b: Uint8Array, o: number): [string, number] | null {
  const nul = b.indexOf(0, o);
  if (nul < 0) return null;
  return [String.fromCharCode(...b.subarray(o, Math.min(nul, o + 256))), nul + 1];
}

function isStringTag(tag: number): boolean {
  return tag === 4 || tag === TAG_CPU_NAME || tag === 67 || (tag > TAG_COMPATIBILITY && tag % 2 === 1);
}

function readFileAttributes(b: Uint8Array): ArmFileAttributes {
  const out: ArmFileAttributes = { cpuArch: null, cpuArchProfile: null, cpuName: null };
  let o = 0;
  while (o < b.byteLength) {
    const t = uleb(b, o);
    if (!t) break;
    const [tag, at] = t;
    if (tag === TAG_COMPATIBILITY) {
      const flag = uleb(b, at);
      const s = flag && ntbs(b, flag[1]);
      if (!s) break;
      o = s[1];
    } else if (isStringTag(tag)) {
      const s = ntbs(b, at);
      if (!s) break;
      if (tag === TAG_CPU_NAME) out.cpuName = s[0];
      o = s[1];
    } else {
      const v = uleb(b, at);
      if (!v) break;
      if (tag === TAG_CPU_ARCH) out.cpuArch = v[0];
      else if (tag === TAG_CPU_ARCH_PROFILE && v[0] !== 0) out.cpuArchProfile = String.fromCharCode(v[0]);
      o = v[1];
    }
  }
  return out;
}

/**
 * The OCI/GOARM variant a Tag_CPU_arch needs: the architecture's major version (v6 for v6KZ, v6T2,
 * v6K and the v6-M profiles, v7 for v7 and v7E-M, v8 for every v8.x, v9). v4 and v4T are reported as
 * v5, the oldest variant the OCI image spec and Go (GOARM=5) know, which runs them. Pre-v4 (0) and
 * values this table does not know give null.
 */
export function armVariantOfCpuArch(cpuArch: number): string | null {
  const name = ARM_CPU_ARCH_NAMES[cpuArch];
  if (name === undefined || cpuArch === 0) return null;
  const major = Number(/^v(\d)/.exec(name)![1]);
  return `v${Math.max(5, major)}`;
}
