import { archName } from "../elf/constants.js";
import { readElf } from "../elf/elf-file.js";
import { elfTypeName } from "../elf/header.js";
import { ZerodepError } from "../errors.js";
import { factKey } from "../image/facts.js";
import { classifyLinkage, sectionTable, stripSavings } from "../inspect/elf-facts.js";
import { readGoInfo } from "../inspect/go-facts.js";
import type { Linkage, SectionSize, Warning } from "../inspect/types.js";
import type { ByteSource } from "../io/reader.js";
import { type GoSizeReport, goSizeByPackage } from "./go-size.js";

/** What the analysis records for every ELF file of the final tree (a subset of `inspect`). */
export interface ElfAudit {
  arch: string | null;
  type: string;
  linkage: Linkage | null;
  interpreter: string | null;
  needed: string[];
  soname: string | null;
  stripped: boolean;
  /** Bytes `strip` would remove (symbols and debug sections). */
  stripSavings: number;
  /** Go toolchain version and main module, for Go programs. */
  go: { version: string | null; path: string | null; mainModule: string | null } | null;
  /** Go programs only: code by package and file bytes by section. */
  goSize?: GoSizeReport | null;
  sections?: SectionSize[];
  /** Set when the file looked like ELF but could not be parsed. */
  error?: string;
}

/**
 * Reads the linkage facts of one ELF file (already in memory or any ByteSource). The cheap subset of
 * inspect — no symbol tables — so that auditing thousands of libraries stays close to the cost of
 * reading them; Go programs also get their size by package and by section.
 */
export async function auditElf(src: ByteSource): Promise<ElfAudit> {
  try {
    const elf = await readElf(src);
    const h = elf.header;
    const warnings: Warning[] = [];
    const go = await readGoInfo(src, elf.layout, warnings);
    const a: ElfAudit = {
      arch: archName(h.machine, h.class === 64, h.endian === "little"),
      type: elfTypeName(h.type),
      linkage: classifyLinkage(elf),
      interpreter: elf.interpreter,
      needed: elf.needed,
      soname: elf.soname,
      stripped: !elf.sections.some((s) => s.type === 2),
      stripSavings: stripSavings(elf),
      go: go ? { version: go.version, path: go.path, mainModule: go.main?.path ?? null } : null,
    };
    if (go && a.linkage !== "shared-library") {
      a.sections = sectionTable(elf);
      try {
        a.goSize = await goSizeByPackage(src, elf.layout, go.main?.path ?? null);
      } catch (e) {
        if (!(e instanceof ZerodepError)) throw e;
        a.goSize = null;
      }
    }
    return a;
  } catch (e) {
    if (!(e instanceof ZerodepError)) throw e;
    return elfAuditError(e.message);
  }
}

/** The record of an ELF file that could not (or would not) be parsed. */
export function elfAuditError(message: string): ElfAudit {
  return {
    arch: null,
    type: "unknown",
    linkage: null,
    interpreter: null,
    needed: [],
    soname: null,
    stripped: false,
    stripSavings: 0,
    go: null,
    error: message,
  };
}

/** ELF facts of a file, recorded by analyze's ELF visitor during the indexing pass. */
export const ELF_AUDIT = factKey<ElfAudit>("elf-audit");
