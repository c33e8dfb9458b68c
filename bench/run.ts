// Benchmark entry point (`npm run bench`, or `node dist/bench/run.js [--only scan|inspect|memory|deps|pack|analyze|registry|build]`).
// The only bench file that touches the process: argv, env and the exit code. It measures whatever is
// built in dist/ right now, prints one table per suite to stdout, progress and skips to stderr, and
// writes bench/out/results.json. It asserts nothing about speed: this is a measurement, not a test.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BenchContext, SuiteReport } from "./internal/context.js";
import { formatTable } from "./internal/table.js";
import { benchAnalyze } from "./suites/analyze.js";
import { benchBuild } from "./suites/build.js";
import { benchDeps } from "./suites/deps.js";
import { benchInspect } from "./suites/inspect.js";
import { benchMemory } from "./suites/memory.js";
import { benchPack } from "./suites/pack.js";
import { benchRegistry } from "./suites/registry.js";
import { benchScan } from "./suites/scan.js";

const SUITES = {
  scan: benchScan,
  inspect: benchInspect,
  memory: benchMemory,
  deps: benchDeps,
  pack: benchPack,
  analyze: benchAnalyze,
  registry: benchRegistry,
  build: benchBuild,
} as const satisfies Record<SuiteReport["name"], (ctx: BenchContext) => SuiteReport>;
type SuiteName = keyof typeof SUITES;

const HELP = `Usage: node dist/bench/run.js [--only scan|inspect|memory|deps|pack|analyze|registry|build]... [--runs N] [--timeout S]

Times the built CLI (dist/src/cli/main.js) against its anchor tools on this host:
  scan     zerodep scan vs scanelf -R over /usr/bin /usr/lib /usr/libexec /usr/sbin
  inspect  zerodep inspect on 500 ELF files vs a readelf -d loop and a checksec loop
  memory   peak RSS of zerodep inspect on 100 MB+ binaries (built into bench/out/memory/)
  deps     zerodep deps on every dynamically linked ELF in /usr/bin vs lddtree, one call each
  pack     zerodep pack of a ~50 MB static Go binary vs gzip -6/-1 of it; peak RSS on a ~500 MB one
  analyze  zerodep analyze of a ~300 MB image vs tar -tzvf over the same layer blobs; peak RSS
  registry zerodep push/pull of a 100 MB layer vs skopeo copy, local docker-registry; peak RSS
  build    zerodep build vs ko build of a Go service for amd64+arm64 on the same base; warm and cold

Options:
  --only NAME   run only this suite (repeatable, or comma-separated)
  --runs N      timed runs per command after one warm-up run (default 5); the median is reported
  --timeout S   kill any single run after S seconds (default 600) and flag it, instead of hanging

Results: tables on stdout, progress on stderr, everything in bench/out/results.json.`;

function main(argv: string[]): number {
  let values: { only?: string[]; runs?: string; timeout?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: "string", multiple: true },
        runs: { type: "string" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  const wanted = (values.only ?? Object.keys(SUITES)).flatMap((s) => s.split(",")).filter((s) => s !== "");
  const unknown = wanted.filter((s) => !(s in SUITES));
  const runs = values.runs === undefined ? 5 : Number(values.runs);
  const timeoutS = values.timeout === undefined ? 600 : Number(values.timeout);
  let problem: string | null = null;
  if (unknown.length > 0) problem = `unknown suite ${unknown.join(", ")}`;
  else if (!Number.isInteger(runs) || runs < 1) problem = "--runs wants a whole number ≥ 1";
  else if (!(timeoutS > 0)) problem = "--timeout wants a number of seconds > 0";
  if (problem) {
    process.stderr.write(`bench: ${problem}\n${HELP}\n`);
    return 2;
  }

  const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
  const outDir = join(repoRoot, "bench", "out");
  mkdirSync(outDir, { recursive: true });
  const ctx: BenchContext = {
    repoRoot,
    outDir,
    zerodep: [process.execPath, fileURLToPath(new URL("../src/cli/main.js", import.meta.url))],
    runs,
    timeoutMs: timeoutS * 1000,
    env: process.env,
    log: (m) => process.stderr.write(`${m}\n`),
  };

  const host = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    cpu: cpus()[0]?.model ?? "unknown",
    cpus: cpus().length,
  };
  process.stdout.write(
    `zerodep benchmark — ${host.cpus}× ${host.cpu}, Linux ${host.kernel}, Node ${host.node}\n` +
      `CLI under test: ${ctx.zerodep.join(" ")}\n`,
  );

  const reports: SuiteReport[] = [];
  for (const name of [...new Set(wanted)] as SuiteName[]) {
    const r = SUITES[name](ctx);
    for (const s of r.skipped) process.stderr.write(`\n!!! ${s} !!!\n\n`);
    reports.push(r);
    process.stdout.write(`\n== ${r.title}\n`);
    if (r.rows.length > 0) process.stdout.write(formatTable(r.header, r.rows) + "\n");
    for (const n of r.notes) process.stdout.write(`  ${n}\n`);
    for (const s of r.skipped) process.stdout.write(`  !!! ${s}\n`);
  }

  const resultsPath = join(outDir, "results.json");
  const results = {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    host,
    runs,
    suites: Object.fromEntries(
      reports.map((r) => [r.name, { title: r.title, notes: r.notes, skipped: r.skipped, ...r.data }]),
    ),
  };
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(`\nresults: ${resultsPath}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
