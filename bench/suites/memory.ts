// memory: peak RSS of `zerodep inspect --json` on binaries larger than 100 MB, measured from outside by
// GNU time (`/usr/bin/time -v`, "Maximum resident set size"), against the file's size and against the
// same command on a tiny binary (Node's own baseline). inspect reads headers and the parts it needs, so
// RSS should stay near the baseline however large the file is; reading it whole would show up here.
//
// The big binaries are built with the real toolchains into bench/out/memory/ and reused while their
// sources are unchanged: a Go program embedding 120 MiB of random bytes (go:embed, so the payload lands
// in .rodata next to Go's build info and pclntab, which inspect does read) and, when gcc is present, a
// C program pulling the same bytes in with `.incbin`. They are never run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchContext, type SuiteReport, skipMessage } from "../internal/context.js";
import { findTool, median, round1 } from "../internal/measure.js";
import { formatMiB } from "../internal/table.js";

const PAYLOAD_BYTES = 120 * 1024 * 1024;
const GO = "/usr/local/go/bin/go";
const SMALL_BINARY = "/usr/bin/true";

interface RssSample {
  rssKiB: number;
  wallMs: number;
  exitCode: number | null;
}

export function benchMemory(ctx: BenchContext): SuiteReport {
  const report: SuiteReport = {
    name: "memory",
    title: `memory: peak RSS of zerodep inspect --json (/usr/bin/time -v, median of ${ctx.runs})`,
    header: ["binary", "file size", "peak RSS", "RSS max", "RSS - baseline", "RSS / file", "wall ms", "exit"],
    rows: [],
    notes: [],
    skipped: [],
    data: { payloadBytes: PAYLOAD_BYTES },
  };
  const gnuTime = findTool("/usr/bin/time", ctx.env["PATH"]);
  if (!gnuTime) {
    report.skipped.push(skipMessage("memory", "/usr/bin/time", "apt-get install time"));
    return report;
  }

  const dir = join(ctx.outDir, "memory");
  mkdirSync(join(dir, "c"), { recursive: true });
  const payload = join(dir, "payload.bin");
  ensurePayload(ctx, payload);

  const targets: { label: string; path: string }[] = [];
  const go = findTool(GO, undefined) ?? findTool("go", ctx.env["PATH"]);
  if (go) targets.push({ label: "Go, 120 MiB go:embed", path: buildGo(ctx, go, dir) });
  else report.skipped.push(skipMessage("Go big binary", "go (/usr/local/go/bin/go)", "install Go"));
  const gcc = findTool("gcc", ctx.env["PATH"]);
  if (gcc) targets.push({ label: "C, 120 MiB .incbin", path: buildC(ctx, gcc, dir, payload) });
  else report.skipped.push(skipMessage("C big binary", "gcc", "apt-get install gcc"));
  if (targets.length === 0) return report;

  const baseline = measureRss(ctx, gnuTime, SMALL_BINARY);
  const baseKiB = median(baseline.map((s) => s.rssKiB));
  report.rows.push(row(`baseline: ${SMALL_BINARY}`, statSync(SMALL_BINARY).size, baseline, baseKiB, true));
  report.data["baseline"] = summarize(SMALL_BINARY, baseline);

  const measured: Record<string, unknown>[] = [];
  for (const t of targets) {
    ctx.log(`memory: /usr/bin/time -v zerodep inspect --json ${t.path}`);
    const samples = measureRss(ctx, gnuTime, t.path);
    const size = statSync(t.path).size;
    report.rows.push(row(t.label, size, samples, baseKiB));
    const rssBytes = median(samples.map((s) => s.rssKiB)) * 1024;
    report.notes.push(
      `${t.label}: peak RSS ${formatMiB(rssBytes)} for a ${formatMiB(size)} file = ${((100 * rssBytes) / size).toFixed(1)}%, ` +
        `${formatMiB(rssBytes - baseKiB * 1024)} above Node's baseline on a tiny binary ` +
        `(target: far below the file size: ${rssBytes < size / 2 ? "met" : "NOT met"})`,
    );
    measured.push({ label: t.label, ...summarize(t.path, samples), fileBytes: size });
  }
  report.data["binaries"] = measured;
  return report;
}

function measureRss(ctx: BenchContext, gnuTime: string, file: string): RssSample[] {
  const once = (): RssSample => {
    const r = spawnSync(gnuTime, ["-v", ...ctx.zerodep, "inspect", "--json", file], {
      stdio: ["ignore", "ignore", "pipe"],
      env: ctx.env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: ctx.timeoutMs,
      killSignal: "SIGKILL",
    });
    if (r.error) throw new Error(`bench: cannot run ${gnuTime}: ${r.error.message}`, { cause: r.error });
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    if (!rss) throw new Error(`bench: no "Maximum resident set size" in ${gnuTime} -v output:\n${r.stderr}`);
    return { rssKiB: Number(rss[1]), wallMs: parseElapsed(r.stderr), exitCode: r.status };
  };
  once(); // warm-up: page cache and the compiled-code cache of Node, as in the timing suites
  return Array.from({ length: ctx.runs }, once);
}

/** "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:00.20" → milliseconds. */
function parseElapsed(text: string): number {
  const m = /Elapsed \(wall clock\) time \([^)]*\): (?:(\d+):)?(\d+):([\d.]+)/.exec(text);
  if (!m) return Number.NaN;
  return round1(((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000);
}

function row(label: string, size: number, samples: RssSample[], baseKiB: number, isBaseline = false) {
  const rssKiB = median(samples.map((s) => s.rssKiB));
  return [
    label,
    size < 1024 * 1024 ? `${(size / 1024).toFixed(1)} KiB` : formatMiB(size),
    formatMiB(rssKiB * 1024),
    formatMiB(Math.max(...samples.map((s) => s.rssKiB)) * 1024),
    formatMiB((rssKiB - baseKiB) * 1024),
    isBaseline ? null : `${((100 * rssKiB * 1024) / size).toFixed(1)}%`,
    median(samples.map((s) => s.wallMs)),
    samples.at(-1)?.exitCode ?? null,
  ];
}

function summarize(path: string, samples: RssSample[]) {
  return {
    path,
    peakRssKiB: samples.map((s) => s.rssKiB),
    medianPeakRssKiB: median(samples.map((s) => s.rssKiB)),
    wallMs: samples.map((s) => s.wallMs),
    exitCode: samples.at(-1)?.exitCode ?? null,
  };
}

/** Random, so neither the toolchain nor the file system can shrink it; kept between runs. */
function ensurePayload(ctx: BenchContext, path: string): void {
  if (existsSync(path) && statSync(path).size === PAYLOAD_BYTES) return;
  ctx.log(`memory: writing ${formatMiB(PAYLOAD_BYTES)} of /dev/urandom to ${path}`);
  const r = spawnSync("sh", ["-c", `head -c ${PAYLOAD_BYTES} /dev/urandom > "$1"`, "sh", path], {
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error(`bench: could not write ${path} (head -c exited ${r.status})`);
}

const GO_MOD = "module zerodep.bench/big\n\ngo 1.22\n";
const GO_MAIN = `package main

import (
	_ "embed"
	"fmt"
)

//go:embed payload.bin
var payload []byte

func main() { fmt.Println(len(payload)) }
`;

function buildGo(ctx: BenchContext, go: string, dir: string): string {
  const out = join(dir, "big-go");
  const changed = [
    writeIfChanged(join(dir, "go.mod"), GO_MOD),
    writeIfChanged(join(dir, "main.go"), GO_MAIN),
  ];
  if (!changed.some(Boolean) && isNewer(out, join(dir, "payload.bin"))) return out;
  ctx.log(`memory: ${go} build -o ${out}`);
  // CGO off for a static binary; GOTOOLCHAIN=local and GOPROXY=off so the build never downloads.
  const env = { ...ctx.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOPROXY: "off" };
  const r = spawnSync(go, ["build", "-trimpath", "-o", out, "."], { cwd: dir, env, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`bench: go build in ${dir} exited ${r.status}`);
  return out;
}

function buildC(ctx: BenchContext, gcc: string, dir: string, payload: string): string {
  const out = join(dir, "c", "big-c");
  // The payload goes in its own allocated, read-only section, as a resource blob would.
  const source = `// Generated by bench/suites/memory.ts: a C binary with ${PAYLOAD_BYTES} bytes of payload.
__asm__(".section .rodata.payload,\\"a\\"\\n"
        ".global payload\\npayload:\\n"
        ".incbin \\"${payload}\\"\\n"
        ".global payload_end\\npayload_end:\\n"
        ".previous\\n");
extern const char payload[], payload_end[];
int main(void) { return (int)((payload_end - payload) & 1); }
`;
  const src = join(dir, "c", "big.c");
  if (!writeIfChanged(src, source) && isNewer(out, payload)) return out;
  ctx.log(`memory: ${gcc} -O2 -o ${out} ${src}`);
  const r = spawnSync(gcc, ["-O2", "-o", out, src], { env: ctx.env, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`bench: gcc ${src} exited ${r.status}`);
  return out;
}

/** Writes only when the content differs, so unchanged sources keep their mtime and skip the rebuild. */
function writeIfChanged(path: string, content: string): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === content) return false;
  writeFileSync(path, content);
  return true;
}

function isNewer(path: string, than: string): boolean {
  return existsSync(path) && statSync(path).mtimeMs >= statSync(than).mtimeMs;
}
