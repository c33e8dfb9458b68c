// scan: `zerodep scan` over the system trees against `scanelf -R` (pax-utils), the tool it stands in
// for. Both start with a warm page cache (one untimed run each); the warm-up runs' output is kept in
// bench/out/ to count the ELF files each tool found, so a fast run that skips files cannot pass unseen.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BenchContext,
  type SuiteReport,
  skipMessage,
  timingProblems,
  verdict,
} from "../internal/context.js";
import { findTool, type Timing, timeCommand, timeInterleaved, toolVersion } from "../internal/measure.js";
import { formatRatio } from "../internal/table.js";

export const SCAN_ROOTS = ["/usr/bin", "/usr/lib", "/usr/libexec", "/usr/sbin"];
const TARGET_RATIO = 1.5;

export function benchScan(ctx: BenchContext, roots: string[] = SCAN_ROOTS): SuiteReport {
  const report: SuiteReport = {
    name: "scan",
    title: `scan: ${roots.join(" ")} (warm cache, runs alternating with scanelf, median of ${ctx.runs})`,
    header: ["command", "median ms", "min ms", "max ms", "ELF files", "exit"],
    rows: [],
    notes: [],
    skipped: [],
    data: { roots, targetRatio: TARGET_RATIO },
  };

  const zdOut = join(ctx.outDir, "scan-zerodep.jsonl");
  const seOut = join(ctx.outDir, "scan-scanelf.txt");
  const zdCmd = { label: "zerodep scan --json", argv: [...ctx.zerodep, "scan", ...roots, "--json"] };
  const scanelf = findTool("scanelf", ctx.env["PATH"]);
  // With scanelf present, the two alternate run by run (see timeInterleaved): this VM's speed
  // drifts by ±20 % over minutes, which a ratio of two medians taken apart would carry.
  let zd: Timing;
  let se: Timing | null = null;
  let ratios: number[] = [];
  let ratio = Number.NaN;
  if (scanelf) {
    ctx.log(
      `scan: zerodep scan ${roots.join(" ")} --json and scanelf -RBF '%o %n %i', alternating (1 warm-up + ${ctx.runs} rounds)`,
    );
    const t = timeInterleaved(
      [zdCmd, { label: "scanelf -RBF '%o %n %i'", argv: [scanelf, "-RBF", "%o %n %i", ...roots] }],
      { runs: ctx.runs, timeoutMs: ctx.timeoutMs, warmupStdoutPaths: [zdOut, seOut] },
    );
    [zd, se] = t.timings as [Timing, Timing];
    ratios = t.ratios;
    ratio = t.ratioMedian ?? Number.NaN;
  } else {
    ctx.log(`scan: zerodep scan ${roots.join(" ")} --json (1 warm-up + ${ctx.runs} runs)`);
    zd = timeCommand(zdCmd, { runs: ctx.runs, timeoutMs: ctx.timeoutMs, warmupStdoutPath: zdOut });
  }
  const zdFound = readZerodepPaths(zdOut);
  report.rows.push(row(zd, zdFound.elf.size));
  report.data["zerodep"] = {
    ...zd,
    elfFiles: zdFound.elf.size,
    otherFormats: zdFound.other,
    errors: zdFound.errors,
  };
  report.notes.push(...timingProblems(zd));
  if (zd.exitCode === 3)
    report.notes.push(`  (3 = some file could not be read or parsed: ${zdFound.errors} error entries)`);
  if (zdFound.elf.size === 0) {
    report.notes.push(
      `!!! zerodep reported no ELF files in its warm-up run (${zdOut}): was dist/ rebuilt mid-run?`,
    );
  }
  const others = Object.entries(zdFound.other).map(([f, n]) => `${n} ${f}`);
  if (others.length > 0) report.notes.push(`zerodep also found ${others.join(", ")} (not counted above)`);

  if (!scanelf || !se) {
    report.skipped.push(skipMessage("scan comparison", "scanelf", "apt-get install pax-utils"));
    return report;
  }
  const sePaths = readScanelfPaths(seOut, roots);
  report.rows.push(row(se, sePaths.size));
  report.notes.push(...timingProblems(se));

  const onlyZd = [...zdFound.elf].filter((p) => !sePaths.has(p));
  const onlySe = [...sePaths].filter((p) => !zdFound.elf.has(p));
  report.notes.push(
    `ratio zerodep/scanelf = ${formatRatio(ratio)}, the median of the ${ratios.length} rounds' ratios ` +
      `(${ratios.map((r) => r.toFixed(2)).join(" ")}); ratio of medians ${formatRatio(zd.medianMs / se.medianMs)}` +
      `  (target ≤ ${TARGET_RATIO}×: ${verdict(ratio <= TARGET_RATIO, zd, se)})`,
    `ELF files found: zerodep ${zdFound.elf.size}, scanelf ${sePaths.size}; ` +
      `only zerodep ${onlyZd.length}, only scanelf ${onlySe.length}` +
      (onlyZd.length + onlySe.length > 0 ? ` (e.g. ${[...onlyZd, ...onlySe].slice(0, 3).join(", ")})` : ""),
  );
  report.data["scanelf"] = {
    ...se,
    version: toolVersion([scanelf, "-V"]),
    elfFiles: sePaths.size,
  };
  report.data["ratios"] = ratios;
  report.data["ratio"] = Math.round(ratio * 1000) / 1000;
  report.data["onlyZerodep"] = onlyZd.slice(0, 50);
  report.data["onlyScanelf"] = onlySe.slice(0, 50);
  return report;
}

function row(t: Timing, elfFiles: number) {
  return [t.label, t.medianMs, t.minMs, t.maxMs, elfFiles, t.exitCode];
}

/** Paths of ELF results (JSON Lines of inspect objects), plus counts of other formats and errors. */
function readZerodepPaths(file: string): { elf: Set<string>; other: Record<string, number>; errors: number } {
  const elf = new Set<string>();
  const other: Record<string, number> = {};
  let errors = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    const r = JSON.parse(line) as { path?: string; format?: string; error?: unknown };
    if (r.error) errors++;
    else if (r.format === "elf" && r.path) elf.add(r.path);
    else other[r.format ?? "unknown"] = (other[r.format ?? "unknown"] ?? 0) + 1;
  }
  return { elf, other, errors };
}

/**
 * Paths from `scanelf -F '%o %n %i'` lines: the file name is the last field, but a field may hold raw
 * bytes — scanelf prints a corrupt PT_INTERP of a .debug file verbatim, newline included — so a line
 * counts only if it ends in a path under one of the roots.
 */
function readScanelfPaths(file: string, roots: string[]): Set<string> {
  const paths = new Set<string>();
  for (const line of readFileSync(file, "latin1").split("\n")) {
    let at = -1;
    for (const root of roots) at = Math.max(at, line.lastIndexOf(` ${root}/`));
    if (at >= 0) paths.add(Buffer.from(line.slice(at + 1), "latin1").toString("utf8"));
  }
  return paths;
}
