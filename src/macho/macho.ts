import type { BinaryLayout, LayoutSection, LayoutSegment } from "../binary/layout.js";
import { ParseError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";

/**
 * Mach-O reader (<mach-o/loader.h>, <mach-o/fat.h>): thin images of both widths and byte orders, and
 * the fat (universal) container. Header and load commands only, through bounded reads.
 */

export const MH_MAGIC = 0xfeedface;
export const MH_CIGAM = 0xcefaedfe;
export const MH_MAGIC_64 = 0xfeedfacf;
export const MH_CIGAM_64 = 0xcffaedfe;
export const FAT_MAGIC = 0xcafebabe;
export const FAT_MAGIC_64 = 0xcafebabf;

const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;

/** CPU_ARCH_ABI64 (0x01000000) and CPU_ARCH_ABI64_32 (0x02000000) ored into the base type. */
export const CPU_TYPE = {
  X86: 7,
  X86_64: 0x01000007,
  ARM: 12,
  ARM64: 0x0100000c,
  ARM64_32: 0x0200000c,
  POWERPC: 18,
  POWERPC64: 0x01000012,
} as const;

const FILE_TYPES: Record<number, string> = {
  1: "object",
  2: "execute",
  3: "fvmlib",
  4: "core",
  5: "preload",
  6: "dylib",
  7: "dylinker",
  8: "bundle",
  9: "dylib_stub",
  10: "dsym",
  11: "kext_bundle",
  12: "fileset",
};

/**
 * The fat header shares 0xcafebabe with Java class files, where the next u32 is minor/major version
 * (major >= 45). A real universal binary has a handful of slices: like file(1) and Go's debug/macho,
 * we reject counts that only a class file would produce.
 */
const MAX_FAT_ARCHES = 30;
/** Guard against absurd load-command tables: real images have well under a thousand. */
const MAX_NCMDS = 65536;
/** A segment cannot hold more sections than fit in its cmdsize anyway; this bounds work per command. */
const MAX_NSECTS = 65536;

export interface MachoSegment {
  name: string;
  addr: number;
  memSize: number;
  offset: number;
  fileSize: number;
  maxprot: number;
  initprot: number;
}

export interface MachoWarning {
  code: string;
  message: string;
}

export interface MachoInfo {
  layout: BinaryLayout;
  cputype: number;
  cpusubtype: number;
  /** GOARCH naming: amd64, arm64, 386, arm, ppc, ppc64, arm64_32; "unknown" otherwise. */
  arch: string;
  os: "darwin";
  filetype: number;
  filetypeName: string;
  /** Segments with their names and protections (the layout drops names and maxprot). */
  segments: MachoSegment[];
  warnings: MachoWarning[];
}

export interface FatArch {
  cputype: number;
  cpusubtype: number;
  arch: string;
  offset: number;
  size: number;
  align: number;
}

function be32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, false);
}

/** Thin Mach-O magic in either byte order. */
export function isMacho(head: Uint8Array): boolean {
  if (head.byteLength < 4) return false;
  const m = be32(head, 0);
  return m === MH_MAGIC || m === MH_CIGAM || m === MH_MAGIC_64 || m === MH_CIGAM_64;
}

/** Fat magic (big-endian by definition). Does not rule out a Java class file: readFatArches does. */
export function isFatMacho(head: Uint8Array): boolean {
  if (head.byteLength < 8) return false;
  const m = be32(head, 0);
  return (m === FAT_MAGIC || m === FAT_MAGIC_64) && be32(head, 4) < MAX_FAT_ARCHES && be32(head, 4) > 0;
}

export function machoArchName(cputype: number): string {
  switch (cputype) {
    case CPU_TYPE.X86_64:
      return "amd64";
    case CPU_TYPE.X86:
      return "386";
    case CPU_TYPE.ARM64:
      return "arm64";
    case CPU_TYPE.ARM64_32:
      return "arm64_32";
    case CPU_TYPE.ARM:
      return "arm";
    case CPU_TYPE.POWERPC:
      return "ppc";
    case CPU_TYPE.POWERPC64:
      return "ppc64";
    default:
      return "unknown";
  }
}

function fail(src: ByteSource, code: string, what: string, offset?: number): never {
  throw new ParseError(code, `${src.name}: not a valid Mach-O file: ${what}`, offset);
}

function fixedName(b: Uint8Array): string {
  let s = "";
  for (const c of b) {
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Slices of a fat (universal) file. Throws ParseError when the header is not a plausible fat header
 * (including Java class files) or a slice lies outside the file.
 */
export async function readFatArches(src: ByteSource): Promise<FatArch[]> {
  if (src.size < 8) fail(src, "MACHO_TRUNCATED", "file shorter than a fat header");
  const head = await src.read(0, 8);
  const magic = be32(head, 0);
  if (magic !== FAT_MAGIC && magic !== FAT_MAGIC_64) fail(src, "MACHO_BAD_MAGIC", "no fat magic", 0);
  const n = be32(head, 4);
  if (n === 0 || n >= MAX_FAT_ARCHES) {
    fail(src, "MACHO_BAD_FAT_COUNT", `nfat_arch ${n} is not plausible (a Java class file?)`, 4);
  }
  // fat_arch: cputype, cpusubtype, offset u32, size u32, align u32 (20 bytes);
  // fat_arch_64: cputype, cpusubtype, offset u64, size u64, align u32, reserved u32 (32 bytes).
  const entSize = magic === FAT_MAGIC ? 20 : 32;
  const tableEnd = 8 + n * entSize;
  if (tableEnd > src.size) fail(src, "MACHO_TRUNCATED", `fat table of ${n} entries does not fit`, 8);
  const t = await src.read(8, n * entSize);
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const arches: FatArch[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * entSize;
    const cputype = v.getInt32(o, false);
    const cpusubtype = v.getInt32(o + 4, false);
    let offset: number;
    let size: number;
    let align: number;
    if (entSize === 20) {
      offset = v.getUint32(o + 8, false);
      size = v.getUint32(o + 12, false);
      align = v.getUint32(o + 16, false);
    } else {
      offset = Number(v.getBigUint64(o + 8, false));
      size = Number(v.getBigUint64(o + 16, false));
      align = v.getUint32(o + 24, false);
    }
    if (offset < tableEnd || size === 0 || offset + size > src.size) {
      fail(
        src,
        "MACHO_BAD_FAT_ARCH",
        `slice ${i} (${size} bytes at 0x${offset.toString(16)}) is outside the file`,
        8 + o,
      );
    }
    arches.push({ cputype, cpusubtype, arch: machoArchName(cputype), offset, size, align });
  }
  return arches;
}

/**
 * Layout of the thin Mach-O image at `baseOffset` (0 for a thin file, a FatArch offset for a slice).
 * `limit` is the slice size (defaults to the rest of the file); load commands must fit inside it.
 */
export async function readMachoLayout(src: ByteSource, baseOffset = 0, limit?: number): Promise<MachoInfo> {
  const avail = Math.min(limit ?? src.size - baseOffset, src.size - baseOffset);
  if (baseOffset < 0 || avail < 28)
    fail(src, "MACHO_TRUNCATED", "image shorter than a Mach-O header", baseOffset);
  const m = be32(await src.read(baseOffset, 4), 0);
  let little: boolean;
  let is64: boolean;
  switch (m) {
    case MH_MAGIC:
      little = false;
      is64 = false;
      break;
    case MH_CIGAM:
      little = true;
      is64 = false;
      break;
    case MH_MAGIC_64:
      little = false;
      is64 = true;
      break;
    case MH_CIGAM_64:
      little = true;
      is64 = true;
      break;
    default:
      fail(src, "MACHO_BAD_MAGIC", `bad magic 0x${m.toString(16)}`, baseOffset);
  }
  const hdrSize = is64 ? 32 : 28;
  if (avail < hdrSize) fail(src, "MACHO_TRUNCATED", "image shorter than a Mach-O header", baseOffset);
  const h = await src.read(baseOffset, hdrSize);
  const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  // mach_header: magic @0, cputype @4, cpusubtype @8, filetype @12, ncmds @16, sizeofcmds @20,
  // flags @24, (64-bit: reserved @28).
  const cputype = hv.getInt32(4, little);
  const cpusubtype = hv.getInt32(8, little);
  const filetype = hv.getUint32(12, little);
  const ncmds = hv.getUint32(16, little);
  const sizeofcmds = hv.getUint32(20, little);
  if (ncmds > MAX_NCMDS || ncmds * 8 > sizeofcmds || hdrSize + sizeofcmds > avail) {
    fail(
      src,
      "MACHO_BAD_LOAD_COMMANDS",
      `ncmds ${ncmds} / sizeofcmds ${sizeofcmds} do not fit in the image`,
      baseOffset + 16,
    );
  }
  const cmds = await src.read(baseOffset + hdrSize, sizeofcmds);
  const cv = new DataView(cmds.buffer, cmds.byteOffset, cmds.byteLength);

  const sections: LayoutSection[] = [];
  const layoutSegments: LayoutSegment[] = [];
  const segments: MachoSegment[] = [];
  const warnings: MachoWarning[] = [];
  const u = (o: number, wide: boolean): number =>
    wide ? Number(cv.getBigUint64(o, little)) : cv.getUint32(o, little);

  let p = 0;
  for (let i = 0; i < ncmds; i++) {
    if (p + 8 > sizeofcmds) fail(src, "MACHO_BAD_LOAD_COMMANDS", `load command ${i} overruns sizeofcmds`);
    const cmd = cv.getUint32(p, little);
    const cmdsize = cv.getUint32(p + 4, little);
    if (cmdsize < 8 || p + cmdsize > sizeofcmds) {
      fail(
        src,
        "MACHO_BAD_LOAD_COMMANDS",
        `load command ${i} has bad cmdsize ${cmdsize}`,
        baseOffset + hdrSize + p,
      );
    }
    if (cmd === LC_SEGMENT || cmd === LC_SEGMENT_64) {
      const wide = cmd === LC_SEGMENT_64;
      // segment_command(_64): segname[16] @8, then vmaddr, vmsize, fileoff, filesize (u32 or u64),
      // maxprot, initprot, nsects, flags (u32).
      const segHdr = wide ? 72 : 56;
      const secSize = wide ? 80 : 68;
      if (cmdsize < segHdr)
        fail(src, "MACHO_BAD_SEGMENT", `segment command ${i} too short`, baseOffset + hdrSize + p);
      const w = wide ? 8 : 4;
      const segname = fixedName(cmds.subarray(p + 8, p + 24));
      const vmaddr = u(p + 24, wide);
      const vmsize = u(p + 24 + w, wide);
      const fileoff = u(p + 24 + 2 * w, wide);
      let filesize = u(p + 24 + 3 * w, wide);
      const q = p + 24 + 4 * w;
      const maxprot = cv.getUint32(q, little);
      const initprot = cv.getUint32(q + 4, little);
      const nsects = cv.getUint32(q + 8, little);
      if (nsects > MAX_NSECTS || segHdr + nsects * secSize > cmdsize) {
        fail(src, "MACHO_BAD_SEGMENT", `segment ${segname}: ${nsects} sections do not fit in cmdsize`);
      }
      if (filesize > 0 && fileoff + filesize > avail) {
        warnings.push({
          code: "MACHO_SEGMENT_PAST_EOF",
          message: `segment ${segname} extends past the image`,
        });
        filesize = Math.max(0, avail - fileoff);
      }
      // VM_PROT_READ 1, VM_PROT_WRITE 2, VM_PROT_EXECUTE 4.
      const readable = (initprot & 1) !== 0;
      const writable = (initprot & 2) !== 0;
      const executable = (initprot & 4) !== 0;
      segments.push({
        name: segname,
        addr: vmaddr,
        memSize: vmsize,
        offset: fileoff,
        fileSize: filesize,
        maxprot,
        initprot,
      });
      layoutSegments.push({
        addr: vmaddr,
        offset: fileoff,
        fileSize: filesize,
        memSize: vmsize,
        readable,
        writable,
        executable,
      });
      for (let s = 0; s < nsects; s++) {
        const so = p + segHdr + s * secSize;
        // section(_64): sectname[16] @0, segname[16] @16, addr @32, size @32+w, offset u32, align,
        // reloff, nreloc, flags, reserved...
        const sectname = fixedName(cmds.subarray(so, so + 16));
        const secSeg = fixedName(cmds.subarray(so + 16, so + 32));
        const addr = u(so + 32, wide);
        const size = u(so + 32 + w, wide);
        const offset = cv.getUint32(so + 32 + 2 * w, little);
        const flags = cv.getUint32(so + 32 + 2 * w + 16, little);
        // S_ZEROFILL (1), S_GB_ZEROFILL (0xc), S_THREAD_LOCAL_ZEROFILL (0x12) occupy no file bytes.
        const type = flags & 0xff;
        const zerofill = type === 0x1 || type === 0xc || type === 0x12;
        let fileSize = zerofill || offset === 0 ? 0 : size;
        if (fileSize > 0 && offset + fileSize > avail) {
          warnings.push({
            code: "MACHO_SECTION_PAST_EOF",
            message: `section ${secSeg},${sectname} extends past the image`,
          });
          fileSize = Math.max(0, avail - offset);
        }
        sections.push({
          name: sectname,
          segment: secSeg,
          addr,
          offset,
          fileSize,
          memSize: size,
          flags,
          writable,
          // S_ATTR_PURE_INSTRUCTIONS 0x80000000, S_ATTR_SOME_INSTRUCTIONS 0x400.
          executable: executable || (flags & 0x80000400) !== 0,
        });
      }
    }
    p += cmdsize;
  }

  return {
    layout: {
      format: "macho",
      littleEndian: little,
      ptrSize: is64 ? 8 : 4,
      sections,
      segments: layoutSegments,
      baseOffset,
    },
    cputype,
    cpusubtype,
    arch: machoArchName(cputype),
    os: "darwin",
    filetype,
    filetypeName: FILE_TYPES[filetype] ?? `unknown(${filetype})`,
    segments,
    warnings,
  };
}
