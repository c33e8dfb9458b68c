// registry: `zerodep push oci:DIR:v1 HOST/REPO:TAG` against `skopeo copy oci:DIR:v1 docker://HOST/REPO:TAG`
// of the same layout (one ~100 MB layer of incompressible random bytes in an uncompressed tar) to a
// fresh repository each run, on a local docker-registry (distribution) over plain HTTP on 127.0.0.1;
// then `zerodep pull REF --out oci:DIR` against `skopeo copy docker://REF oci:DIR` into fresh layouts.
// Runs alternate between the two tools so neither gets a warmer page cache or registry. Peak RSS of
// every run comes from GNU time -v. The registry's own CPU and disk work is in both sides' times.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { type BenchContext, type SuiteReport, skipMessage } from "../internal/context.js";
import { findTool, median, round1, runOnce, toolVersion } from "../internal/measure.js";
import { formatMiB, formatRatio } from "../internal/table.js";

const LAYER_MB = 100;
const GNU_TIME = "/usr/bin/time";

function rssOf(file: string): number {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(file, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** A port nobody listens on now (synchronously, via a child: suites are synchronous). */
function freePort(): number {
  const r = spawnSync(process.execPath, [
    "-e",
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
  ]);
  return Number(r.stdout.toString().trim());
}

/** The layout: one uncompressed tar layer holding `big.bin` (random, so no tool can shortcut it). */
function buildLayout(dir: string, work: string): void {
  if (existsSync(join(dir, "index.json"))) return;
  rmSync(dir, { recursive: true, force: true });
  const payload = join(work, "big.bin");
  const fd = openSync(payload, "w");
  for (let i = 0; i < LAYER_MB; i++) writeSync(fd, randomBytes(1 << 20));
  closeSync(fd);
  const tar = join(work, "layer.tar");
  const t = spawnSync("tar", [
    "--sort=name",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-cf",
    tar,
    "-C",
    work,
    "big.bin",
  ]);
  if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
  // Plain files and sha256sum: the layout does not depend on the code under test.
  const sum = (f: string) => spawnSync("sha256sum", [f], { encoding: "utf8" }).stdout.split(" ")[0]!;
  const layerHex = sum(tar);
  const size = (f: string) => Number(spawnSync("stat", ["-c", "%s", f], { encoding: "utf8" }).stdout.trim());
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  spawnSync("mv", [tar, join(dir, "blobs", "sha256", layerHex)]);
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [`sha256:${layerHex}`] },
  });
  const cfgFile = join(work, "config.json");
  writeFileSync(cfgFile, config);
  const cfgHex = sum(cfgFile);
  spawnSync("mv", [cfgFile, join(dir, "blobs", "sha256", cfgHex)]);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${cfgHex}`,
      size: Buffer.byteLength(config),
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: `sha256:${layerHex}`,
        size: size(join(dir, "blobs", "sha256", layerHex)),
      },
    ],
  });
  const mFile = join(work, "manifest.json");
  writeFileSync(mFile, manifest);
  const mHex = sum(mFile);
  spawnSync("mv", [mFile, join(dir, "blobs", "sha256", mHex)]);
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: `sha256:${mHex}`,
          size: Buffer.byteLength(manifest),
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
      ],
    }),
  );
  rmSync(payload, { force: true });
}

interface Side {
  ms: number[];
  rss: number[];
  failures: string[];
}

export function benchRegistry(ctx: BenchContext): SuiteReport {
  const report: SuiteReport = {
    name: "registry",
    title: `registry: push and pull of a ${LAYER_MB} MB layer, zerodep vs skopeo copy, local docker-registry (median of ${ctx.runs})`,
    header: ["operation", "tool", "median ms", "min ms", "max ms", "MB/s", "peak RSS", "ratio"],
    rows: [],
    notes: [],
    skipped: [],
    data: {},
  };
  const registry =
    findTool("docker-registry", ctx.env.PATH) ?? findTool("/usr/bin/docker-registry", undefined);
  const skopeo = findTool("skopeo", ctx.env.PATH);
  const gnuTime = findTool(GNU_TIME, undefined);
  if (!registry || !skopeo) {
    report.skipped.push(
      skipMessage(
        "registry push/pull",
        registry ? "skopeo" : "docker-registry",
        "apt-get install docker-registry skopeo",
      ),
    );
    return report;
  }
  const work = join(ctx.outDir, "registry");
  mkdirSync(work, { recursive: true });
  const layout = join(work, "layout");
  ctx.log(`registry: building a layout with a ${LAYER_MB} MB layer`);
  buildLayout(layout, work);
  report.data.skopeo = toolVersion([skopeo, "--version"]);
  report.data.registry = toolVersion([registry, "--version"]);

  const timeFile = join(work, "time-v.txt");
  const run = (argv: string[], side: Side, record: boolean, env: NodeJS.ProcessEnv = ctx.env) => {
    const full = gnuTime ? [gnuTime, "-v", "-o", timeFile, ...argv] : argv;
    const r = runOnce({ label: argv[0]!, argv: full, env }, ctx.timeoutMs);
    if (r.exitCode !== 0 || r.timedOut)
      side.failures.push(r.timedOut ? "timed out" : (r.stderr.split("\n")[0] ?? ""));
    if (!record) return;
    side.ms.push(r.ms);
    if (gnuTime) side.rss.push(rssOf(timeFile));
  };
  // skopeo remembers where it saw each blob (blob-info-cache under $HOME) and would mount instead of
  // uploading: every skopeo run gets an empty HOME, and every push an empty registry.
  const skopeoEnv = (i: string) => {
    const home = join(work, `home-${i}`);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    return { ...ctx.env, HOME: home, XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "cfg") };
  };
  const sides = {
    zdPush: { ms: [], rss: [], failures: [] } as Side,
    skPush: { ms: [], rss: [], failures: [] } as Side,
    zdPull: { ms: [], rss: [], failures: [] } as Side,
    skPull: { ms: [], rss: [], failures: [] } as Side,
  };
  ctx.log(
    `registry: ${ctx.runs + 1} alternating push runs per tool (each into an empty registry), then pulls`,
  );
  for (let i = 0; i <= ctx.runs; i++) {
    const record = i > 0; // run 0 warms the page cache
    let reg = startRegistry(registry, work);
    run([...ctx.zerodep, "push", `oci:${layout}:v1`, `${reg.host}/zd/big:v1`], sides.zdPush, record);
    reg.stop();
    reg = startRegistry(registry, work);
    run(
      [skopeo, "copy", "-q", "--dest-tls-verify=false", `oci:${layout}:v1`, `docker://${reg.host}/sk/big:v1`],
      sides.skPush,
      record,
      skopeoEnv(`push${i}`),
    );
    reg.stop();
  }
  const reg = startRegistry(registry, work);
  try {
    run(
      [...ctx.zerodep, "push", `oci:${layout}:v1`, `${reg.host}/src/big:v1`],
      { ms: [], rss: [], failures: [] },
      false,
    );
    for (let i = 0; i <= ctx.runs; i++) {
      const record = i > 0;
      const a = join(work, `pull-zd-${i}`);
      const b = join(work, `pull-sk-${i}`);
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
      run([...ctx.zerodep, "pull", `${reg.host}/src/big:v1`, "--out", `oci:${a}:v1`], sides.zdPull, record);
      run(
        [skopeo, "copy", "-q", "--src-tls-verify=false", `docker://${reg.host}/src/big:v1`, `oci:${b}:v1`],
        sides.skPull,
        record,
        skopeoEnv(`pull${i}`),
      );
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  } finally {
    reg.stop();
  }
  {
    const mb = (LAYER_MB * 1048576) / 1e6;
    const row = (op: string, tool: string, s: Side, vs: Side | null) => {
      const med = median(s.ms);
      report.rows.push([
        op,
        tool,
        round1(med),
        round1(Math.min(...s.ms)),
        round1(Math.max(...s.ms)),
        round1(mb / (med / 1000)),
        s.rss.length ? formatMiB(Math.max(...s.rss)) : null,
        vs ? formatRatio(med / median(vs.ms)) : null,
      ]);
    };
    row("push", "zerodep push", sides.zdPush, sides.skPush);
    row("push", "skopeo copy", sides.skPush, null);
    row("pull", "zerodep pull", sides.zdPull, sides.skPull);
    row("pull", "skopeo copy", sides.skPull, null);
    const pushRatio = median(sides.zdPush.ms) / median(sides.skPush.ms);
    const pullRatio = median(sides.zdPull.ms) / median(sides.skPull.ms);
    report.notes.push(
      `push: zerodep/skopeo = ${formatRatio(pushRatio)} (target ≤ 1.0×: ${pushRatio <= 1 ? "met" : "NOT met"})`,
      `pull: zerodep/skopeo = ${formatRatio(pullRatio)} (target ≤ 1.0×: ${pullRatio <= 1 ? "met" : "NOT met"})`,
      "ratio = zerodep median / skopeo median; peak RSS is the largest of the timed runs (GNU time -v)",
    );
    for (const [k, s] of Object.entries(sides)) {
      if (s.failures.length)
        report.notes.push(`!!! ${k}: ${s.failures.length} failed run(s): ${s.failures[0]}`);
      report.data[k] = { runsMs: s.ms.map(round1), medianMs: round1(median(s.ms)), peakRssBytes: s.rss };
    }
    report.data.pushRatio = round1(pushRatio * 100) / 100;
    report.data.pullRatio = round1(pullRatio * 100) / 100;
  }
  return report;
}

/** docker-registry on a free port with an empty store, started and waited for synchronously. */
export function startRegistry(bin: string, work: string): { host: string; stop(): void } {
  const port = freePort();
  const store = join(work, `store-${port}`);
  rmSync(store, { recursive: true, force: true });
  const cfg = join(work, `config-${port}.yml`);
  writeFileSync(
    cfg,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${store}\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: bench\n`,
  );
  const logFd = openSync(join(work, "registry.log"), "a");
  const child: ChildProcess = spawn(bin, ["serve", cfg], { stdio: ["ignore", logFd, logFd] });
  for (let i = 0; i < 100; i++) {
    const r = spawnSync(process.execPath, [
      "-e",
      `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`,
    ]);
    if (r.status === 0) break;
    spawnSync("sleep", ["0.1"]);
  }
  return {
    host: `127.0.0.1:${port}`,
    stop: () => {
      child.kill("SIGKILL");
      spawnSync("sleep", ["0.2"]);
      closeSync(logFd);
      rmSync(store, { recursive: true, force: true });
      rmSync(cfg, { force: true });
    },
  };
}
