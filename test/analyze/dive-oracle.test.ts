/**
 * `analyze --json`'s waste.dive figures against dive itself (the pinned build from .ci/run) on the same
 * images: each image is built with GNU tar layers (test/analyze/images.ts), copied to a
 * docker-archive by skopeo, and read by `dive --ci --json`. Expected values are dive's output only.
 *
 * Compared per image: efficiency (dive's efficiencyScore, exactly), wasted bytes (inefficientBytes),
 * image and per-layer sizes, the inefficient-file list (path, cumulative size, count), and the
 * user-wasted percent: exactly as dive defines it (image/analysis.go: wasted / Σ sizes of layers
 * 1..n, from its own JSON) and as its --ci text prints it (%.2f).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { needs, run } from "../helpers/env.js";
import { gnuTarDir } from "../oci/image-for-tests.js";
import { type DiveReport, divePath, toDiveReport } from "./dive-for-tests.js";
import { type BuiltImage, buildImage, buildWasteImage, fill, type LayerSpec } from "./images.js";

interface OurDive {
  efficiency: number;
  wastedBytes: number;
  wastedUserPercent: number | null;
  sizeBytes: number;
  userSizeBytes: number;
  inefficiencies: { path: string; cumulativeSize: number; count: number }[];
  abortedLayers: { layer: number; path: string }[];
}

// dive is built by .ci/run (go install, cached): locally a loud skip without it, under CI a failure.
const skip = needs({ tools: ["tar", "skopeo"], fixtures: ["go-static"], files: [divePath()] });

describe("waste.dive equals what dive reports", { skip, timeout: 300_000 }, () => {
  let work = "";
  before(() => {
    work = mkdtempSync(join(tmpdir(), "zerodep-dive-oracle-"));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function diveOf(img: BuiltImage, name: string): DiveReport {
    const archive = join(work, `${name}.docker.tar`);
    run("skopeo", ["copy", "-q", `${img.ref}`, `docker-archive:${archive}:zd/${name}:v1`]);
    const out = join(work, `${name}.dive.json`);
    // CI=true in the environment means --ci to dive: removed, so that each call does what it says.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.CI;
    const dive = (args: string[]) =>
      spawnSync(divePath(), ["--source", "docker-archive", archive, ...args], {
        encoding: "utf8",
        timeout: 60_000,
        env,
      });
    // --json exports and exits (no CI evaluation); --ci prints the Analysis section and exits 1 when
    // its default rules fail (most of these images are wasteful on purpose): dive's verdict, not an error.
    const j = dive(["--json", out]);
    assert.equal(j.status, 0, `dive --json exited ${j.status}: ${j.stderr}`);
    const c = dive(["--ci"]);
    assert.ok(c.status === 0 || c.status === 1, `dive --ci exited ${c.status}: ${c.stderr}`);
    return toDiveReport(JSON.parse(readFileSync(out, "utf8")), c.stdout);
  }

  function ours(img: BuiltImage): OurDive {
    const r = zerodep(["analyze", "--json", img.ref]);
    assert.ok(r.code === 0 || r.code === 1, `analyze exited ${r.code}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { waste: { dive: OurDive } }).waste.dive;
  }

  function compare(name: string, img: BuiltImage): { ours: OurDive; dive: DiveReport } {
    const d = diveOf(img, name);
    const o = ours(img);
    assert.equal(o.efficiency, d.efficiencyScore, `${name}: efficiency`);
    assert.equal(o.wastedBytes, d.inefficientBytes, `${name}: wasted bytes`);
    assert.equal(o.sizeBytes, d.sizeBytes, `${name}: image size`);
    const user = d.layerSizes.slice(1).reduce((a, b) => a + b, 0);
    assert.equal(o.userSizeBytes, user, `${name}: user size`);
    assert.equal(o.wastedUserPercent, user === 0 ? null : d.inefficientBytes / user, `${name}: user wasted`);
    assert.equal(d.ci.wastedBytes.split(" ")[0], String(o.wastedBytes), `${name}: --ci wastedBytes`);
    assert.equal(d.ci.efficiency, `${(o.efficiency * 100).toFixed(2)} %`, `${name}: --ci efficiency`);
    if (o.wastedBytes > 0 && o.wastedUserPercent !== null) {
      const printed = Number(d.ci.userWastedPercent.replace(" %", ""));
      assert.ok(
        Math.abs(printed - o.wastedUserPercent * 100) <= 0.005 + 1e-9,
        `${name}: --ci userWastedPercent`,
      );
    }
    const key = (x: { path: string; size: number; count: number }) => `${x.path} ${x.size} ${x.count}`;
    assert.deepEqual(
      o.inefficiencies.map((x) => key({ path: x.path, size: x.cumulativeSize, count: x.count })).sort(),
      d.fileReference.map((x) => key({ path: x.file, size: x.sizeBytes, count: x.count })).sort(),
      `${name}: inefficient files`,
    );
    return { ours: o, dive: d };
  }

  async function image(name: string, layers: LayerSpec[]) {
    return compare(name, await buildImage(work, name, layers));
  }

  test("the reference waste image (overwrite, deleted dir and file, opaque dir, empty history entry)", async () => {
    const { ours: o } = compare("waste", await buildWasteImage(work));
    assert.ok(o.wastedBytes > 0);
  });

  test("deletions: a file, a directory with files, a nested directory", async () => {
    const { ours: o } = await image("deletions", [
      { files: { "a/f": fill(700), "d/x": fill(300), "d/y": fill(200), "n/m/k/z": fill(90), keep: fill(5) } },
      { files: { "a/.wh.f": "", ".wh.d": "", "n/m/.wh.k": "", other: fill(11) } },
    ]);
    assert.ok(o.wastedBytes > 0);
  });

  test("overwrites across three layers, growing and shrinking", async () => {
    await image("overwrites", [
      { files: { "etc/conf": fill(100), "bin/tool": fill(4000) } },
      { files: { "etc/conf": fill(300), "bin/tool": fill(1000) } },
      { files: { "etc/conf": fill(50), extra: fill(1) } },
    ]);
  });

  test("an opaque whiteout, before and after entries of its own layer in name order", async () => {
    await image("opaque", [
      { files: { "o/a": fill(1000), "o/b": fill(2000), "p/c": fill(30) } },
      { files: { "o/.wh..wh..opq": "", "o/new": fill(40), "p/.wh..wh..opq": "" } },
    ]);
  });

  test("a file replaced by a directory, and a directory replaced by a file", async () => {
    await image("replaced", [
      { files: { f: fill(500), "d/inner": fill(60) } },
      { files: { "f/child": fill(20), ".wh.d": "", d: fill(7) } },
    ]);
  });

  test("hard links: a linked file deleted, then its link", async () => {
    const root = join(work, "hl-l0");
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    writeFileSync(join(root, "usr/bin/a"), fill(1000));
    linkSync(join(root, "usr/bin/a"), join(root, "usr/bin/b"));
    const raw = readFileSync(gnuTarDir(root, join(work, "hl-l0.tar")));
    await image("hardlinks", [
      { raw },
      { files: { "usr/bin/.wh.a": "" } },
      { files: { "usr/bin/.wh.b": "" } },
    ]);
  });

  test("a whiteout over nothing: dive stops scoring that layer, and so do we (abortedLayers)", async () => {
    const { ours: o } = await image("whiteout-nothing", [
      { files: { x: fill(10), z: fill(20) } },
      { files: { ".wh.absent": "", z: fill(30) } },
    ]);
    assert.deepEqual(o.abortedLayers, [{ layer: 1, path: "/absent" }]);
  });

  test("one layer only: no user bytes", async () => {
    const { ours: o } = await image("single", [{ files: { a: fill(10), "b/c": fill(20) } }]);
    assert.equal(o.wastedUserPercent, null);
  });
});
