// inspect: one `zerodep inspect --json` call over a fixed sample of ELF files against the shell loops a
// user would otherwise write: `readelf -d` per file (binutils; the target is to beat it), and
// `checksec --file` per file (a bash script that forks several tools per file, so it is timed on the
// first 50 files only and scaled; zerodep is also timed on those same 50 for an unscaled ratio).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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

export const INSPECT_ROOTS = ["/usr/bin", "/usr/lib/x86_64-linux-gnu"];
const SAMPLE = 500;
const CHECKSEC_SAMPLE = 50;

export function benchInspect(ctx: BenchContext, roots: string[] = INSPECT_ROOTS): SuiteReport {
  const all = listElfFiles(roots);
  const files = pickByStride(all, SAMPLE);
  writeFileSync(join(ctx.outDir, "inspect-files.txt"), files.join("\n") + "\n");
  const report: SuiteReport = {
    name: "inspect",
    title: `inspect: ${files.length} ELF files (every ${(all.length / files.length).toFixed(1)}th of ${all.length} under ${roots.join(" ")}), median of ${ctx.runs}`,
    header: [
      "command",
      "files",
      "median ms",
      "ms/file",
      `scaled to ${files.length} ms`,
      "zerodep/this",
      "exit",
    ],
    rows: [],
    notes: [`sample list: ${join(ctx.outDir, "inspect-files.txt")}`],
    skipped: [],
    data: { roots, candidates: all.length, sampled: files.length },
  };
  if (files.length === 0) {
    report.skipped.push(`SKIPPED inspect: no ELF files under ${roots.join(" ")}`);
    return report;
  }

  ctx.log(`inspect: zerodep inspect --json <${files.length} files>`);
  const zd = timeCommand(
    { label: "zerodep inspect --json", argv: [...ctx.zerodep, "inspect", "--json", ...files] },
    { runs: ctx.runs, timeoutMs: ctx.timeoutMs },
  );
  report.rows.push(row(zd, files.length, null, null));
  report.data["zerodep"] = zd;
  report.notes.push(...timingProblems(zd));

  const readelf = findTool("readelf", ctx.env["PATH"]);
  if (!readelf) {
    report.skipped.push(skipMessage("readelf loop", "readelf", "apt-get install binutils"));
  } else {
    ctx.log(`inspect: for f in <${files.length} files>; do readelf -d "$f"; done`);
    const re = timeCommand(shellLoop(ctx, "readelf", readelf, files), {
      runs: ctx.runs,
      timeoutMs: ctx.timeoutMs,
    });
    const ratio = zd.medianMs / re.medianMs;
    report.rows.push(row(re, files.length, null, ratio));
    report.notes.push(...timingProblems(re));
    report.notes.push(
      `zerodep/readelf-loop = ${formatRatio(ratio)}  (target < 1×, faster than the readelf loop: ${verdict(ratio < 1, zd, re)})`,
    );
    report.data["readelfLoop"] = {
      ...re,
      version: toolVersion([readelf, "--version"]),
      ratio: round3(ratio),
    };
  }

  const checksec = findTool("checksec", ctx.env["PATH"]);
  if (!checksec) {
    report.skipped.push(skipMessage("checksec loop", "checksec", "apt-get install checksec"));
  } else {
    const few = files.slice(0, CHECKSEC_SAMPLE);
    ctx.log(`inspect: for f in <first ${few.length} files>; do checksec --file="$f" --output=json; done`);
    const zdFew = timeCommand(
      {
        label: `zerodep inspect --json (first ${few.length})`,
        argv: [...ctx.zerodep, "inspect", "--json", ...few],
      },
      { runs: ctx.runs, timeoutMs: ctx.timeoutMs },
    );
    const cs = timeCommand(shellLoop(ctx, "checksec", checksec, few), {
      runs: ctx.runs,
      timeoutMs: ctx.timeoutMs,
    });
    const scaled = (cs.medianMs * files.length) / few.length;
    const ratioFew = zdFew.medianMs / cs.medianMs;
    report.rows.push(row(zdFew, few.length, null, null));
    report.rows.push(row(cs, few.length, files.length, zd.medianMs / scaled));
    report.notes.push(...timingProblems(zdFew), ...timingProblems(cs));
    report.notes.push(
      `checksec was timed on the first ${few.length} of the ${files.length} files only (it is slow) and its ` +
        `${files.length}-file time is scaled ×${files.length / few.length}: the ratio against it is an estimate`,
      `zerodep/checksec-loop on the same ${few.length} files = ${formatRatio(ratioFew)} (unscaled)`,
    );
    report.data["zerodepFirst"] = zdFew;
    report.data["checksecLoop"] = {
      ...cs,
      version: toolVersion([checksec, "--version"]),
      files: few.length,
      scaledMs: Math.round(scaled),
      ratioScaled: round3(zd.medianMs / scaled),
      ratioSameFiles: round3(ratioFew),
    };
  }
  return report;
}

const LOOPS = {
  readelf: { label: `for f; do readelf -d "$f"; done`, body: `"$TOOL" -d "$f"` },
  checksec: {
    label: `for f; do checksec --file="$f" --output=json; done`,
    body: `"$TOOL" --file="$f" --output=json`,
  },
} as const;

/** `bash -c 'for f; do "$TOOL" … "$f"; done' bench FILE...`: file names are arguments, never code. */
function shellLoop(ctx: BenchContext, kind: keyof typeof LOOPS, tool: string, files: string[]) {
  return {
    label: LOOPS[kind].label,
    argv: ["bash", "-c", `for f; do ${LOOPS[kind].body}; done`, "bench", ...files],
    env: { ...ctx.env, TOOL: tool },
  };
}

/** `sample` set: the row ran on fewer files and its time is scaled up to the full sample. */
function row(t: Timing, files: number, sample: number | null, zerodepOverThis: number | null) {
  const perFile = t.medianMs / files;
  return [
    t.label,
    files,
    t.medianMs,
    Math.round(perFile * 100) / 100,
    sample === null ? null : Math.round(perFile * sample),
    zerodepOverThis === null ? null : formatRatio(zerodepOverThis),
    t.exitCode,
  ];
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
