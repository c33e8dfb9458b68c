import { archName, OSABI_NAMES } from "../elf/constants.js";
import { readElf } from "../elf/elf-file.js";
import { elfTypeName, isElf } from "../elf/header.js";
import { ZerodepError } from "../errors.js";
import { type ByteSource, FileSource } from "../io/reader.js";
import {
  abiTag,
  classifyLinkage,
  computeHardening,
  debugInfo,
  detectLibc,
  glibcFloor,
  glibcFloorSymbols,
  platformVariant,
  sectionTable,
  stripSavings,
  toolchain,
} from "./elf-facts.js";
import { readGoInfo } from "./go-facts.js";
import { inspectMacho, inspectPe, sniffFormat } from "./other-formats.js";
import { emptyResult, type InspectResult } from "./types.js";
import { deploymentWarnings } from "./warnings.js";

/** Inspect one file on disk. Never throws for bad input: problems land in `error`/`errorCode`. */
export async function inspectFile(path: string): Promise<InspectResult> {
  let src: FileSource;
  try {
    src = FileSource.open(path);
  } catch (err) {
    return withError(emptyResult(path), err);
  }
  try {
    return await inspectSource(src, path);
  } finally {
    src.closeNow();
  }
}

/** Inspect bytes from any ByteSource (a file, memory, an entry of an image layer). */
export async function inspectSource(src: ByteSource, path = src.name): Promise<InspectResult> {
  const r = emptyResult(path);
  r.size = src.size;
  try {
    const head = await src.read(0, Math.min(src.size, 64));
    const fmt = sniffFormat(head);
    if (fmt === "elf") await inspectElf(src, r);
    else if (fmt === "pe") await inspectPe(src, r);
    else if (fmt === "macho" || fmt === "macho-fat") await inspectMacho(src, r, fmt === "macho-fat");
    else return r;
    r.warnings = [...deploymentWarnings(r), ...r.warnings];
  } catch (err) {
    withError(r, err);
  }
  return r;
}

function withError(r: InspectResult, err: unknown): InspectResult {
  if (err instanceof ZerodepError) {
    r.error = err.message;
    r.errorCode = err.code;
  } else if (
    err &&
    typeof err === "object" &&
    "code" in err &&
    typeof (err as { code: unknown }).code === "string"
  ) {
    r.error = `${r.path}: ${String((err as { message?: unknown }).message)}`;
    r.errorCode = (err as { code: string }).code;
  } else {
    // A bug of ours on odd input: report it as such rather than hide it (the fuzz test asserts none).
    r.error = `${r.path}: internal error while parsing (please report): ${String(err)}`;
    r.errorCode = "INTERNAL";
  }
  return r;
}

async function inspectElf(src: ByteSource, r: InspectResult): Promise<void> {
  if (!isElf(await src.read(0, 4))) return;
  r.format = "elf";
  const elf = await readElf(src);
  const h = elf.header;
  r.elf = { class: h.class, endian: h.endian, type: elfTypeName(h.type), machine: h.machine, osabi: h.osabi };
  r.arch = archName(h.machine, h.class === 64, h.endian === "little");
  r.interpreter = elf.interpreter;
  r.needed = elf.needed;
  r.soname = elf.soname;
  r.rpath = elf.rpath;
  r.runpath = elf.runpath;
  r.linkage = classifyLinkage(elf);
  r.go = await readGoInfo(src, elf.layout, r.warnings);
  const isGo = r.go !== null;
  r.libc = await detectLibc(elf, r.linkage, isGo);
  r.glibcMin = glibcFloor(elf);
  r.glibcMinSymbols = await glibcFloorSymbols(elf, r.glibcMin);
  if (h.type === 2 || h.type === 3) r.hardening = await computeHardening(elf, r.linkage, r.libc, isGo);
  r.stripped = !elf.sections.some((s) => s.type === 2);
  r.debug = await debugInfo(elf);
  r.sections = sectionTable(elf);
  r.stripSavings = stripSavings(elf);
  r.toolchain = await toolchain(elf);

  // OS: explicit OS/ABI byte, then the GNU ABI tag, then Go's GOOS, then the interpreter; else Linux,
  // since SYSV (0) is what Linux toolchains write.
  const tag = await abiTag(elf);
  let os = OSABI_NAMES[h.osabi];
  if (os === "sysv" || os === undefined) {
    if (tag) os = tag.os;
    else if (r.go?.settings["GOOS"]) os = r.go.settings["GOOS"];
    else if (elf.interpreter?.includes("ld-elf.so")) os = "freebsd";
    else os = "linux";
  }
  r.os = os;
  r.variant = await platformVariant(elf, r.arch, r.go?.settings ?? {});
  if (elf.problems.length > 0) {
    for (const p of elf.problems)
      r.warnings.push({
        code: "CORRUPT_METADATA",
        severity: "warning",
        message: p,
        fix: "rebuild the binary",
      });
  }
}
