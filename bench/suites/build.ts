// build: `zerodep build --platform linux/amd64,linux/arm64` of test/fixtures/build-src/go-service
// against `ko build --platform linux/amd64,linux/arm64 --push=false --oci-layout-path DIR --bare ./`
// (ko, the anchor: github.com/google/ko, built by .ci/run into ~/.cache/zerodep-ci) on the same base:
// the chainguard/static stand-in of test/helpers/static-base.ts, pushed to a local docker-registry
// over plain HTTP (ko's default base, cgr.dev/chainguard/static, is unreachable here). The project is
// a fresh git repository (test/build/build-for-tests.ts) so both stamp the same vcs.* settings.
//
// Warm: both tools share one bench-owned GOCACHE (filled by the warm-up runs) and the user's module
// cache; runs alternate (zerodep, ko, zerodep, ko …) so that both see the same machine, and each
// writes into a fresh output directory, removed untimed between runs. The ratio is the median over
// rounds of zerodep ÷ ko. Cold: one run each with GOCACHE in a fresh empty directory (the standard
// library and every package compiled for both architectures), the module cache still warm: that is
// compile time, not download time. Both tools compile with the same go; what differs is what they ask
// it for (zerodep strips with -ldflags=-s -w, ko does not) and how they run the platforms.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import { gitFixtureCopy, readLayoutImage } from "../../test/build/build-for-tests.js";
import { koPath } from "../../test/helpers/ko.js";
import { makeStaticBase, pushStaticBase } from "../../test/helpers/static-base.js";
import { type BenchContext, type SuiteReport, skipMessage } from "../internal/context.js";
import { findTool, median, type RunResult, round1, runOnce, toolVersion } from "../internal/measure.js";
import { formatMiB, formatRatio } from "../internal/table.js";
import { startRegistry } from "./registry.js";

const PLATFORMS = ["linux/amd64", "linux/arm64"];

interface Side {
  ms: number[];
  failures: string[];
}

export function benchBuild(ctx: BenchContext): SuiteReport {
  const report: SuiteReport = {
    name: "build",
    title: `build: go-service for ${PLATFORMS.join(",")} on the same base, zerodep build vs ko build (median of ${ctx.runs}, warm Go cache; one cold run each)`,
    header: ["tool", "cache", "median ms", "min ms", "max ms", "ratio", "layers (amd64)", "image (amd64)"],
    rows: [],
    notes: [],
    skipped: [],
    data: {},
  };
  const ko = koPath();
  const registry =
    findTool("docker-registry", ctx.env.PATH) ?? findTool("/usr/bin/docker-registry", undefined);
  const skopeo = findTool("skopeo", ctx.env.PATH);
  let path = ctx.env.PATH ?? "";
  if (!findTool("go", path) && existsSync("/usr/local/go/bin/go"))
    path = `/usr/local/go/bin${delimiter}${path}`;
  const missing: [string, string][] = [];
  if (!ko) missing.push(["ko", "bash .ci/run builds it, or ZERODEP_KO=/path"]);
  if (!registry) missing.push(["docker-registry", "apt-get install docker-registry"]);
  if (!skopeo) missing.push(["skopeo", "apt-get install skopeo"]);
  if (!findTool("go", path)) missing.push(["go", "install Go"]);
  if (missing.length > 0) {
    for (const [tool, hint] of missing)
      report.skipped.push(skipMessage("build: zerodep build vs ko build", tool, hint));
    return report;
  }
  const work = join(ctx.outDir, "build");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const goCache = join(work, "gocache");
  // Same environment for both; GOFLAGS overrides a go env file's -buildvcs=false (this machine kind).
  const env = (cache: string): NodeJS.ProcessEnv => ({
    ...ctx.env,
    PATH: path,
    GOFLAGS: "-buildvcs=true",
    GOTOOLCHAIN: "local",
    GOCACHE: cache,
  });
  report.data.ko = toolVersion([ko!, "version"]);
  report.data.go = toolVersion(["sh", "-c", 'PATH="$1" exec go version', "sh", path]);

  ctx.log("build: base image to a local registry, go-service into a fresh git repository");
  const reg = startRegistry(registry!, work);
  try {
    const baseRef = `${reg.host}/base:latest`;
    pushStaticBase(makeStaticBase(join(work, "base")), baseRef);
    const src = join(work, "go-service");
    const head = gitFixtureCopy("go-service", src);
    report.data.commit = head;
    const zdOut = join(work, "zd-oci");
    const koOut = join(work, "ko-oci");
    const zdArgv = [
      ...ctx.zerodep,
      ...["build", "-C", src, "--base", baseRef, "--insecure", "--platform", PLATFORMS.join(",")],
      ...["--out", `oci:${zdOut}:latest`],
    ];
    // ko has no -C: a shell changes directory first (about a millisecond, next to seconds of build).
    const koArgv = [
      ...["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", src, ko!],
      ...[
        "build",
        "--push=false",
        "--oci-layout-path",
        koOut,
        "--platform",
        PLATFORMS.join(","),
        "--bare",
        "./",
      ],
    ];
    const koEnv = (cache: string) => ({
      ...env(cache),
      KO_DOCKER_REPO: `${reg.host}/ko`,
      KO_DEFAULTBASEIMAGE: baseRef,
    });
    // The base already has the CA bundle and zoneinfo that build adds by default: the same build
    // without them (what ko's image has) is timed too, as an extra row outside the ratio.
    const leanOut = join(work, "zd-lean-oci");
    const leanArgv = [
      ...zdArgv.slice(0, -2),
      ...["--ca-certs", "none", "--tzdata", "none", "--out", `oci:${leanOut}:latest`],
    ];
    const tools = {
      zd: { out: zdOut, argv: zdArgv, env },
      lean: { out: leanOut, argv: leanArgv, env },
      ko: { out: koOut, argv: koArgv, env: koEnv },
    };
    const run = (tool: keyof typeof tools, cache: string, side: Side | null): RunResult => {
      const t = tools[tool];
      rmSync(t.out, { recursive: true, force: true });
      const r = runOnce({ label: tool, argv: t.argv, env: t.env(cache) }, ctx.timeoutMs);
      if ((r.exitCode !== 0 || r.timedOut) && side)
        side.failures.push(r.timedOut ? "timed out" : (r.stderr.trim().split("\n").pop() ?? ""));
      if (side) side.ms.push(r.ms);
      return r;
    };

    const zd: Side = { ms: [], failures: [] };
    const k: Side = { ms: [], failures: [] };
    const lean: Side = { ms: [], failures: [] };
    ctx.log(`build: warm-up (fills ${goCache}), then ${ctx.runs} alternating rounds`);
    const warmZd = run("zd", goCache, null);
    const sizes: Record<string, { layers: number[]; total: number } | string> = {};
    const measure = (label: string, layout: string, tag: string | undefined, r: RunResult) => {
      if (r.exitCode !== 0) {
        sizes[label] = "failed (see notes)";
        return;
      }
      try {
        const img = readLayoutImage(layout, "linux/amd64", tag);
        const layers = img.layers.map((l) => l.size);
        sizes[label] = { layers, total: layers.reduce((a, b) => a + b, 0) };
      } catch (e) {
        sizes[label] = `unreadable: ${(e as Error).message}`;
      }
    };
    measure("zerodep", zdOut, "latest", warmZd);
    const warmKo = run("ko", goCache, null);
    measure("ko", koOut, undefined, warmKo);
    const warmLean = run("lean", goCache, null);
    measure("lean", leanOut, "latest", warmLean);
    for (const [label, r] of [
      ["zerodep", warmZd],
      ["ko", warmKo],
      ["zerodep --ca-certs none --tzdata none", warmLean],
    ] as const)
      if (r.exitCode !== 0)
        report.notes.push(`!!! ${label} warm-up failed: ${r.stderr.trim().split("\n").pop()}`);
    const ratios: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const a = run("zd", goCache, zd).ms;
      const b = run("ko", goCache, k).ms;
      ratios.push(a / b);
      run("lean", goCache, lean);
    }
    ctx.log("build: one cold run each (GOCACHE in a fresh empty directory)");
    const cold = (tool: "zd" | "ko") => {
      const cache = join(work, `gocache-cold-${tool}`);
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(cache);
      const side: Side = { ms: [], failures: [] };
      run(tool, cache, side);
      rmSync(cache, { recursive: true, force: true });
      return side;
    };
    const zdCold = cold("zd");
    const koCold = cold("ko");

    const size = (label: string) => {
      const s = sizes[label];
      return typeof s === "object"
        ? [`${s.layers.length}: ${s.layers.join(" + ")} B`, formatMiB(s.total)]
        : [s ?? "-", null];
    };
    // A failed run's time is not a build's time: no ratio then (the failure is flagged in the notes).
    const ratioWarm = ratios.length && !zd.failures.length && !k.failures.length ? median(ratios) : null;
    const ratioCold = zdCold.failures.length || koCold.failures.length ? null : zdCold.ms[0]! / koCold.ms[0]!;
    report.rows.push(
      [
        "zerodep build",
        "warm",
        round1(median(zd.ms)),
        round1(Math.min(...zd.ms)),
        round1(Math.max(...zd.ms)),
        formatRatio(ratioWarm),
        ...size("zerodep"),
      ],
      [
        "ko build",
        "warm",
        round1(median(k.ms)),
        round1(Math.min(...k.ms)),
        round1(Math.max(...k.ms)),
        null,
        ...size("ko"),
      ],
      [
        "zerodep build --ca-certs none --tzdata none",
        "warm",
        round1(median(lean.ms)),
        round1(Math.min(...lean.ms)),
        round1(Math.max(...lean.ms)),
        lean.failures.length || k.failures.length ? null : formatRatio(median(lean.ms) / median(k.ms)),
        ...size("lean"),
      ],
      ["zerodep build", "cold", round1(zdCold.ms[0]!), null, null, formatRatio(ratioCold), null, null],
      ["ko build", "cold", round1(koCold.ms[0]!), null, null, null, null, null],
    );
    report.notes.push(
      "ratio (warm) = median over alternating rounds of zerodep ms ÷ ko ms; ratio (cold) = the one cold run's zerodep ÷ ko",
      "zerodep build --ca-certs none --tzdata none: the same build without the CA bundle and zoneinfo the base already has (ratio of medians to ko)",
      "cold = GOCACHE in a fresh empty directory (module cache warm); warm = a shared bench GOCACHE filled by the warm-up runs",
      "layers/image = the linux/amd64 image's compressed layers (base layer first) from the warm-up runs; no target is judged",
      `zerodep: ${zdArgv.slice(2).join(" ")}`,
      `ko: (cd ${src} && ${koArgv.slice(5).join(" ")}) with KO_DOCKER_REPO=${reg.host}/ko KO_DEFAULTBASEIMAGE=${baseRef}`,
    );
    for (const [label, s] of [
      ["zerodep warm", zd],
      ["ko warm", k],
      ["zerodep --ca-certs none --tzdata none warm", lean],
      ["zerodep cold", zdCold],
      ["ko cold", koCold],
    ] as const)
      if (s.failures.length)
        report.notes.push(`!!! ${label}: ${s.failures.length} failed run(s): ${s.failures[0]}`);
    report.data.zerodepWarm = { runsMs: zd.ms.map(round1), medianMs: round1(median(zd.ms)) };
    report.data.zerodepLeanWarm = { runsMs: lean.ms.map(round1), medianMs: round1(median(lean.ms)) };
    report.data.koWarm = { runsMs: k.ms.map(round1), medianMs: round1(median(k.ms)) };
    report.data.ratiosWarm = ratios.map((x) => Math.round(x * 1000) / 1000);
    report.data.zerodepColdMs = round1(zdCold.ms[0]!);
    report.data.koColdMs = round1(koCold.ms[0]!);
    report.data.imagesAmd64 = sizes;
  } finally {
    reg.stop();
  }
  return report;
}
