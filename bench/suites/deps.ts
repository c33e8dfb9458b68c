// deps: one `zerodep deps --json` call over every dynamically linked ELF executable in /usr/bin (the CLI
// shares one LibraryCache across the binaries, so each library is parsed once) against lddtree
// (pax-utils, Python + pyelftools), the tool it stands in for, also given all the files in one call:
// both pay start-up once, so the ratio compares the resolvers, not interpreter start-up. lddtree's
// per-file invocation cost (what a `for f; do lddtree "$f"; done` user pays) is timed separately on a
// small sample and only reported. Both sides' warm-up output is kept in bench/out/ and the libraries
// each resolved are counted per binary, so a fast run that resolves less cannot pass unseen.
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  type BenchContext,
  type SuiteReport,
  skipMessage,
  timingProblems,
  verdict,
} from "../internal/context.js";
import { listElfFiles, pickByStride } from "../internal/elf-files.js";
import { findTool, type Timing, timeCommand, toolVersion } from "../internal/measure.js";
import { formatRatio } from "../internal/table.js";

export const DEPS_ROOT = "/usr/bin";
/** lddtree's `#!/usr/bin/env python3` may find a python3 without pyelftools first on PATH (pyenv). */
const SYSTEM_PYTHON = "/usr/bin/python3";
const TARGET_SPEEDUP = 10;
const PER_FILE_SAMPLE = 20;

export function benchDeps(ctx: BenchContext, root: string = DEPS_ROOT): SuiteReport {
  const elves = listElfFiles([root]);
  const files = elves.filter(hasInterpreter);
  const listPath = join(ctx.outDir, "deps-files.txt");
  writeFileSync(listPath, files.join("\n") + "\n");
  const report: SuiteReport = {
    name: "deps",
    title: `deps: ${files.length} dynamically linked ELF executables (PT_INTERP) of ${elves.length} ELF files under ${root}, one call each, median of ${ctx.runs}`,
    header: ["command", "files", "median ms", "min ms", "max ms", "ms/file", "libraries", "exit"],
    rows: [],
    notes: [`file list: ${listPath}`],
    skipped: [],
    data: { root, elfFiles: elves.length, files: files.length, targetSpeedup: TARGET_SPEEDUP },
  };
  if (files.length === 0) {
    report.skipped.push(`SKIPPED deps: no ELF file with a PT_INTERP under ${root}`);
    return report;
  }

  const zdOut = join(ctx.outDir, "deps-zerodep.jsonl");
  ctx.log(`deps: zerodep deps --json <${files.length} files> (1 warm-up + ${ctx.runs} runs)`);
  const zd = timeCommand(
    { label: "zerodep deps --json (one call)", argv: [...ctx.zerodep, "deps", "--json", ...files] },
    { runs: ctx.runs, timeoutMs: ctx.timeoutMs, warmupStdoutPath: zdOut },
  );
  const zdRes = readZerodep(zdOut, files);
  report.rows.push(row(zd, files.length, zdRes.libraries));
  report.notes.push(...timingProblems(zd));
  if (zd.exitCode === 1) report.notes.push("  (1 = some binary has a library that does not resolve)");
  const jsonOk = zdRes.lines === files.length && zdRes.badLines === 0 && zdRes.outOfOrder === 0;
  report.notes.push(
    `${jsonOk ? "" : "!!! "}zerodep output: ${zdRes.lines} JSON lines for ${files.length} binaries` +
      ` (${zdRes.badLines} unparsable, ${zdRes.outOfOrder} not matching their argument, ${zdRes.errors} error entries)` +
      (zdRes.lines === 0 ? ` — none at all in ${zdOut}: was dist/ rebuilt mid-run?` : ""),
  );
  report.data["zerodep"] = {
    ...zd,
    jsonLines: zdRes.lines,
    badLines: zdRes.badLines,
    outOfOrder: zdRes.outOfOrder,
    errorEntries: zdRes.errors,
    libraries: zdRes.libraries,
    interpreters: zdRes.interpreters,
    missing: zdRes.missing,
  };

  const lddtree = findTool("lddtree", ctx.env["PATH"]);
  const python = findTool(SYSTEM_PYTHON, undefined);
  if (!lddtree || !python) {
    report.skipped.push(
      lddtree
        ? `SKIPPED lddtree comparison: ${SYSTEM_PYTHON} not found (lddtree needs the system Python with pyelftools)`
        : skipMessage("lddtree comparison", "lddtree", "apt-get install pax-utils python3-pyelftools"),
    );
    return report;
  }
  // lddtree expands each argument as a glob: escape [ * ? as Python's glob.escape does.
  const ltArgs = files.map(globEscape);
  const ltOut = join(ctx.outDir, "deps-lddtree.txt");
  ctx.log(`deps: ${python} ${lddtree} <${files.length} files> (1 warm-up + ${ctx.runs} runs)`);
  const lt = timeCommand(
    { label: "lddtree (one call)", argv: [python, lddtree, ...ltArgs] },
    { runs: ctx.runs, timeoutMs: ctx.timeoutMs, warmupStdoutPath: ltOut },
  );
  const ltRes = readLddtree(ltOut);
  report.rows.push(row(lt, files.length, ltRes.objects));
  report.notes.push(...timingProblems(lt));

  const few = pickByStride(files, PER_FILE_SAMPLE);
  ctx.log(`deps: for f in <${few.length} of the files>; do ${python} ${lddtree} "$f"; done`);
  const loop = timeCommand(
    {
      label: `for f; do lddtree "$f"; done (${few.length} files)`,
      argv: ["bash", "-c", `for f; do "$PY" "$TOOL" "$f"; done`, "bench", ...few.map(globEscape)],
      env: { ...ctx.env, PY: python, TOOL: lddtree },
    },
    { runs: ctx.runs, timeoutMs: ctx.timeoutMs },
  );
  report.rows.push(row(loop, few.length, null));
  report.notes.push(...timingProblems(loop));

  const speedup = lt.medianMs / zd.medianMs;
  const perFileMs = loop.medianMs / few.length;
  const perBinary = compareCounts(zdRes.perFile, ltRes.perFile);
  report.notes.push(
    `speedup lddtree/zerodep = ${formatRatio(speedup)} faster  (target ≥ ${TARGET_SPEEDUP}×: ${verdict(speedup >= TARGET_SPEEDUP, zd, lt)})`,
    `libraries resolved: zerodep ${zdRes.libraries} (libraries[] entries, ${zdRes.interpreters} of them the interpreter), ` +
      `lddtree ${ltRes.objects} (${ltRes.lines} \`name => path\` lines + ${ltRes.interpreters} interpreters from the header lines ` +
      `− ${ltRes.interpInNeeded} interpreters also listed as a DT_NEEDED line): ` +
      (zdRes.libraries === ltRes.objects
        ? "same total"
        : `!!! totals differ by ${zdRes.libraries - ltRes.objects}`) +
      `; ${perBinary.differ.length} binaries differ in count` +
      (perBinary.differ.length > 0 ? ` (e.g. ${perBinary.differ.slice(0, 3).join(", ")})` : "") +
      (perBinary.onlyOneSide > 0 ? `, ${perBinary.onlyOneSide} reported by one tool only` : ""),
    `not found: zerodep ${zdRes.missing}, lddtree ${ltRes.missing} (\`name => None\` lines)`,
    `lddtree per-file invocation (not used for the target): ${perFileMs.toFixed(0)} ms/file on ${few.length} files ` +
      `spread over the list (Python start-up, pyelftools import, ld.so.conf parse each time) ≈ ` +
      `${((perFileMs * files.length) / 1000).toFixed(1)} s for all ${files.length}, ` +
      `vs ${(lt.medianMs / files.length).toFixed(1)} ms/file in one call`,
  );
  report.data["lddtree"] = {
    ...lt,
    version: toolVersion(["dpkg-query", "-W", "pax-utils"]),
    python: toolVersion([python, "--version"]),
    libraries: ltRes.objects,
    nameLines: ltRes.lines,
    interpreters: ltRes.interpreters,
    interpInNeeded: ltRes.interpInNeeded,
    missing: ltRes.missing,
    binaries: ltRes.perFile.size,
  };
  report.data["lddtreePerFile"] = {
    ...loop,
    files: few.length,
    msPerFile: Math.round(perFileMs * 10) / 10,
    scaledMs: Math.round(perFileMs * files.length),
  };
  report.data["speedup"] = Math.round(speedup * 1000) / 1000;
  report.data["binariesDiffering"] = perBinary.differ.slice(0, 50);
  return report;
}

function row(t: Timing, files: number, libraries: number | null) {
  return [
    t.label,
    files,
    t.medianMs,
    t.minMs,
    t.maxMs,
    Math.round((t.medianMs / files) * 100) / 100,
    libraries,
    t.exitCode,
  ];
}

const PT_INTERP = 3;

/** Whether the ELF file has a PT_INTERP program header (a dynamically linked executable). */
function hasInterpreter(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const eh = Buffer.alloc(64);
    if (readSync(fd, eh, 0, 64, 0) < 52) return false;
    const is64 = eh[4] === 2;
    const le = eh[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? eh.readBigUInt64LE(32) : eh.readBigUInt64BE(32)) : u32(eh, 28);
    const phentsize = u16(eh, is64 ? 54 : 42);
    const phnum = u16(eh, is64 ? 56 : 44);
    if (phoff === 0 || phnum === 0 || phentsize < 4) return false;
    const ph = Buffer.alloc(phentsize * phnum);
    const got = readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; (i + 1) * phentsize <= got; i++) if (u32(ph, i * phentsize) === PT_INTERP) return true;
    return false;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Python's glob.escape: each of [ * ? becomes a one-character class. */
function globEscape(path: string): string {
  return path.replace(/[[*?]/g, (c) => `[${c}]`);
}

interface ZerodepLine {
  file?: string;
  error?: unknown;
  libraries?: { via: string }[];
  tree?: DepNodeLike;
}
interface DepNodeLike {
  name: string;
  path: string | null;
  via: string | null;
  alreadyLoaded?: boolean;
  children: DepNodeLike[];
}

/** JSON Lines of `deps --json`: one line per argument, in order; libraries[] counted per binary. */
function readZerodep(file: string, files: string[]) {
  const perFile = new Map<string, number>();
  let lines = 0;
  let badLines = 0;
  let outOfOrder = 0;
  let errors = 0;
  let libraries = 0;
  let interpreters = 0;
  let missing = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    const i = lines++;
    let r: ZerodepLine;
    try {
      r = JSON.parse(line) as ZerodepLine;
    } catch {
      badLines++;
      continue;
    }
    if (r.file !== files[i]) outOfOrder++;
    if (r.error !== undefined || !Array.isArray(r.libraries)) {
      errors++;
      continue;
    }
    libraries += r.libraries.length;
    interpreters += r.libraries.filter((l) => l.via === "interpreter").length;
    if (r.tree) missing += missingNames(r.tree).size;
    if (r.file !== undefined) perFile.set(r.file, r.libraries.length);
  }
  return { lines, badLines, outOfOrder, errors, libraries, interpreters, missing, perFile };
}

function missingNames(n: DepNodeLike, out = new Set<string>()): Set<string> {
  for (const c of n.children) {
    if (c.path === null && c.via !== "interpreter") out.add(c.name);
    if (!c.alreadyLoaded) missingNames(c, out);
  }
  return out;
}

/**
 * lddtree's default output: a header `FILE (interpreter => PATH)` per binary, then one indented
 * `name => path` line per library, each name once per binary; `=> None` is not found, and a
 * `=> !!! circular loop !!!` line is not a library. The interpreter is on the header line and again as
 * a `name => path` line only when the binary names it in DT_NEEDED; it counts once, as in zerodep's
 * libraries[].
 */
function readLddtree(file: string) {
  const perFile = new Map<string, number>();
  let lines = 0;
  let interpreters = 0;
  let interpInNeeded = 0;
  let missing = 0;
  let cur: { file: string; interp: string | null; names: Set<string> } | null = null;
  const close = () => {
    if (!cur) return;
    const interpListed = cur.interp !== null && cur.names.has(basename(cur.interp));
    if (interpListed) interpInNeeded++;
    perFile.set(cur.file, cur.names.size + (cur.interp !== null && !interpListed ? 1 : 0));
  };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const h = /^(\S.*) \(interpreter => (.*)\)$/.exec(line);
    if (h) {
      close();
      const interp = h[2] === "None" ? null : h[2]!;
      if (interp !== null) interpreters++;
      cur = { file: h[1]!, interp, names: new Set() };
      continue;
    }
    const m = /^\s+(\S+) => (.*)$/.exec(line);
    if (!m || !cur || m[2] === "!!! circular loop !!!") continue;
    if (m[2] === "None") missing++;
    else {
      lines++;
      cur.names.add(m[1]!);
    }
  }
  close();
  const objects = [...perFile.values()].reduce((a, b) => a + b, 0);
  return { perFile, lines, interpreters, interpInNeeded, missing, objects };
}

/** Binaries whose library counts differ between the tools, and those only one tool reported. */
function compareCounts(zd: Map<string, number>, lt: Map<string, number>) {
  const differ: string[] = [];
  let onlyOneSide = 0;
  for (const [f, n] of zd) {
    const m = lt.get(f);
    if (m === undefined) onlyOneSide++;
    else if (m !== n) differ.push(`${f} ${n} vs ${m}`);
  }
  for (const f of lt.keys()) if (!zd.has(f)) onlyOneSide++;
  return { differ, onlyOneSide };
}
