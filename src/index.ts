/**
 * zerodep library entry point. Everything the CLI does is a typed function exported here.
 */

export type { BinaryLayout, LayoutSection, LayoutSegment } from "./binary/layout.js";
export { runCli } from "./cli/run.js";
export { archName } from "./elf/constants.js";
export { type ElfFile, readElf } from "./elf/elf-file.js";
export { type ElfHeader, isElf, parseElfHeader } from "./elf/header.js";
export { compareDotted, minimumGlibc, type VersionDef, type VersionNeed } from "./elf/versions.js";
export { IoError, ParseError, UsageError, ZerodepError } from "./errors.js";
export { inspectFile, inspectSource } from "./inspect/inspect.js";
export { sniffFormat } from "./inspect/other-formats.js";
export {
  type DebugInfo,
  type GoInfo,
  type GoModule,
  type Hardening,
  INSPECT_SCHEMA_VERSION,
  type InspectResult,
  type Libc,
  type Linkage,
  type SectionSize,
  type Warning,
} from "./inspect/types.js";
export { BufferSource, type ByteSource, FileSource } from "./io/reader.js";
export { type ScanOptions, scanTrees } from "./scan/scan.js";
