// analyze: wall time and peak RSS of `zerodep analyze` on a ~300 MB (uncompressed) image against
// `tar -tzvf` over the same layer blobs in the same run — the floor: one decompression and one header
// walk per layer. The image is made of real files of this host (python's library, /usr/share/doc,
// /usr/libexec, part of /usr/bin: text, compressed docs and ELF programs/libraries), tarred and gzipped
// by GNU tar and gzip -6, put into an OCI layout by LayoutWriter; a last layer deletes /usr/share/doc
// (waste). Built once into bench/out/analyze/ and reused.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { buildConfig } from "../../src/oci/build.js";
import { sha256 } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  type BenchContext,
  type SuiteReport,
  skipMessage,
  timingProblems,
  verdict,
} from "../internal/context.js";
import { findTool, median, round1, runOnce, type Timing, toolVersion } from "../internal/measure.js";
import { formatMiB, formatRatio } from "../internal/table.js";

const TARGET_RATIO = 1.3;
const GNU_TIME = "/usr/bin/time";
const BUILD_VERSION = 1;
const LAYERS: { name: string; paths: string[]; budget?: number }[] = [
  { name: "python-and-docs", paths: ["usr/lib/python3.11", "usr/share/doc"] },
  { name: "libexec", paths: ["usr/libexec"] },
  { name: "some-bin", paths: ["usr/bin"], budget: 80e6 },
];

export function benchAnalyze(ctx: BenchContext): SuiteReport {
  const report: SuiteReport = {
    name: "analyze",
    title: `analyze: zerodep analyze of a ~300 MB image vs tar -tzvf over the same layer blobs, median of ${ctx.runs}`,
    header: ["command", "median ms", "min ms", "max ms", "peak RSS"],
    rows: [],
    notes: [],
    skipped: [],
    data: { targetRatio: TARGET_RATIO },
  };
  const tar = findTool("tar", ctx.env["PATH"]);
  const gnuTime = findTool(GNU_TIME, undefined);
  if (!tar) {
    report.skipped.push(skipMessage("analyze", "tar", "apt-get install tar gzip"));
    return report;
  }
  const dir = join(ctx.outDir, "analyze");
  const layout = join(dir, "oci");
  const stamp = join(dir, `built-v${BUILD_VERSION}`);
  if (!existsSync(stamp)) build(ctx, tar, dir, layout, stamp);
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const manifest = JSON.parse(
    readFileSync(join(layout, "blobs", "sha256", index.manifests[0].digest.slice(7)), "utf8"),
  ) as { layers: { digest: string; size: number }[] };
  const blobs = manifest.layers.map((l) => join(layout, "blobs", "sha256", l.digest.slice(7)));
  const info = JSON.parse(readFileSync(stamp, "utf8")) as { tarBytes: number; compressedBytes: number };
  report.data["image"] = { layout, layers: blobs.length, ...info, tar: toolVersion([tar, "--version"]) };

  const timeFile = join(dir, "time-v.txt");
  const measure = (label: string, argv: string[]): { t: Timing; rssKiB: number | null } => {
    ctx.log(`analyze: ${label} (1 warm-up + ${ctx.runs} runs)`);
    const runsMs: number[] = [];
    const rss: number[] = [];
    let timeouts = 0;
    let last = runOnce({ label, argv, env: ctx.env }, ctx.timeoutMs);
    for (let i = 0; i < ctx.runs; i++) {
      rmSync(timeFile, { force: true });
      last = runOnce(
        { label, argv: gnuTime ? [gnuTime, "-v", "-o", timeFile, ...argv] : argv, env: ctx.env },
        ctx.timeoutMs,
      );
      if (last.timedOut) timeouts++;
      runsMs.push(last.ms);
      if (gnuTime && existsSync(timeFile)) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, "utf8"));
        if (m) rss.push(Number(m[1]));
      }
    }
    const t: Timing = {
      label,
      commandLine: argv.join(" ").slice(0, 200),
      runsMs: runsMs.map(round1),
      medianMs: round1(median(runsMs)),
      minMs: round1(Math.min(...runsMs)),
      maxMs: round1(Math.max(...runsMs)),
      exitCode: last.exitCode,
      stderrHead: last.stderr.split("\n").find((l) => l.trim() !== "") ?? null,
      timeouts,
    };
    return { t, rssKiB: rss.length ? Math.max(...rss) : null };
  };
  const ref = `oci:${layout}:bench`;
  const full = measure("zerodep analyze --json (full audit)", [...ctx.zerodep, "analyze", ref, "--json"]);
  const lite = measure("zerodep analyze --no-audit --json", [
    ...ctx.zerodep,
    "analyze",
    ref,
    "--no-audit",
    "--json",
  ]);
  const floor = measure("tar -tzvf each layer blob", [
    "sh",
    "-c",
    `for b in ${blobs.map((b) => `'${b}'`).join(" ")}; do ${tar} -tzvf "$b"; done >/dev/null`,
  ]);
  for (const m of [full, lite, floor]) {
    report.rows.push([
      m.t.label,
      m.t.medianMs,
      m.t.minMs,
      m.t.maxMs,
      m.rssKiB === null ? "n/a" : formatMiB(m.rssKiB * 1024),
    ]);
    report.notes.push(...timingProblems(m.t));
  }
  const ratio = full.t.medianMs / floor.t.medianMs;
  const ratioLite = lite.t.medianMs / floor.t.medianMs;
  report.data["zerodep"] = { ...full.t, peakRssKiB: full.rssKiB };
  report.data["zerodepNoAudit"] = { ...lite.t, peakRssKiB: lite.rssKiB };
  report.data["tar"] = { ...floor.t, peakRssKiB: floor.rssKiB };
  report.data["ratio"] = Math.round(ratio * 1000) / 1000;
  report.data["ratioNoAudit"] = Math.round(ratioLite * 1000) / 1000;
  report.notes.unshift(
    `zerodep/tar = ${formatRatio(ratio)} with the full audit, ${formatRatio(ratioLite)} with --no-audit ` +
      `(target ≤ ${TARGET_RATIO}×: ${verdict(ratio <= TARGET_RATIO, full.t, floor.t)}); image ${formatMiB(info.tarBytes)} of tar in ` +
      `${blobs.length} layers, ${formatMiB(info.compressedBytes)} compressed`,
  );
  if (!gnuTime) report.skipped.push(skipMessage("peak RSS", GNU_TIME, "apt-get install time"));
  return report;
}

/** The image: GNU tar + gzip -6 layers of host trees, and a whiteout layer, into an OCI layout. */
function build(ctx: BenchContext, tar: string, dir: string, layout: string, stamp: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  ctx.log("analyze: building the ~300 MB benchmark image (once)");
  const tars: string[] = [];
  for (const l of LAYERS) {
    const list = join(dir, `${l.name}.list`);
    const files: string[] = [];
    let used = 0;
    const walk = (rel: string) => {
      const st = lstatSync(`/${rel}`, { throwIfNoEntry: false });
      if (!st) return;
      if (st.isDirectory()) {
        for (const n of readdirSync(`/${rel}`).sort()) walk(`${rel}/${n}`);
      } else if (st.isFile()) {
        if (l.budget && used + st.size > l.budget) return;
        used += st.size;
        files.push(rel);
      }
    };
    for (const p of l.paths) walk(p);
    writeFileSync(list, `${files.join("\n")}\n`);
    const out = join(dir, `${l.name}.tar`);
    const r = spawnSync(tar, ["--numeric-owner", "--sort=name", "-cf", out, "-C", "/", "-T", list], {
      stdio: "inherit",
    });
    if (r.status !== 0 && r.status !== 1) throw new Error(`bench: tar failed for ${l.name}`);
    tars.push(out);
  }
  // The deletion layer: a whiteout for /usr/share/doc (GNU tar of an empty file named .wh.doc).
  const wdir = join(dir, "wh-root", "usr", "share");
  mkdirSync(wdir, { recursive: true });
  writeFileSync(join(wdir, ".wh.doc"), "");
  const wtar = join(dir, "delete-doc.tar");
  spawnSync(tar, ["--numeric-owner", "--owner=0", "--group=0", "-cf", wtar, "-C", join(dir, "wh-root"), "."]);
  tars.push(wtar);
  let tarBytes = 0;
  let compressedBytes = 0;
  const _layers: { mediaType: string; digest: `sha256:${string}`; size: number }[] = [];
  const diffIds: `sha256:${string}`[] = [];
  const gz: string[] = [];
  for (const t of tars) {
    const r = spawnSync("gzip", ["-6", "-k", "-f", t]);
    if (r.status !== 0) throw new Error("bench: gzip failed");
    gz.push(`${t}.gz`);
    tarBytes += statSync(t).size;
    diffIds.push(sha256(readFileSync(t)));
    compressedBytes += statSync(`${t}.gz`).size;
  }
  // LayoutWriter is async; do it in a child so this suite stays synchronous like the others.
  const script = `
    import { readFileSync } from "node:fs";
    import { LayoutWriter } from ${JSON.stringify(new URL("../../src/oci/layout.js", import.meta.url).href)};
    const [layout, cfg, ...gz] = process.argv.slice(1);
    const w = await LayoutWriter.open(layout);
    const layers = [];
    for (const g of gz) layers.push({ mediaType: "${MediaType.ociLayerGzip}", ...(await w.putBlob(readFileSync(g))) });
    const c = await w.putBlob(readFileSync(cfg));
    const { buildManifest } = await import(${JSON.stringify(new URL("../../src/oci/build.js", import.meta.url).href)});
    const m = await w.putBlob(buildManifest({ schemaVersion: 2, mediaType: "${MediaType.ociManifest}", config: { mediaType: "${MediaType.ociConfig}", ...c }, layers }));
    w.setRef({ mediaType: "${MediaType.ociManifest}", ...m }, "bench");
    await w.commit();
  `;
  const cfg = join(dir, "config.json");
  writeFileSync(
    cfg,
    buildConfig({
      architecture: "amd64",
      os: "linux",
      config: { Entrypoint: ["/usr/bin/python3"], User: "65534" },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: [
        ...LAYERS.map((l) => ({ created_by: `COPY ${l.paths.join(" ")}` })),
        { created_by: "RUN rm -rf /usr/share/doc" },
      ],
    }),
  );
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, layout, cfg, ...gz], {
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("bench: writing the layout failed");
  for (const f of [...tars, ...gz]) rmSync(f, { force: true });
  writeFileSync(stamp, JSON.stringify({ tarBytes, compressedBytes }));
}
