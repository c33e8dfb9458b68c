import { CHECK_CODES, type CheckProblem } from "../check/check.js";
import type { Diagnostic } from "../diagnostic.js";
import type { WasteEvent, WasteReason } from "../image/file-index.js";
import { TAR_WARNING_CODES } from "../tar/reader.js";
import type { DiveInefficiency } from "./dive-model.js";
import type { ElfAudit } from "./elf-audit.js";

/** `zerodep analyze --json`, schemaVersion 1 (README "analyze"). Fields are only ever added. */
export const ANALYZE_SCHEMA_VERSION = 1;

export interface LayerReport {
  index: number;
  digest: string;
  mediaType: string;
  /** Blob size (as shipped and stored). */
  compressedBytes: number;
  /** Length of the uncompressed tar stream. */
  tarBytes: number;
  /** Σ content bytes of the layer's regular files (dive's layer size). */
  contentBytes: number;
  /** The config.history entry of this layer (entries with empty_layer skipped), or null. */
  history: { createdBy: string | null; created: string | null; comment: string | null } | null;
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** Paths new in this layer / paths that existed below and were rewritten / whiteouts. */
  added: number;
  modified: number;
  removed: number;
  opaqueDirs: string[];
  /** Whiteout targets (first 50). */
  removedPaths: string[];
  /** Content bytes of this layer that are not in the final tree (overwritten or deleted later). */
  wastedBytes: number;
  largestFiles: { path: string; size: number }[];
}

/** Codes of analyze findings (README "analyze"): its own, and every check code for the entrypoint. */
export const FINDING_CODES = [
  ...CHECK_CODES,
  "ENTRYPOINT_SHELL_FORM",
  "RUNS_AS_ROOT",
  "UNREADABLE_FILES",
  "SETUID_FILES",
  "WORLD_WRITABLE",
  "SHELL_PRESENT",
  "PACKAGE_MANAGER_PRESENT",
  "WASTED_BYTES",
  "UNSTRIPPED_BINARIES",
  "HOSTILE_PATHS",
  "DIVE_WOULD_ABORT",
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

/** A finding, with the paths it concerns (first 20). */
export type Finding = Diagnostic<FindingCode> & { fix: string; paths?: string[] };

export interface ElfFileReport extends ElfAudit {
  path: string;
  size: number;
  layer: number;
  mode: number;
}

export interface AnalyzeResult {
  schemaVersion: 1;
  image: string;
  /** Manifest digest. */
  digest: string;
  platform: string;
  /** How the platform was chosen: asked for with --platform, the only one, or this machine's from an index. */
  platformChoice: "requested" | "only" | "this machine";
  created: string | null;
  config: {
    user: string | null;
    entrypoint: string[] | null;
    cmd: string[] | null;
    env: string[];
    workingDir: string | null;
  };
  layers: LayerReport[];
  totals: {
    layers: number;
    compressedBytes: number;
    tarBytes: number;
    /** Σ content bytes shipped in all layers. */
    contentBytes: number;
    /** Σ content bytes of the final tree's regular files (hard links counted once, as shipped). */
    finalBytes: number;
    finalFiles: number;
    finalDirs: number;
    finalSymlinks: number;
  };
  waste: {
    /** Ours: bytes shipped in layers that are not in the final file tree (contentBytes − finalBytes). */
    wastedBytes: number;
    /** wastedBytes / contentBytes (0 when there are none). */
    wastedPercent: number;
    /** finalBytes / contentBytes (1 when empty). */
    efficiency: number;
    byReason: Record<WasteReason, number>;
    /** The removals responsible, largest first (first 100). */
    events: WasteEvent[];
    /** dive's figures by dive's definition (src/analyze/dive-model.ts). */
    dive: {
      efficiency: number;
      wastedBytes: number;
      wastedUserPercent: number | null;
      sizeBytes: number;
      userSizeBytes: number;
      inefficiencies: DiveInefficiency[];
      abortedLayers: { layer: number; path: string }[];
    };
  };
  largestFiles: { path: string; size: number; layer: number }[];
  audit: {
    user: {
      configured: string | null;
      uid: number | null;
      gid: number | null;
      name: string | null;
      root: boolean;
    };
    entrypoint: {
      program: string | null;
      /** In-root path after PATH lookup and symlinks, null when not found. */
      resolved: string | null;
      runnable: boolean | null;
      problems: CheckProblem[];
    };
    elfFiles: ElfFileReport[];
    goBinaries: ElfFileReport[];
    shells: string[];
    packageManagers: string[];
    setuid: { path: string; mode: number; uid: number }[];
    setgid: { path: string; mode: number; gid: number }[];
    worldWritable: { path: string; kind: string; mode: number }[];
    /** World-writable directories with the sticky bit (like /tmp): expected, listed apart. */
    stickyWorldWritableDirs: string[];
    /** Regular files the runtime user cannot read (first 100) and how many in all. */
    unreadable: { count: number; paths: string[] };
  };
  findings: Finding[];
  /** Odd layer entries (absolute or ../ paths, dangling hard links, whiteouts over nothing…), first 100. */
  warnings: { code: LayerWarningCode; layer: number; path: string; message: string }[];
  /** Only with the `tree` option (the HTML report): the final tree, aggregated for a treemap. */
  tree?: TreeNode;
}

/** A treemap node: a directory with children, or a file (or aggregate of small files) of one layer. */
export interface TreeNode {
  /** Name (directory or file), or "(N small files)". */
  n: string;
  /** Bytes. */
  s: number;
  /** Layer providing the file(s); absent on directories. */
  l?: number;
  c?: TreeNode[];
}

/** Codes of analyze's layer warnings: tar's own, and the merged tree's (README "analyze warning codes"). */
export const LAYER_WARNING_CODES = [
  ...TAR_WARNING_CODES,
  "WHITEOUT_OVER_NOTHING",
  "DANGLING_HARDLINK",
  "PARENT_REPLACED",
  "EMPTY_LAYER",
] as const;
export type LayerWarningCode = (typeof LAYER_WARNING_CODES)[number];
