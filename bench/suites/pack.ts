// pack: wall time of `zerodep pack BIN --out oci:DIR --ca-certs none --tzdata none` on a ~50 MB static Go
// binary against `gzip -6 -c BIN > /dev/null` (pack's level: gzip(1)'s default) and `gzip -1` of the same
// file in the same run, and peak RSS of the same pack on a ~500 MB binary (/usr/bin/time -v). Packing is
// one tar stream → sha256 (diff_id) → gzip → sha256 (digest) → a fsynced blob in an OCI layout, so it
// should cost about one compression of the file plus hashing, and stream: memory must not grow with
// the binary.
//
// The binaries are built with the real Go toolchain (CGO_ENABLED=0: static, no PT_INTERP) into
// bench/out/pack/, so pack's safety check (inspect + check on the image's own tree) sees a real static
// ELF with Go build info and a pclntab. Their payload is go:embed'ed data from a seeded PRNG (see
// writePayload): not /dev/urandom as in the memory suite, because random bytes are incompressible
// (gzip only copies them, fast) and zeros are trivial; a compressor must do the work it does on a real
// binary. Binaries are reused while the generator, the Go source and the toolchain are unchanged.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  type BenchContext,
  type SuiteReport,
  skipMessage,
  timingProblems,
  verdict,
} from "../internal/context.js";
import {
  findTool,
  median,
  type RunResult,
  round1,
  runOnce,
  type Timing,
  toolVersion,
} from "../internal/measure.js";
import { type Cell, formatMiB, formatRatio } from "../internal/table.js";

const GO = "/usr/local/go/bin/go";
const GNU_TIME = "/usr/bin/time";
/** Pack's gzip level: fixed at 6 in the CLI (PackOptions.gzipLevel exists in the library only). */
const PACK_LEVEL = 6;
const TARGET_RATIO = 1.1;
/** "peak RSS under 200 MB for a 500 MB binary" (decimal MB, judged on the largest run). */
const TARGET_RSS_BYTES = 200e6;

/** Payload sizes (decimal MB): the binaries come out ~2 MB larger (Go runtime, fmt, pclntab). */
const VARIANTS = {
  /** Fixed cost: Node start-up, inspect, check, layout writes on a small binary. */
  small: 1e6,
  /** The timed comparison against gzip. */
  mid: 48e6,
  /** The memory measurement. */
  big: 498e6,
} as const;
type Variant = keyof typeof VARIANTS;

/** Bump when writePayload's output changes: the binaries are rebuilt. */
const GENERATOR_VERSION = 1;
const SEED = 0x2545f491;

const GO_MOD = "module zerodep.bench/pack\n\ngo 1.22\n";
const GO_MAIN = `package main

import (
	_ "embed"
	"fmt"
)

// payload.bin: seeded pseudo-random data written by bench/suites/pack.ts (text, code-like, tables, random).
//
//go:embed payload.bin
var payload []byte

func main() { fmt.Println(len(payload), payload[len(payload)/2]) }
`;

export function benchPack(ctx: BenchContext): SuiteReport {
  const bigRuns = Math.min(ctx.runs, 3);
  const report: SuiteReport = {
    name: "pack",
    title:
      `pack: zerodep pack (gzip level ${PACK_LEVEL}) of a ~50 MB static Go binary vs gzip of the same file, ` +
      `median of ${ctx.runs}; peak RSS on a ~500 MB one, median of ${bigRuns}`,
    header: ["command", "input", "median ms", "min ms", "max ms", "MB/s", "peak RSS", "output", "exit"],
    rows: [],
    notes: [],
    skipped: [],
    data: {
      level: PACK_LEVEL,
      targetRatio: TARGET_RATIO,
      targetRssBytes: TARGET_RSS_BYTES,
      generator: { version: GENERATOR_VERSION, seed: SEED, weights: SEGMENT_WEIGHTS },
    },
  };
  const go = findTool(GO, undefined) ?? findTool("go", ctx.env["PATH"]);
  if (!go) {
    report.skipped.push(
      skipMessage("pack", "go (/usr/local/go/bin/go)", "install Go: the suite packs Go binaries it builds"),
    );
    return report;
  }
  const gzip = findTool("gzip", ctx.env["PATH"]);
  const gnuTime = findTool(GNU_TIME, undefined);
  const sha256sum = findTool("sha256sum", ctx.env["PATH"]);
  if (!gzip) report.skipped.push(skipMessage("gzip comparison", "gzip", "apt-get install gzip"));
  if (!gnuTime)
    report.skipped.push(skipMessage("peak RSS (500 MB binary)", GNU_TIME, "apt-get install time"));

  const dir = join(ctx.outDir, "pack");
  mkdirSync(dir, { recursive: true });
  const bins = buildBinaries(ctx, go, dir, gnuTime ? ["small", "mid", "big"] : ["small", "mid"]);
  report.data["go"] = toolVersion([go, "version"]);
  report.data["gzip"] = gzip ? toolVersion([gzip, "--version"]) : null;
  const timeFile = join(dir, "time-v.txt");

  // --- the timed comparison on the ~50 MB binary -------------------------------------------------------
  const mid = bins.mid!;
  const midSize = statSync(mid).size;
  const zd = measurePack(ctx, "zerodep pack", mid, join(dir, "oci-mid"), ctx.runs, gnuTime, timeFile);
  report.rows.push(row(zd.m, midSize, zd.layerBytes, midSize));
  report.notes.push(...timingProblems(zd.m.timing), ...zd.problems);

  let gz6: Measured | null = null;
  let gz6Bytes: number | null = null;
  if (gzip) {
    for (const level of [6, 1]) {
      const out = join(dir, `mid.gz${level}`);
      ctx.log(`pack: gzip -${level} -c ${mid} > /dev/null (1 warm-up + ${ctx.runs} runs)`);
      const m = measure(ctx, `gzip -${level} -c`, () => [gzip, `-${level}`, "-c", mid], {
        runs: ctx.runs,
        gnuTime,
        timeFile,
        warmupStdoutPath: out,
      });
      const bytes = existsSync(out) ? statSync(out).size : null;
      rmSync(out, { force: true });
      report.rows.push(row(m, midSize, bytes, midSize));
      report.notes.push(...timingProblems(m.timing));
      report.data[`gzip${level}`] = { ...m.timing, peakRssKiB: m.rssKiB, compressedBytes: bytes };
      if (level === 6) {
        gz6 = m;
        gz6Bytes = bytes;
      } else {
        const r1 = zd.m.timing.medianMs / m.timing.medianMs;
        report.data["ratioGzip1"] = round3(r1);
        report.notes.push(
          `zerodep/gzip -1 = ${formatRatio(r1)} — not an equal-level comparison: pack's level is fixed at ${PACK_LEVEL} ` +
            `(no CLI option; PackOptions.gzipLevel exists in the library API only), so a level-1 pack cannot be ` +
            `timed here; gzip -1 is the floor a level-1 pack could approach`,
        );
      }
    }
  }
  const small = bins.small!;
  const fixed = measurePack(
    ctx,
    "zerodep pack (fixed cost)",
    small,
    join(dir, "oci-small"),
    ctx.runs,
    gnuTime,
    timeFile,
  );
  report.rows.push(row(fixed.m, statSync(small).size, fixed.layerBytes, statSync(small).size));
  report.notes.push(...timingProblems(fixed.m.timing), ...fixed.problems);
  if (sha256sum) {
    ctx.log(`pack: sha256sum ${mid} (1 warm-up + ${ctx.runs} runs)`);
    const h = measure(ctx, "sha256sum (one hash pass)", () => [sha256sum, mid], {
      runs: ctx.runs,
      gnuTime,
      timeFile,
    });
    report.rows.push(row(h, midSize, null, midSize));
    report.data["sha256sum"] = { ...h.timing, peakRssKiB: h.rssKiB };
  } else report.skipped.push(skipMessage("hashing reference row", "sha256sum", "apt-get install coreutils"));
  report.data["mid"] = { path: mid, bytes: midSize };
  report.data["zerodep"] = packData(zd);
  report.data["fixedCost"] = { path: small, bytes: statSync(small).size, ...packData(fixed) };

  if (gz6) {
    const ratio = zd.m.timing.medianMs / gz6.timing.medianMs;
    const net = (zd.m.timing.medianMs - fixed.m.timing.medianMs) / gz6.timing.medianMs;
    report.data["ratioGzip6"] = round3(ratio);
    report.data["ratioGzip6MinusFixedCost"] = round3(net);
    report.notes.unshift(
      `zerodep/gzip -6 = ${formatRatio(ratio)} at equal level ${PACK_LEVEL} (target ≤ ${TARGET_RATIO}×: ` +
        `${verdict(ratio <= TARGET_RATIO, zd.m.timing, gz6.timing)}); ` +
        `${formatRatio(net)} without pack's fixed cost (the ${formatMiB(statSync(small).size)} row: ` +
        `Node start-up, inspect, check, layout, and compressing its own few MB)`,
    );
    if (zd.layerBytes !== null && gz6Bytes !== null)
      report.notes.push(
        `compressed: pack's layer ${formatMiB(zd.layerBytes)} (tar of ${formatMiB(zd.tarBytes ?? 0)}), ` +
          `gzip -6 ${formatMiB(gz6Bytes)}: ${((100 * (zd.layerBytes - gz6Bytes)) / gz6Bytes).toFixed(1)}% apart ` +
          `(zlib vs gzip(1)'s own deflate; same level, so about the same work)`,
      );
  }
  report.notes.push(
    `pack writes and fsyncs its blob into a fresh oci:DIR each run (removed between runs, untimed); gzip writes to /dev/null` +
      (zd.digests.size === 1
        ? `; same manifest digest on every run (reproducible)`
        : `; !!! ${zd.digests.size} different manifest digests over the runs`),
  );

  // --- memory on the ~500 MB binary ---------------------------------------------------------------------
  if (gnuTime && bins.big) {
    const big = bins.big;
    const bigSize = statSync(big).size;
    const zb = measurePack(ctx, "zerodep pack", big, join(dir, "oci-big"), bigRuns, gnuTime, timeFile);
    report.rows.push(row(zb.m, bigSize, zb.layerBytes, bigSize));
    report.notes.push(...timingProblems(zb.m.timing), ...zb.problems);
    const maxRss = Math.max(...zb.m.rssKiB) * 1024;
    const medRss = median(zb.m.rssKiB) * 1024;
    const rssLine =
      `peak RSS packing ${formatMiB(bigSize)}: median ${formatMiB(medRss)}, max ${formatMiB(maxRss)} ` +
      `(${(maxRss / 1e6).toFixed(0)} MB; target < ${TARGET_RSS_BYTES / 1e6} MB: ` +
      `${zb.m.timing.timeouts > 0 ? "not judged: runs timed out" : maxRss < TARGET_RSS_BYTES ? "met" : "NOT met"})`;
    report.data["big"] = { path: big, bytes: bigSize, ...packData(zb) };
    if (gzip) {
      const out = join(dir, "big.gz6");
      ctx.log(`pack: gzip -6 -c ${big} > /dev/null (1 warm-up + ${bigRuns} runs)`);
      const g = measure(ctx, "gzip -6 -c", () => [gzip, "-6", "-c", big], {
        runs: bigRuns,
        gnuTime,
        timeFile,
        warmupStdoutPath: out,
      });
      const bytes = existsSync(out) ? statSync(out).size : null;
      rmSync(out, { force: true });
      report.rows.push(row(g, bigSize, bytes, bigSize));
      report.notes.push(...timingProblems(g.timing));
      const r = zb.m.timing.medianMs / g.timing.medianMs;
      report.data["bigGzip6"] = { ...g.timing, peakRssKiB: g.rssKiB, compressedBytes: bytes };
      report.data["bigRatioGzip6"] = round3(r);
      report.notes.push(`${rssLine}; zerodep/gzip -6 on it = ${formatRatio(r)} (not judged)`);
    } else report.notes.push(rssLine);
  }
  rmSync(timeFile, { force: true });
  report.notes.push(
    `inputs: static Go binaries in ${dir} (CGO_ENABLED=0, go:embed of seeded pseudo-random data` +
      (gz6Bytes === null
        ? ")"
        : `; gzip -6 keeps ${((100 * gz6Bytes) / midSize).toFixed(1)}% of the ~50 MB one)`) +
      `; ${gnuTime ? "every run is wrapped in /usr/bin/time -v -o FILE for its peak RSS (~1 ms)" : "no RSS: /usr/bin/time missing"}`,
  );
  return report;
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

interface Measured {
  timing: Timing;
  /** Peak RSS of each timed run (KiB), when wrapped in GNU time. */
  rssKiB: number[];
}

interface MeasureOptions {
  runs: number;
  gnuTime: string | null;
  timeFile: string;
  warmupStdoutPath?: string;
  /** Called before each run (0 is the warm-up), untimed. */
  before?: (run: number) => void;
  /** Called after each run, untimed. */
  after?: (run: number, r: RunResult) => void;
}

/**
 * One untimed warm-up run, then `runs` timed runs, as timeCommand does, but with an argv per run (pack
 * needs a fresh output directory each time) and, when GNU time is there, its -v report in a file (not
 * on the child's stderr) for the peak RSS.
 */
function measure(
  ctx: BenchContext,
  label: string,
  argvFor: (run: number) => string[],
  o: MeasureOptions,
): Measured {
  const runsMs: number[] = [];
  const rssKiB: number[] = [];
  let timeouts = 0;
  let last: RunResult | undefined;
  let argv: string[] = [];
  for (let run = 0; run <= o.runs; run++) {
    o.before?.(run);
    argv = argvFor(run);
    const wrapped = o.gnuTime ? [o.gnuTime, "-v", "-o", o.timeFile, ...argv] : argv;
    if (o.gnuTime) rmSync(o.timeFile, { force: true });
    const r = runOnce(
      { label, argv: wrapped, env: ctx.env },
      ctx.timeoutMs,
      run === 0 ? o.warmupStdoutPath : undefined,
    );
    if (r.timedOut) timeouts++;
    if (run > 0) {
      runsMs.push(r.ms);
      if (o.gnuTime) rssKiB.push(readRssKiB(o.timeFile));
      last = r;
    }
    o.after?.(run, r);
  }
  return {
    timing: {
      label,
      commandLine: argv.map(quote).join(" "),
      runsMs: runsMs.map(round1),
      medianMs: round1(median(runsMs)),
      minMs: round1(Math.min(...runsMs)),
      maxMs: round1(Math.max(...runsMs)),
      exitCode: last?.exitCode ?? null,
      stderrHead: last?.stderr.split("\n").find((l) => l.trim() !== "") ?? null,
      timeouts,
    },
    rssKiB,
  };
}

interface PackMeasured {
  m: Measured;
  /** Size of the gzip layer and of the tar inside it (from the warm-up run's layout), or null. */
  layerBytes: number | null;
  tarBytes: number | null;
  /** Manifest digests seen over the runs: one when pack is reproducible. */
  digests: Set<string>;
  problems: string[];
}

/** `zerodep pack BIN --out oci:OUT --ca-certs none --tzdata none`, OUT removed before and after each run. */
function measurePack(
  ctx: BenchContext,
  label: string,
  bin: string,
  out: string,
  runs: number,
  gnuTime: string | null,
  timeFile: string,
): PackMeasured {
  const res: PackMeasured = {
    m: undefined!,
    layerBytes: null,
    tarBytes: null,
    digests: new Set(),
    problems: [],
  };
  ctx.log(
    `pack: zerodep pack ${bin} --out oci:${out} --ca-certs none --tzdata none (1 warm-up + ${runs} runs)`,
  );
  res.m = measure(
    ctx,
    label,
    () => [...ctx.zerodep, "pack", bin, "--out", `oci:${out}`, "--ca-certs", "none", "--tzdata", "none"],
    {
      runs,
      gnuTime,
      timeFile,
      before: () => rmSync(out, { recursive: true, force: true }),
      after: (run, r) => {
        const img = readImage(out);
        if (img) {
          res.digests.add(img.manifestDigest);
          if (run === 0) {
            res.layerBytes = img.layerBytes;
            res.tarBytes = img.tarBytes;
          }
        } else if (r.exitCode === 0 && res.problems.length === 0)
          res.problems.push(`!!! ${label}: exited 0 but ${out} holds no readable image`);
        rmSync(out, { recursive: true, force: true });
      },
    },
  );
  return res;
}

/** The single image pack wrote: index.json → manifest → its one layer's size, and the tar's (config). */
function readImage(
  dir: string,
): { manifestDigest: string; layerBytes: number; tarBytes: number | null } | null {
  try {
    const blob = (d: string) => JSON.parse(readFileSync(join(dir, "blobs", "sha256", d.slice(7)), "utf8"));
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    const digest = index.manifests[0]!.digest;
    const manifest = blob(digest) as { layers: { size: number; digest: string }[] };
    const layer = manifest.layers[0]!;
    // The tar's size is not in the manifest: gunzip would cost a pass; the layer blob is on disk, so
    // read the gzip trailer's ISIZE (size mod 2^32, exact below 4 GiB).
    const fd = openSync(join(dir, "blobs", "sha256", layer.digest.slice(7)), "r");
    let tarBytes: number | null = null;
    try {
      const tail = Buffer.alloc(4);
      const size = statSync(join(dir, "blobs", "sha256", layer.digest.slice(7))).size;
      if (readSync(fd, tail, 0, 4, size - 4) === 4) tarBytes = tail.readUInt32LE(0);
    } finally {
      closeSync(fd);
    }
    return { manifestDigest: digest, layerBytes: layer.size, tarBytes };
  } catch {
    return null;
  }
}

function readRssKiB(file: string): number {
  try {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(file, "utf8"));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function row(m: Measured, inputBytes: number, outBytes: number | null, ofBytes: number): Cell[] {
  const t = m.timing;
  return [
    t.label,
    formatMiB(inputBytes),
    t.medianMs,
    t.minMs,
    t.maxMs,
    round1(inputBytes / 1e6 / (t.medianMs / 1000)),
    m.rssKiB.length > 0 ? formatMiB(median(m.rssKiB) * 1024) : null,
    outBytes === null ? null : `${formatMiB(outBytes)} (${((100 * outBytes) / ofBytes).toFixed(1)}%)`,
    t.exitCode,
  ];
}

function packData(p: PackMeasured) {
  return {
    ...p.m.timing,
    peakRssKiB: p.m.rssKiB,
    layerBytes: p.layerBytes,
    tarBytes: p.tarBytes,
    manifestDigests: [...p.digests],
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
}

// ---------------------------------------------------------------------------------------------------------
// Inputs

/**
 * Builds the wanted variants into DIR/<variant>/zd-bench-<variant>, or reuses them while their stamp
 * (generator, seed, size, Go source, toolchain) is unchanged. The build uses a private GOCACHE, removed
 * afterwards: go:embed'ed data lands in the build cache, and 500 MB of it does not belong in the user's.
 * The payload file is deleted once embedded; it is regenerated (deterministically) for a rebuild.
 */
function buildBinaries(
  ctx: BenchContext,
  go: string,
  dir: string,
  wanted: Variant[],
): Partial<Record<Variant, string>> {
  const goVersion = toolVersion([go, "version"]) ?? "unknown";
  const out: Partial<Record<Variant, string>> = {};
  let gocache: string | null = null;
  try {
    for (const v of wanted) {
      const vdir = join(dir, v);
      const bin = join(vdir, `zd-bench-${v}`);
      const stampPath = join(vdir, "stamp.json");
      const stamp =
        JSON.stringify(
          {
            generator: GENERATOR_VERSION,
            seed: SEED,
            payloadBytes: VARIANTS[v],
            goMod: GO_MOD,
            goMain: GO_MAIN,
            go: goVersion,
          },
          null,
          2,
        ) + "\n";
      out[v] = bin;
      if (existsSync(bin) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp) continue;
      mkdirSync(vdir, { recursive: true });
      rmSync(stampPath, { force: true });
      const payload = join(vdir, "payload.bin");
      ctx.log(`pack: writing ${formatMiB(VARIANTS[v])} of seeded pseudo-random payload to ${payload}`);
      writePayload(payload, VARIANTS[v]);
      writeFileSync(join(vdir, "go.mod"), GO_MOD);
      writeFileSync(join(vdir, "main.go"), GO_MAIN);
      gocache ??= mkdtempSync(join(dir, "gocache-"));
      ctx.log(`pack: ${go} build -o ${bin} (CGO_ENABLED=0, private GOCACHE removed afterwards)`);
      // CGO off for a static binary; GOTOOLCHAIN=local and GOPROXY=off so the build never downloads;
      // -buildvcs=false because bench/out/ sits inside this repository: the binary must not depend on it.
      const env = {
        ...ctx.env,
        CGO_ENABLED: "0",
        GOTOOLCHAIN: "local",
        GOPROXY: "off",
        GOFLAGS: "",
        GOCACHE: gocache,
      };
      const r = spawnSync(go, ["build", "-trimpath", "-buildvcs=false", "-o", bin, "."], {
        cwd: vdir,
        env,
        stdio: ["ignore", 2, 2],
      });
      rmSync(payload, { force: true });
      if (r.status !== 0) throw new Error(`bench: go build in ${vdir} exited ${r.status}`);
      writeFileSync(stampPath, stamp);
    }
  } finally {
    if (gocache) rmSync(gocache, { recursive: true, force: true });
  }
  return out;
}

/**
 * Relative weights of the payload's segment kinds. Segments are 4–260 KiB long, like the large
 * homogeneous regions of a real binary (.text, .rodata, pclntab), since deflate's Huffman tables adapt
 * per block. gzip -6 keeps ~44% of the bytes and gzip -1 ~51% (alone, each kind: text ~36%, code ~38%,
 * table ~38%, random 100%); the Go toolchain's own binaries (go1.26) keep 33–40% and ~44%.
 */
const SEGMENT_WEIGHTS = {
  /** Words from a skewed 4096-word vocabulary, some dotted like Go symbols (strings, symbol names): ~36%. */
  text: 40,
  /** Bytes from a skewed 64-value alphabet with short back-references (machine code): ~38%. */
  code: 40,
  /** 16-byte records with increasing addresses and small fields (pclntab, relocations): ~38%. */
  table: 12,
  /** Uniform PRNG bytes (compressed or hashed data): incompressible. */
  random: 8,
} as const;

/** mulberry32: a tiny, fast, seeded 32-bit PRNG; the same seed gives the same bytes everywhere. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const unit = () => next() / 4294967296;
  return { next, unit, int: (n: number) => Math.floor(unit() * n) };
}

/** `bytes` bytes of deterministic, binary-like compressible data (SEGMENT_WEIGHTS), written 1 MiB at a time. */
function writePayload(path: string, bytes: number): void {
  const { next, unit, int } = prng(SEED);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const names: string[] = [];
  const vocab: Buffer[] = [];
  for (let i = 0; i < 4096; i++) {
    let w = "";
    const n = 2 + int(10);
    for (let j = 0; j < n; j++) w += letters[int(26)];
    if (unit() < 0.3 && names.length > 0) w = `${names[int(names.length)]!.split(".")[0]}.${w}`;
    names.push(w);
    vocab.push(Buffer.from(w));
  }
  const common = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) common[i] = int(256);
  const kinds = Object.values(SEGMENT_WEIGHTS);
  const total = kinds.reduce((a, b) => a + b, 0);

  const buf = Buffer.alloc(1 << 20);
  let addr = 0x401000;
  const fd = openSync(path, "w");
  try {
    for (let written = 0; written < bytes; ) {
      let p = 0;
      while (p < buf.length) {
        const end = p + Math.min(buf.length - p, 4096 + int(262144));
        let r = unit() * total;
        let k = 0;
        while (r >= kinds[k]!) r -= kinds[k++]!;
        if (k === 0) {
          // text
          while (p < end) {
            const u = unit();
            const w = vocab[Math.floor(4096 * u * u * u)]!;
            const n = Math.min(w.length, end - p);
            w.copy(buf, p, 0, n);
            p += n;
            if (p < end) buf[p++] = unit() < 0.1 ? 10 : 32;
          }
        } else if (k === 1) {
          // code
          while (p < end) {
            const u = unit();
            if (u < 0.3 && p > 64) {
              const from = p - (1 + int(Math.min(p, 16384)));
              const n = Math.min(4 + int(12), end - p);
              buf.copy(buf, p, from, from + n);
              p += n;
            } else if (u < 0.85) buf[p++] = common[int(int(64) + 1)]!;
            else buf[p++] = int(256);
          }
        } else if (k === 2) {
          // table
          while (p + 16 <= end) {
            addr = (addr + 1 + int(200)) >>> 0;
            buf.writeUInt32LE(addr, p);
            buf.writeUInt16LE(int(3000), p + 4);
            buf.writeUInt16LE(0, p + 6);
            buf.writeUInt32LE(int(16), p + 8);
            buf.writeUInt32LE(0, p + 12);
            p += 16;
          }
          while (p < end) buf[p++] = 0;
        } else {
          // random
          while (p + 4 <= end) {
            buf.writeUInt32LE(next(), p);
            p += 4;
          }
          while (p < end) buf[p++] = int(256);
        }
      }
      const n = Math.min(buf.length, bytes - written);
      writeSync(fd, buf, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}
