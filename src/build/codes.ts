/**
 * Stable codes of build's errors and warnings (README "zerodep build"). Errors are ZerodepError (exit 3)
 * or UsageError (exit 2) with one of these codes; warnings are reported in BuildResult.warnings.
 */
export const BUILD_CODES = [
  // errors
  "NO_PROJECT", // no go.mod / Cargo.toml where a target points
  "NOT_MAIN_PACKAGE", // a Go package that is not `package main`
  "NO_BINARY_TARGET", // a Cargo package (or name) with no such [[bin]]
  "COMPILE_FAILED", // the compiler's own message, shortened
  "TOOLCHAIN_MISSING", // go / cargo / rustc not found
  "RUST_TARGET_MISSING", // the rustup target is not installed (fix: rustup target add …)
  "CGO_REQUIRED", // --cgo off but a package needs cgo
  "CGO_NO_TOOLCHAIN", // a cgo build for a platform with no C compiler for it
  "PLATFORM_UNSUPPORTED", // a platform the toolchain cannot target
  "PLATFORM_NOT_IN_BASE", // --platform names one the base image lacks
  "BAD_TEMPLATE", // an -ldflags template that does not parse or names an unknown field
  "PROJECT_FILE", // zerodep.yaml: unknown key, wrong type (with its line)
  // warnings
  "NO_VCS", // no .git: Go's build info says (devel), the image has no revision
  "VCS_DIRTY", // uncommitted changes: the build is not reproducible from the commit
  "CGO_USED", // cgo was needed: which package, and how it was linked
] as const;
export type BuildCode = (typeof BUILD_CODES)[number];
