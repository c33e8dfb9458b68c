import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ZerodepError } from "../../src/errors.js";
import { sha256 } from "../../src/oci/digest.js";
import { LayoutReader, LayoutWriter, REF_NAME } from "../../src/oci/layout.js";
import type { Descriptor, Manifest } from "../../src/oci/types.js";
import { needs, run } from "../helpers/env.js";
import { goArch, leftovers, makeLayerTar, putImage } from "./image-for-tests.js";

/** stdout as exact bytes (skopeo --raw prints the stored manifest without a trailing newline). */
function runBytes(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// A real multi-megabyte program (busybox-static, installed by .ci/run) as the layer payload.
const BUSYBOX = "/bin/busybox";

test("a layout from LayoutWriter is read by skopeo and umoci (the anchors)", {
  skip: needs({ tools: ["skopeo", "umoci", "tar", "sha256sum"], files: [BUSYBOX] }),
}, async (t) => {
  const payload = readFileSync(BUSYBOX);
  const work = mkdtempSync(join(tmpdir(), "zerodep-layout-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, "layout");
  const tar1 = makeLayerTar(work, "one", { "bin/busybox": payload, "etc/motd": "hello from v1\n" });
  const w = await LayoutWriter.open(dir);
  const img1 = await putImage(w, tar1, "v1", ["/bin/busybox"]);
  await w.commit();
  assert.deepEqual(leftovers(work), [], "no temporary directory left beside the layout");

  await t.test("blob file names are the sha256sum of their contents", () => {
    const blobs = join(dir, "blobs", "sha256");
    const names = readdirSync(blobs).sort();
    assert.equal(names.length, 3);
    const out = run(
      "sha256sum",
      names.map((n) => join(blobs, n)),
    )
      .stdout.trim()
      .split("\n");
    for (const line of out) {
      const [sum, path] = line.split(/\s+\*?/);
      assert.equal(path, join(blobs, sum!));
    }
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), {
      imageLayoutVersion: "1.0.0",
    });
  });

  await t.test("skopeo inspect --raw prints exactly our manifest bytes", () => {
    const raw = runBytes("skopeo", ["inspect", "--raw", `oci:${dir}:v1`]);
    assert.equal(sha256(raw), img1.manifest.digest);
    assert.deepEqual(raw, Buffer.from(img1.manifestBytes));
  });

  await t.test("skopeo inspect --config sees our config; --config --raw has its digest", () => {
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${dir}:v1`]).stdout);
    assert.equal(cfg.architecture, goArch);
    assert.equal(cfg.os, "linux");
    assert.deepEqual(cfg.config.Entrypoint, ["/bin/busybox"]);
    assert.deepEqual(cfg.rootfs, { type: "layers", diff_ids: [img1.diffId] });
    const raw = runBytes("skopeo", ["inspect", "--config", "--raw", `oci:${dir}:v1`]);
    assert.equal(sha256(raw), img1.config.digest);
    const summary = JSON.parse(run("skopeo", ["inspect", `oci:${dir}:v1`]).stdout);
    assert.equal(summary.Digest, img1.manifest.digest);
    assert.deepEqual(summary.Layers, [img1.layer.digest]);
  });

  await t.test(
    "skopeo copy to a second layout succeeds; LayoutReader verifies every blob of the copy",
    async () => {
      const dir2 = join(work, "copy");
      run("skopeo", ["copy", "--quiet", `oci:${dir}:v1`, `oci:${dir2}:v1`]);
      const r = await LayoutReader.open(dir2);
      const desc = r.resolveRef("v1");
      assert.equal(desc.digest, img1.manifest.digest, "oci→oci copy keeps the manifest digest");
      const m = await r.readJson<Manifest>(desc);
      for (const d of [m.config, ...m.layers]) {
        let n = 0;
        for await (const c of r.blob(d)) n += c.byteLength;
        assert.equal(n, d.size);
      }
    },
  );

  await t.test("umoci unpack gives back the files", () => {
    const bundle = join(work, "bundle");
    const rootless = process.getuid?.() === 0 ? [] : ["--rootless"];
    run("umoci", ["unpack", ...rootless, "--image", `${dir}:v1`, bundle]);
    assert.deepEqual(readFileSync(join(bundle, "rootfs", "bin", "busybox")), payload);
    assert.equal(readFileSync(join(bundle, "rootfs", "etc", "motd"), "utf8"), "hello from v1\n");
    assert.ok(statSync(join(bundle, "config.json")).isFile());
  });

  const tar2 = makeLayerTar(work, "two", { "etc/motd": "hello from v2\n" });
  let img2: Awaited<ReturnType<typeof putImage>> | undefined;
  await t.test("adding a second image under another tag keeps the first", async () => {
    const w2 = await LayoutWriter.open(dir);
    img2 = await putImage(w2, tar2, "v2", ["/bin/sh"]);
    await w2.commit();
    assert.deepEqual(leftovers(work), []);
    for (const [tag, img] of [
      ["v1", img1],
      ["v2", img2],
    ] as const) {
      const raw = runBytes("skopeo", ["inspect", "--raw", `oci:${dir}:${tag}`]);
      assert.equal(sha256(raw), img.manifest.digest, tag);
    }
    const r = await LayoutReader.open(dir);
    assert.deepEqual(
      r.index.manifests.map((d) => d.annotations?.[REF_NAME]),
      ["v1", "v2"],
    );
    assert.throws(
      () => r.resolveRef(),
      (e: unknown) => e instanceof ZerodepError && e.code === "AMBIGUOUS_REF" && /v1, v2/.test(e.message),
    );
    const bundle = join(work, "bundle-v2");
    run("umoci", [
      "unpack",
      ...(process.getuid?.() === 0 ? [] : ["--rootless"]),
      "--image",
      `${dir}:v2`,
      bundle,
    ]);
    assert.equal(readFileSync(join(bundle, "rootfs", "etc", "motd"), "utf8"), "hello from v2\n");
  });

  await t.test(
    "re-tagging replaces the entry in place; an identical existing blob is not rewritten",
    async () => {
      const layerPath = join(dir, "blobs", "sha256", img1.layer.digest.slice(7));
      const before = statSync(layerPath);
      const w3 = await LayoutWriter.open(dir);
      // Same layer as v1, different config (the label carries the tag): a new manifest for v2.
      const img3 = await putImage(w3, tar1, "v2", ["/bin/busybox", "true"]);
      assert.equal(img3.layer.digest, img1.layer.digest);
      await w3.commit();
      const after = statSync(layerPath);
      assert.equal(after.ino, before.ino);
      assert.equal(after.mtimeMs, before.mtimeMs);
      const r = await LayoutReader.open(dir);
      const entries: Descriptor[] = r.index.manifests;
      assert.deepEqual(
        entries.map((d) => [d.annotations?.[REF_NAME], d.digest]),
        [
          ["v1", img1.manifest.digest],
          ["v2", img3.manifest.digest],
        ],
      );
      assert.notEqual(img3.manifest.digest, img2?.manifest.digest);
      const raw = runBytes("skopeo", ["inspect", "--raw", `oci:${dir}:v2`]);
      assert.equal(sha256(raw), img3.manifest.digest);
    },
  );
});
