// Issue #12 "Hostile images, registries and faults", local images on disk: FIFOs where files should be,
// a blobs/sha256 that is a symbolic link out of the layout, a corrupt blob already in a destination,
// paths thousands of components deep, megabyte tags. Each runs the built CLI (main.js) as a user would,
// under a 20 s watchdog that kills it (a process stuck opening a FIFO ignores SIGTERM), and must give
// exit 3 and one line on stderr naming the file, or the right result — never a hang or a stack trace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { sha256 } from "../../src/oci/digest.js";
import { LayoutWriter } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { cliPath } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { goArch } from "../oci/image-for-tests.js";
import { pad512, paxData, rawHeader } from "../tar/support.js";

function zd(args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    killSignal: "SIGKILL",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

function assertOneLine(r: ReturnType<typeof zd>, what: string, mustName: string): void {
  const ctx = `${what}\nsignal: ${r.signal}\nstdout: ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 2000)}`;
  assert.equal(r.signal, null, `killed by the watchdog (a hang): ${ctx}`);
  assert.equal(r.code, 3, ctx);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, ctx);
  assert.doesNotMatch(r.stderr, /\n\s+at /, ctx);
  assert.ok(r.stderr.includes(mustName), `stderr should name ${mustName}: ${ctx}`);
}

/** The digests of a one-image layout: manifest, config, layer. */
function blobsOf(dir: string): { manifest: string; config: string; layer: string } {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const m = index.manifests[0].digest.slice(7);
  const manifest = JSON.parse(readFileSync(join(dir, "blobs", "sha256", m), "utf8"));
  return { manifest: m, config: manifest.config.digest.slice(7), layer: manifest.layers[0].digest.slice(7) };
}

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir))
    out[n] = createHash("sha256")
      .update(readFileSync(join(dir, n)))
      .digest("hex");
  return out;
}

describe("hostile local images on disk", () => {
  const skip = needs({ fixtures: ["go-static"], tools: ["mkfifo"] });

  test("a FIFO for oci-layout, index.json or a blob, an archive or --ca-certs: NOT_REGULAR_FILE, no hang", {
    skip,
  }, (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-fifo-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const bin = fixture("go-static");
    const good = join(work, "good");
    assert.equal(zd(["pack", bin, "--out", `oci:${good}:v1`]).code, 0);
    const b = blobsOf(good);
    const targets = {
      "oci-layout": "oci-layout",
      "index.json": "index.json",
      manifest: `blobs/sha256/${b.manifest}`,
      config: `blobs/sha256/${b.config}`,
      layer: `blobs/sha256/${b.layer}`,
    };
    const bad = join(work, "bad");
    const withFifo = (rel: string): string => {
      rmSync(bad, { recursive: true, force: true });
      cpSync(good, bad, { recursive: true });
      rmSync(join(bad, rel));
      run("mkfifo", [join(bad, rel)]);
      return join(bad, rel);
    };
    const img = `oci:${bad}:v1`;
    for (const [what, rel] of Object.entries(targets)) {
      const readers = [
        ["analyze", img],
        ["check", img],
        ["inspect", img],
        ["diff", `oci:${good}:v1`, img],
        ["copy", img, `oci:${join(work, "out")}:v1`],
        ["pack", bin, "--base", img, "--out", `oci:${join(work, "out2")}:v1`],
      ];
      // Writing into a layout reads its oci-layout and index.json first (blobs there are replaced, not read).
      const writers =
        what === "oci-layout" || what === "index.json"
          ? [
              ["pack", bin, "--out", `oci:${bad}:v2`],
              ["copy", `oci:${good}:v1`, `oci:${bad}:v3`],
            ]
          : [];
      for (const argv of [...readers, ...writers]) {
        const fifo = withFifo(rel);
        const r = zd(argv);
        assertOneLine(r, `FIFO as ${what}: zerodep ${argv.join(" ")}`, fifo);
        assert.match(r.stderr, /not a regular file \(a FIFO\)/);
      }
    }
    const fifo = join(work, "fifo");
    run("mkfifo", [fifo]);
    for (const argv of [
      ["pack", bin, "--ca-certs", fifo, "--out", `oci:${join(work, "out3")}:v1`],
      ["analyze", `oci-archive:${fifo}`],
      ["analyze", `docker-archive:${fifo}`],
      ["inspect", `oci-archive:${fifo}`],
    ]) {
      assertOneLine(zd(argv), `zerodep ${argv.join(" ")}`, fifo);
    }
  });

  test("blobs/sha256 a symbolic link out of the destination layout: refused, nothing written outside", {
    skip,
  }, (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-link-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const bin = fixture("go-static");
    const good = join(work, "good");
    assert.equal(zd(["pack", bin, "--out", `oci:${good}:v1`]).code, 0);
    const dst = join(work, "dst");
    cpSync(good, dst, { recursive: true });
    const outside = join(work, "outside");
    renameSync(join(dst, "blobs", "sha256"), outside);
    symlinkSync(outside, join(dst, "blobs", "sha256"));
    // A blob the destination lacks, so that a write through the link would add a file outside.
    const other = join(work, "other");
    assert.equal(
      zd(["pack", bin, "--env", "A=1", "--out", `oci:${other}:v1`]).code,
      0,
      "a second, different image",
    );
    const before = hashTree(outside);
    const indexBefore = readFileSync(join(dst, "index.json"));
    for (const argv of [
      ["copy", `oci:${other}:v1`, `oci:${dst}:v2`],
      ["pack", bin, "--env", "B=2", "--out", `oci:${dst}:v3`],
    ]) {
      const r = zd(argv);
      assertOneLine(r, `zerodep ${argv.join(" ")}`, join(dst, "blobs", "sha256"));
      assert.match(r.stderr, /symbolic link/);
      assert.deepEqual(hashTree(outside), before, "nothing written outside the layout");
      assert.deepEqual(readFileSync(join(dst, "index.json")), indexBefore, "index.json untouched");
    }
    assert.deepEqual(
      readdirSync(work).filter((n) => n.includes("zerodep-tmp")),
      [],
      "no staging directory left behind",
    );
  });

  test("a corrupt blob of the right size already in the destination is replaced, not trusted", {
    skip: skip || needs({ tools: ["skopeo"] }),
  }, (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-corrupt-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const good = join(work, "good");
    assert.equal(zd(["pack", fixture("go-static"), "--out", `oci:${good}:v1`]).code, 0);
    const dst = join(work, "dst");
    assert.equal(zd(["copy", `oci:${good}:v1`, `oci:${dst}:v1`]).code, 0);
    const { layer } = blobsOf(dst);
    const file = join(dst, "blobs", "sha256", layer);
    const bytes = readFileSync(file);
    bytes[100]! ^= 0xff; // same size, wrong content
    writeFileSync(file, bytes);
    assert.notEqual(createHash("sha256").update(readFileSync(file)).digest("hex"), layer);
    const r = zd(["copy", `oci:${good}:v1`, `oci:${dst}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(createHash("sha256").update(readFileSync(file)).digest("hex"), layer, "blob rewritten");
    // skopeo verifies every blob's digest while copying: the anchor reads the layout fine.
    const s = spawnSync("skopeo", ["copy", `oci:${dst}:v1`, `oci:${join(work, "via-skopeo")}:v1`], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(s.status, 0, s.stderr);
    assert.equal(zd(["analyze", `oci:${dst}:v1`]).code, 0);
  });

  test("a layer path 3,250 components deep: analyze (text, --json, --html), diff and check finish, no stack overflow", async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-deep-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const deep = `${Array.from({ length: 3250 }, () => "d").join("/")}/f`;
    const pax = paxData([["path", deep]]);
    const layer = Buffer.concat([
      rawHeader({ name: "pax", typeflag: "x", size: pax.length }),
      pad512(pax),
      rawHeader({ name: "f", typeflag: "0", size: 1 }),
      pad512(Buffer.from("x")),
      Buffer.alloc(1024),
    ]);
    const dir = join(work, "deep");
    const w = await LayoutWriter.open(dir);
    const l = await w.putBlob(layer);
    const c = await w.putBlob(
      Buffer.from(
        JSON.stringify({
          architecture: goArch,
          os: "linux",
          config: { Entrypoint: [`/${deep}`] },
          rootfs: { type: "layers", diff_ids: [sha256(layer)] },
        }),
      ),
    );
    const m = await w.putBlob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, ...c },
          layers: [{ mediaType: MediaType.ociLayer, ...l }],
        }),
      ),
    );
    w.setRef({ mediaType: MediaType.ociManifest, ...m }, "v1");
    await w.commit();
    const img = `oci:${dir}:v1`;
    const html = join(work, "r.html");
    for (const argv of [
      ["analyze", img],
      ["analyze", img, "--html", html],
      ["diff", img, img],
      ["check", img],
    ]) {
      const r = zd(argv);
      assert.equal(r.signal, null, `${argv.join(" ")}: killed by the watchdog`);
      assert.ok(
        r.code === 0 || r.code === 1,
        `${argv.join(" ")}: exit ${r.code}: ${r.stderr.slice(0, 1500)}`,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at |RangeError/);
    }
    const j = zd(["analyze", img, "--json"]);
    assert.equal(j.code, 0, j.stderr.slice(0, 1500));
    const res = JSON.parse(j.stdout);
    assert.equal(res.totals.finalBytes, 1, "the one deep file is in the tree");
    assert.ok(readFileSync(html).length > 0);
  });

  test("a layer blob longer than its descriptor, in a layout and an oci-archive: DIGEST_MISMATCH every time", {
    skip: needs({ tools: ["tar"] }),
  }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-long-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    // A real tar followed by 1 MiB of zeros (what a tar's end looks like), gzipped: the descriptor says
    // fewer bytes than the blob has — by half (the excess is inside the tar) or by the tail only (the
    // tar ends before the descriptor does, so only reading the blob to its end finds it).
    const body = Buffer.from("#!/bin/sh\n");
    const tar = Buffer.concat([
      rawHeader({ name: "hello", typeflag: "0", size: body.length, mode: 0o755 }),
      pad512(body),
      Buffer.alloc(1 << 20),
    ]);
    const gz = gzipSync(tar, { level: 0 });
    for (const [name, size] of [
      ["half", Math.floor(gz.length / 2)],
      ["tail", gz.length - 1000],
    ] as const) {
      const dir = join(work, name);
      const w = await LayoutWriter.open(dir);
      const l = await w.putBlob(gz);
      const c = await w.putBlob(
        Buffer.from(
          JSON.stringify({
            architecture: goArch,
            os: "linux",
            config: { Entrypoint: ["/hello"] },
            rootfs: { type: "layers", diff_ids: [sha256(tar)] },
          }),
        ),
      );
      const m = await w.putBlob(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.ociManifest,
            config: { mediaType: MediaType.ociConfig, ...c },
            layers: [{ mediaType: MediaType.ociLayerGzip, digest: l.digest, size }],
          }),
        ),
      );
      w.setRef({ mediaType: MediaType.ociManifest, ...m }, "v1");
      await w.commit();
      const archive = join(work, `${name}.tar`);
      run("tar", ["-cf", archive, "-C", dir, "."]);
      // Several runs: the error used to be ERR_STREAM_PREMATURE_CLOSE or a success, depending on timing.
      for (let i = 0; i < 3; i++) {
        for (const img of [`oci:${dir}:v1`, `oci-archive:${archive}`]) {
          for (const cmd of ["analyze", "inspect"]) {
            const r = zd([cmd, img]);
            assertOneLine(r, `${name}: zerodep ${cmd} ${img}`, l.digest);
            assert.match(r.stderr, new RegExp(`more than ${size} bytes, descriptor says ${size}`));
          }
        }
      }
    }
  });

  test("megabyte tags and ref names are cut in the one error line", (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-tag-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const dir = join(work, "layout");
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const huge = "n".repeat(10 * 1024 * 1024);
    const d = { mediaType: MediaType.ociManifest, digest: sha256(Buffer.from("x")), size: 1 };
    writeFileSync(
      join(dir, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { ...d, annotations: { "org.opencontainers.image.ref.name": huge } },
          { ...d, annotations: { "org.opencontainers.image.ref.name": "other" } },
        ],
      }),
    );
    for (const argv of [
      ["analyze", `oci:${dir}:v9`],
      ["analyze", `oci:${dir}`],
      ["check", `oci:${dir}:v9`],
    ]) {
      const r = zd(argv);
      assertOneLine(r, `zerodep ${argv.join(" ")}`, dir);
      assert.ok(r.stderr.length < 3000, `${r.stderr.length} bytes of stderr`);
      assert.ok(r.stderr.includes("…"));
    }
    // From the command line (an argument can be 128 KiB): a usage error, also cut.
    const tag = "t".repeat(100_000);
    const r = zd(["analyze", `oci:${dir}:${tag}`]);
    assert.equal(r.code, 2, r.stderr.slice(0, 500));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    assert.ok(r.stderr.length < 3000, `${r.stderr.length} bytes of stderr`);
  });
});
