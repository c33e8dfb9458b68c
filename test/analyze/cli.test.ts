import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeDockerArchive, writeOciArchive } from "../../src/oci/archive.js";
import { zerodep } from "../helpers/cli.js";
import { needs } from "../helpers/env.js";
import { type BuiltImage, buildWasteImage } from "./images.js";

describe("zerodep analyze (CLI): gates, JSON, HTML, every input medium", () => {
  const skip = needs({ tools: ["tar"], fixtures: ["go-static"] });
  let work = "";
  let img: BuiltImage;
  before(async () => {
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), "zerodep-analyze-cli-"));
    img = await buildWasteImage(work);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("gates: ours (11100 wasted) and dive's (5350 wasted), exit 1 only when violated", { skip }, () => {
    const gate = (...a: string[]) => zerodep(["analyze", img.ref, "--no-audit", ...a]).code;
    assert.equal(gate("--max-wasted-bytes", "11100"), 0);
    assert.equal(gate("--max-wasted-bytes", "11099"), 1);
    assert.equal(gate("--gate-metric", "dive", "--max-wasted-bytes", "5350"), 0);
    assert.equal(gate("--gate-metric", "dive", "--max-wasted-bytes", "5349"), 1);
    assert.equal(gate("--min-efficiency", "0.99"), 0);
    assert.equal(gate("--min-efficiency", "1"), 1);
    assert.equal(gate("--max-wasted-percent", "0"), 1);
    assert.equal(gate("--max-wasted-percent", "100"), 0);
    assert.equal(gate("--min-efficiency", "2"), 2);
    assert.equal(gate("--max-wasted-bytes", "lots"), 2);
    assert.equal(gate("--gate-metric", "other"), 2);
  });

  test("--json: schemaVersion 1 with the gates judged; human output names both waste figures", {
    skip,
  }, () => {
    const r = zerodep(["analyze", img.ref, "--json", "--max-wasted-bytes", "1K"]);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.schemaVersion, 1);
    assert.equal(j.tree, undefined);
    assert.deepEqual(j.gates, [
      { gate: "max-wasted-bytes", metric: "zerodep", limit: 1000, value: 11100, pass: false },
    ]);
    const h = zerodep(["analyze", img.ref]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /waste \(zerodep\): 10\.8 KiB shipped but not in the final tree/);
    assert.match(h.stdout, /waste \(dive\): +efficiency/);
    assert.match(h.stdout, /entrypoint \/app\/hello: runs/);
    assert.equal(zerodep(["analyze", img.ref, "--fail-on", "warning"]).code, 1);
  });

  test("the same figures from oci-archive and docker-archive (Docker 25+ form)", { skip }, async () => {
    const base = JSON.parse(zerodep(["analyze", img.ref, "--json"]).stdout);
    const oa = join(work, "img.oci.tar");
    const da = join(work, "img.docker.tar");
    await writeOciArchive(img.dir, oa, { tag: "v1" });
    await writeDockerArchive(img.dir, da, { repoTag: "example/waste:v1", tag: "v1" });
    for (const ref of [`oci-archive:${oa}`, `docker-archive:${da}`]) {
      const r = zerodep(["analyze", ref, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(j.waste, base.waste, ref);
      assert.deepEqual(j.totals, base.totals, ref);
      assert.deepEqual(j.audit, base.audit, ref);
    }
  });

  test("--html writes one file atomically (no temporary left), with the data inside", { skip }, () => {
    const out = join(work, "report.html");
    const r = zerodep(["analyze", img.ref, "--html", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(out));
    assert.deepEqual(
      readdirSync(work).filter((n) => n.includes(".tmp")),
      [],
    );
    const html = readFileSync(out, "utf8");
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//i, "no external resource");
    assert.match(html, /<script id="data" type="application\/json">/);
  });
});
