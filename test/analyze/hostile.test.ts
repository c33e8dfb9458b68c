// Bad input for analyze (issue #6 "Bad input"): hostile layer entries become findings or warnings, broken
// blobs become one clear line and exit 3 — never a crash, never a stack trace, never a write.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { analyze } from "../../src/analyze/analyze.js";
import { buildConfig, buildManifest } from "../../src/oci/build.js";
import { LayoutWriter } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { zerodep } from "../helpers/cli.js";
import { needs } from "../helpers/env.js";
import { goArch } from "../oci/image-for-tests.js";
import { pad512, rawHeader } from "../tar/support.js";
import { buildImage, buildWasteImage } from "./images.js";

function entry(name: string, body: string | null, typeflag = "0", linkname?: string): Buffer {
  const data = body === null ? Buffer.alloc(0) : Buffer.from(body);
  return Buffer.concat([rawHeader({ name, typeflag, size: data.length, linkname }), pad512(data)]);
}
const END = Buffer.alloc(1024);

describe("analyze: hostile layer entries", () => {
  test("../ and absolute names, link chains out of the root and in a loop, dangling hard links, whiteouts over nothing, duplicates", async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-analyze-hostile-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const layer = Buffer.concat([
      entry("../../escape", "0123456789"),
      entry("/abs/file", "x".repeat(20)),
      entry("app/up", null, "2", "../../../../../bin"),
      entry("loop1", null, "2", "loop2"),
      entry("loop2", null, "2", "loop1"),
      entry("hl", null, "1", "missing/target"),
      entry(".wh.nothing", ""),
      entry("dup", "a".repeat(100)),
      entry("dup", "b".repeat(200)),
      END,
    ]);
    const img = await buildImage(work, "hostile", [{ raw: layer }], { Entrypoint: ["/loop1"] });
    const r = await analyze(img.ref);
    const msgs = r.warnings.map((w) => `${w.path}: ${w.message}`);
    assert.ok(msgs.includes("../../escape: '..' component"), msgs.join("\n"));
    assert.ok(msgs.includes("/abs/file: absolute path"));
    assert.ok(msgs.includes('hl: hard link to "missing/target", which is not in the image'));
    assert.ok(msgs.includes(".wh.nothing: whiteout with nothing beneath it"));
    // The names are kept inside the root.
    assert.equal(r.largestFiles.find((f) => f.path === "/escape")?.size, 10);
    assert.equal(r.largestFiles.find((f) => f.path === "/abs/file")?.size, 20);
    // Duplicates: the first copy's 100 bytes are shipped but not in the tree.
    assert.equal(r.waste.byReason.duplicate, 100);
    assert.equal(r.waste.wastedBytes, 100);
    assert.equal(r.totals.finalBytes, 10 + 20 + 200);
    const codes = r.findings.map((f) => f.code);
    assert.ok(codes.includes("HOSTILE_PATHS"));
    assert.ok(codes.includes("ENTRYPOINT_MISSING"), codes.join(" "));
    assert.ok(codes.includes("DIVE_WOULD_ABORT"));
    assert.equal(r.audit.entrypoint.runnable, false);
    // Nothing was written anywhere beside the layout.
    assert.deepEqual(
      readdirSync(work).filter((n) => !/^hostile-(oci|l0\.tar)$/.test(n)),
      [],
    );
  });
});

describe("analyze: broken blobs are one clear line, exit 3", () => {
  const skip = needs({ tools: ["tar"], fixtures: ["go-static"] });
  test("gzip bomb (limit), truncated blob, digest mismatch, malformed config, truncated tar", {
    skip,
  }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-analyze-bad-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const oneLine = (r: { code: number | null; stderr: string; stdout: string }, re: RegExp) => {
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    };
    // A 64 MiB file of zeros: its layer gzips to ~64 KiB.
    const bomb = await buildImage(work, "bomb", [
      { raw: Buffer.concat([entry("zeros", "\0".repeat(64 << 20)), END]) },
    ]);
    oneLine(
      zerodep(["analyze", bomb.ref, "--max-layer-bytes", "1MiB"]),
      /decompresses to more than 1048576 bytes/,
    );
    assert.equal(zerodep(["analyze", bomb.ref, "--no-audit", "--json"]).code, 0);

    const img = await buildWasteImage(work, "broken");
    const blob = join(img.dir, "blobs", "sha256", img.layers[1]!.blob.digest.slice(7));
    const good = readFileSync(blob);
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0xff;
    writeFileSync(blob, flipped);
    oneLine(zerodep(["analyze", img.ref]), /DIGEST|hashes to|corrupt/i);
    writeFileSync(blob, good);
    truncateSync(blob, good.length - 100);
    oneLine(zerodep(["analyze", img.ref]), /only \d+ bytes, descriptor says/);
    writeFileSync(blob, good);
    assert.equal(zerodep(["analyze", img.ref]).code, 0);

    // A config blob whose digest is right but whose bytes are not JSON.
    const dir = join(work, "badjson-oci");
    const w = await LayoutWriter.open(dir);
    const cfg = await w.putBlob(Buffer.from("{not json"));
    const m = await w.putBlob(
      buildManifest({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, ...cfg },
        layers: [],
      }),
    );
    w.setRef({ mediaType: MediaType.ociManifest, ...m }, "v1");
    await w.commit();
    oneLine(zerodep(["analyze", `oci:${dir}:v1`]), /not valid JSON/);

    // A layer whose tar stops in the middle of a file body (the gzip stream itself is complete).
    const cut = Buffer.concat([entry("big", "y".repeat(4000)), END]).subarray(0, 2048);
    const tdir = join(work, "trunc-oci");
    const tw = await LayoutWriter.open(tdir);
    const l = await tw.putBlob(gzipSync(cut));
    const c = await tw.putBlob(
      buildConfig({
        architecture: goArch,
        os: "linux",
        config: {},
        rootfs: { type: "layers", diff_ids: [] },
      }),
    );
    const mm = await tw.putBlob(
      buildManifest({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, ...c },
        layers: [{ mediaType: MediaType.ociLayerGzip, ...l }],
      }),
    );
    tw.setRef({ mediaType: MediaType.ociManifest, ...mm }, "v1");
    await tw.commit();
    oneLine(zerodep(["analyze", `oci:${tdir}:v1`]), /truncated/);
  });
});
