import { basesTooOld } from "./elf-facts.js";
import type { InspectResult, Warning } from "./types.js";

const MB = 1024 * 1024;

/**
 * Deployment warnings derived from the facts. Each has a stable code (README "Warning codes") and a
 * one-line fix. Pure: no I/O.
 */
export function deploymentWarnings(r: InspectResult): Warning[] {
  const w: Warning[] = [];
  const isGo = r.go !== null;
  if (r.os !== null && r.os !== "linux" && r.format !== "unknown") {
    w.push({
      code: "NOT_LINUX",
      severity: "warning",
      message: `${r.os}/${r.arch} binary: it cannot run in a Linux container`,
      fix: `build for Linux (GOOS=linux GOARCH=${r.arch ?? "amd64"} for Go)`,
    });
  }
  if (r.linkage === "dynamic" && r.interpreter !== null && r.needed.length === 0) {
    w.push({
      code: "INTERP_WITHOUT_NEEDED",
      severity: "warning",
      message: `has an interpreter (${r.interpreter}) but no NEEDED libraries: it is not static, and fails in scratch with "no such file or directory"`,
      fix: isGo
        ? "drop -buildmode=pie, or link a real static PIE: -buildmode=pie -ldflags='-linkmode=external -extldflags=-static-pie' (needs cgo)"
        : "link with -static or -static-pie, or ship the loader",
    });
  } else if (r.linkage === "dynamic") {
    w.push({
      code: "DYNAMIC_NEEDS_LOADER",
      severity: "warning",
      message: `dynamically linked: needs ${r.interpreter ?? "a loader"}${r.needed.length ? ` and ${r.needed.join(", ")}` : ""} at run time; it will not run in scratch as it is`,
      fix: isGo
        ? "build with CGO_ENABLED=0 (or -tags netgo,osusergo), or pack with --bundle-libs"
        : "link statically (-static, or musl-gcc -static), or pack with --bundle-libs",
    });
  }
  // glibc's own libraries need their siblings' latest versions: not a deployment problem.
  const isGlibcItself =
    r.soname !== null &&
    /^(libc|libm|libpthread|libdl|librt|libresolv|libnss_\w+|ld-linux[\w-]*|ld64)\.so/.test(r.soname);
  if (r.glibcMin !== null && !isGlibcItself) {
    const old = basesTooOld(r.glibcMin);
    if (old.length > 0) {
      const why = r.glibcMinSymbols.length
        ? ` (because of ${r.glibcMinSymbols.slice(0, 3).join(", ")}${r.glibcMinSymbols.length > 3 ? ", …" : ""})`
        : "";
      w.push({
        code: "GLIBC_TOO_NEW",
        severity: "warning",
        message: `needs glibc >= ${r.glibcMin}${why}: fails with "version 'GLIBC_${r.glibcMin}' not found" on ${old.join(", ")}`,
        fix: "build on (or against a sysroot of) the oldest glibc you deploy to, or link statically",
      });
    }
  }
  if (
    r.hardening &&
    !r.hardening.nx &&
    (r.linkage === "dynamic" || r.linkage === "static" || r.linkage === "static-pie")
  ) {
    w.push({
      code: "EXECUTABLE_STACK",
      severity: "warning",
      message: "the stack is executable (no PT_GNU_STACK, or it has PF_X)",
      fix: "link with -z noexecstack (and find the object that asks for an executable stack)",
    });
  }
  for (const p of [...r.rpath, ...r.runpath]) {
    if (p !== "" && !p.startsWith("/") && !p.startsWith("$ORIGIN") && !p.startsWith("$" + "{ORIGIN}")) {
      w.push({
        code: "RELATIVE_RPATH",
        severity: "warning",
        message: `search path "${p}" is relative to the working directory, not to the binary`,
        fix: "use $ORIGIN-relative or absolute paths in -rpath",
      });
    }
  }
  if (
    r.debug &&
    r.size &&
    r.stripSavings !== null &&
    r.stripSavings >= MB &&
    r.stripSavings / r.size >= 0.2
  ) {
    const pct = Math.round((100 * r.stripSavings) / r.size);
    w.push({
      code: "DEBUG_SHIPPED",
      severity: "warning",
      message: `${(r.stripSavings / MB).toFixed(1)} MiB (${pct}%) of the file is symbols and debug info`,
      fix: isGo
        ? "build with -ldflags='-s -w' (or keep debug info in a separate artifact)"
        : "strip --strip-all (keep a debug copy with objcopy --only-keep-debug)",
    });
  }
  return w;
}
