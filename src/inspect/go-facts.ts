import type { BinaryLayout } from "../binary/layout.js";
import { ParseError } from "../errors.js";
import { readGoBuildInfo } from "../go/build-info.js";
import { goVersionFromBinary } from "../go/pclntab.js";
import type { ByteSource } from "../io/reader.js";
import type { GoInfo, Warning } from "./types.js";

/**
 * Sections the Go linker always writes into ELF files. With section headers present and none of
 * these, the file is not Go and we skip the (bounded, but not free) search of its data segment:
 * that keeps `scan` of a system's libraries fast.
 */
export const GO_ELF_SECTIONS: ReadonlySet<string> = new Set([
  ".go.buildinfo",
  ".gopclntab",
  ".data.rel.ro.gopclntab",
  ".note.go.buildid",
  ".gosymtab",
]);

/**
 * Go facts of one image: the build info blob (what `go version -m` prints) or, when it was removed,
 * the version from runtime.buildVersion / the pclntab format. A corrupt blob is reported as a warning,
 * the other facts of the file stay valid.
 */
export async function readGoInfo(
  src: ByteSource,
  layout: BinaryLayout,
  warnings: Warning[],
): Promise<GoInfo | null> {
  if (
    layout.format === "elf" &&
    layout.sections.length > 0 &&
    !layout.sections.some((s) => GO_ELF_SECTIONS.has(s.name))
  ) {
    return null;
  }
  try {
    const bi = await readGoBuildInfo(src, layout);
    if (bi) {
      return {
        version: bi.version,
        versionRange: null,
        source: "buildinfo",
        path: bi.path,
        // go version -m prints no "mod" line when the main module is all empty (the toolchain's
        // own programs): null says the same.
        main:
          bi.main.path === "" && bi.main.version === "" && bi.main.sum === "" && !bi.main.replace
            ? null
            : bi.main,
        deps: bi.deps,
        settings: bi.settings,
      };
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    warnings.push({
      code: "CORRUPT_GO_BUILDINFO",
      severity: "warning",
      message: err.message,
      fix: "rebuild the binary",
    });
  }
  const v = await goVersionFromBinary(src, layout);
  if (!v) return null;
  return {
    version: v.version,
    versionRange: v.range,
    source:
      v.source === "version-string" ? "version-string" : v.source === "pclntab" ? "pclntab" : "buildinfo",
    path: null,
    main: null,
    deps: [],
    settings: {},
  };
}
