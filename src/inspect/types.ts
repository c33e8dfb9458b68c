import type { Diagnostic } from "../diagnostic.js";
/**
 * The `zerodep inspect --json` record, schemaVersion 1. This is a public contract: fields are only
 * ever added, never renamed or retyped, within a schema version. Documented in README.md.
 */
export const INSPECT_SCHEMA_VERSION = 1;

export type Linkage = "static" | "static-pie" | "dynamic" | "shared-library" | "relocatable" | "core";
export type Libc = "glibc" | "musl" | "none" | "unknown";

export interface Hardening {
  /** Position-independent executable. null for shared libraries and non-ELF files. */
  pie: boolean | null;
  relro: "none" | "partial" | "full";
  /** Non-executable stack (PT_GNU_STACK without PF_X). */
  nx: boolean;
  bindNow: boolean;
  /** Stack protector evidence; null when symbols cannot decide (Go, static, stripped, musl FORTIFY). */
  canary: boolean | null;
  fortify: boolean | null;
}

export interface DebugInfo {
  present: boolean;
  /** Bytes of .debug_* / .zdebug_* sections in the file. */
  fileBytes: number;
  /** Their size once decompressed (equals fileBytes when not compressed). */
  uncompressedBytes: number;
  compressed: boolean;
}

export interface SectionSize {
  name: string;
  type: string;
  /** Bytes in the file (0 for NOBITS). */
  fileBytes: number;
  /** Bytes in memory when ALLOC, else 0. */
  memBytes: number;
}

export interface GoModule {
  path: string;
  version: string;
  sum: string;
  replace?: { path: string; version: string; sum: string };
}

export interface GoInfo {
  /** Go toolchain version ("go1.26.8"), or null when only a range is known from pclntab. */
  version: string | null;
  /** Range of Go versions that write this pclntab format (">=1.20"), when only that is known. */
  versionRange: string | null;
  /**
   * Where the facts come from: the build info blob; or, when it was removed, the runtime.buildVersion
   * string found in read-only data, or only the pclntab format.
   */
  source: "buildinfo" | "version-string" | "pclntab";
  path: string | null;
  main: { path: string; version: string; sum: string } | null;
  deps: GoModule[];
  settings: Record<string, string>;
}

/** Codes of inspect's deployment warnings (README "Warning codes"). */
export const INSPECT_WARNING_CODES = [
  "INTERP_WITHOUT_NEEDED",
  "DYNAMIC_NEEDS_LOADER",
  "GLIBC_TOO_NEW",
  "EXECUTABLE_STACK",
  "RELATIVE_RPATH",
  "DEBUG_SHIPPED",
  "NOT_LINUX",
  "CORRUPT_METADATA",
  "CORRUPT_GO_BUILDINFO",
] as const;
export type InspectWarningCode = (typeof INSPECT_WARNING_CODES)[number];

/** A deployment warning: always severity "warning", always with a one-line fix. */
export type Warning = Diagnostic<InspectWarningCode> & { severity: "warning"; fix: string };

export interface InspectResult {
  schemaVersion: 1;
  path: string;
  format: "elf" | "pe" | "macho" | "unknown";
  /** Present only when the file could not be read or parsed. */
  error?: string;
  /** Stable error code (NOT_REGULAR_FILE, TRUNCATED, ENOENT ...), with error. */
  errorCode?: string;
  size: number | null;
  arch: string | null;
  /** arm variant (v5, v6, v7, v8) when known. */
  variant: string | null;
  os: string | null;
  elf: { class: 32 | 64; endian: "little" | "big"; type: string; machine: number; osabi: number } | null;
  linkage: Linkage | null;
  interpreter: string | null;
  needed: string[];
  soname: string | null;
  rpath: string[];
  runpath: string[];
  libc: Libc | null;
  glibcMin: string | null;
  /** Imported symbols that need glibcMin (why the floor is where it is). */
  glibcMinSymbols: string[];
  hardening: Hardening | null;
  stripped: boolean | null;
  debug: DebugInfo | null;
  sections: SectionSize[];
  /**
   * Bytes that `strip` would remove: .symtab, its string table and debug sections, with their section
   * header entries and names in .shstrtab (checked against binutils strip in the tests).
   */
  stripSavings: number | null;
  /** Toolchain evidence from .comment (GCC, clang, rustc, LLD), deduplicated, in file order. */
  toolchain: string[];
  go: GoInfo | null;
  /** Mach-O fat files: one entry per slice (arch, Go info from that slice). */
  slices?: { arch: string; go: GoInfo | null }[];
  warnings: Warning[];
}

export function emptyResult(path: string): InspectResult {
  return {
    schemaVersion: 1,
    path,
    format: "unknown",
    size: null,
    arch: null,
    variant: null,
    os: null,
    elf: null,
    linkage: null,
    interpreter: null,
    needed: [],
    soname: null,
    rpath: [],
    runpath: [],
    libc: null,
    glibcMin: null,
    glibcMinSymbols: [],
    hardening: null,
    stripped: null,
    debug: null,
    sections: [],
    stripSavings: null,
    toolchain: [],
    go: null,
    warnings: [],
  };
}
