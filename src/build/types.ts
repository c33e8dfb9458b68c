import type { PackDestination, PackedImage, PackOptions } from "../pack/pack.js";

/** How cgo is handled when a Go program (or one of its non-standard packages) uses it. */
export type CgoMode =
  /** cgo only when a non-standard package needs it, then linked statically (musl-gcc, else -static). */
  | "auto"
  /** Always CGO_ENABLED=0: a package that needs cgo is a build error (ko's behaviour). */
  | "off"
  /** cgo linked statically: musl-gcc for the host architecture, else the target's gcc with -static. */
  | "static"
  /** cgo linked dynamically with the target's gcc; the loader and libraries are bundled (pack --bundle-libs). */
  | "bundle";

/** One `--add SRC:DST`: a host file or directory copied into the image at DST (ko's kodata). */
export interface AddedPath {
  src: string;
  dst: string;
}

/**
 * `zerodep build`: from source to image. Every pack option applies to the image (base, user, env, ports,
 * labels, destinations …) except `binaries` and `path`, which build derives from the programs it builds.
 */
export interface BuildOptions extends Omit<PackOptions, "binaries" | "path"> {
  /**
   * What to build: directories, Go import paths or patterns (./cmd/...), or Cargo binary names;
   * default ["."]. Relative to `dir`.
   */
  targets?: string[];
  /** Project directory (default: the process's working directory). */
  dir?: string;
  /** "linux/amd64", "linux/arm64", "linux/arm/v7" …; "all" means the base image's platforms. Default: the host's. */
  platforms?: string[] | "all";
  /** Tags: every destination without a tag of its own gets each (registries) or the first (files). */
  tags?: string[];
  /** One image per program instead of all programs in one image. */
  split?: boolean;
  /** The image's version (labels, templates' {{.Version}}); default: the git tag at HEAD, if any. */
  version?: string;
  /** Extra -ldflags, each a template ({{.Version}}, {{.Git.Tag}}, {{.Git.ShortCommit}}, {{.Date}}, {{.Env.X}}). */
  ldflags?: string[];
  /** Extra `go build` (or `cargo build`) arguments, e.g. "-tags=netgo". */
  buildFlags?: string[];
  /** Extra KEY=VALUE environment for the compiler (not the image). */
  buildEnv?: string[];
  /** Keep symbols and DWARF (no -s -w; Rust: no strip). */
  noStrip?: boolean;
  /** Keep absolute source paths (no -trimpath / --remap-path-prefix). */
  noTrimpath?: boolean;
  cgo?: CgoMode;
  /** Static files or directories copied into the image in their own layer. */
  add?: AddedPath[];
  /** Keep the built binaries in DIR/OS-ARCH[-VARIANT]/ (default: a staging directory removed after packing). */
  binDir?: string;
  /** Arguments after the entrypoint (the image's Cmd). */
  args?: string[];
  /** Environment for the toolchains (default process.env); PATH, GOCACHE, CARGO_HOME … are read from it. */
  processEnv?: Record<string, string | undefined>;
  /** Called with each toolchain command as it starts (the CLI shows them on a TTY). */
  onCommand?: (argv: string[], env: Record<string, string>) => void;
}

/** One program built for one platform. */
export interface BuiltBinary {
  /** The program's name (the binary's file name, /app/NAME in the image). */
  name: string;
  language: "go" | "rust";
  /** The Go package or Cargo binary it was built from. */
  target: string;
  /** "linux/amd64" … */
  platform: string;
  /** Where the binary was written on the host: under binDir, cargo's target dir, or a staging directory removed after packing. */
  file: string;
  /** How it was built: the command and the environment variables build set (toolchain caches excluded). */
  command: string[];
  env: Record<string, string>;
  /** How cgo was handled: off (CGO_ENABLED=0), static, or bundle (dynamic, libraries bundled). */
  cgo: "off" | "static" | "bundle";
}

export interface BuiltImage {
  /** The program(s) in it, entrypoint first. */
  programs: string[];
  digest: string;
  mediaType: string;
  images: PackedImage[];
  destinations: PackDestination[];
}

/** `zerodep build --json` (README "build --json"). */
export interface BuildResult {
  schemaVersion: 1;
  version: string | null;
  /** config.created and org.opencontainers.image.created (SOURCE_DATE_EPOCH, else the commit time). */
  created: string;
  git: { commit: string; tag: string | null; dirty: boolean } | null;
  binaries: BuiltBinary[];
  images: BuiltImage[];
  warnings: { code: string; message: string; fix: string }[];
}
