import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ParseError, ZerodepError } from "../../src/errors.js";
import { layerTar } from "../../src/image/layer-stream.js";
import { MergedTree } from "../../src/image/merged-tree.js";
import { resolveImage } from "../../src/image/select.js";
import type { ImageSource } from "../../src/image/source.js";
import { readTar } from "../../src/tar/reader.js";
import { openImage } from "../../src/transfer/open.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const work = join(tmpdir(), `zd-image-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

async function withImage<T>(spec: string, f: (src: ImageSource) => Promise<T>): Promise<T> {
  const src = await openImage(spec);
  try {
    return await f(src);
  } finally {
    await src.close();
  }
}

/** Every layer read through our source and tar reader: the merged tree's paths, sorted. */
async function mergedPaths(src: ImageSource): Promise<string[]> {
  const img = await resolveImage(src);
  const tree = new MergedTree();
  for (const [i, l] of img.manifest.layers.entries())
    await readTar(layerTar(src, l), (e) => tree.apply(i, e));
  return [...tree.entries.keys()].sort();
}

/** The same tree as GNU tar lists it from an `umoci unpack`-free source: skopeo's own copy to a dir. */
function gnuTarPaths(layout: string, tag: string): string[] {
  const dir = join(work, `skopeo-dir-${tag}`);
  run("skopeo", ["copy", `oci:${layout}:${tag}`, `dir:${dir}`]);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
    layers: { digest: string }[];
  };
  const paths = new Set<string>();
  for (const l of manifest.layers) {
    const out = run("tar", ["-tzf", join(dir, l.digest.slice("sha256:".length))]).stdout;
    for (const line of out.split("\n")) {
      const p = line.replace(/^\.\//, "").replace(/\/$/, "");
      if (p !== "" && p !== ".") paths.add(`/${p}`);
    }
  }
  return [...paths].sort();
}

describe("image sources: layouts and archives written by skopeo and by us, read in place", () => {
  const skip = needs({ tools: ["skopeo", "tar"], fixtures: ["go-x509"] });
  const layout = join(work, "layout");
  let packed: { digest: string; images: { manifest: { digest: string }; config: { digest: string } }[] };
  before(() => {
    if (skip) return;
    const r = zerodep(["pack", "--json", fixture("go-x509"), "--out", `oci:${layout}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    packed = JSON.parse(r.stdout);
  });

  test("oci: and oci-archive: (skopeo) give the same manifest digest and the file tree GNU tar lists", {
    skip,
  }, async () => {
    const archive = join(work, "img-oci.tar");
    run("skopeo", ["copy", `oci:${layout}:v1`, `oci-archive:${archive}:v1`]);
    const want = gnuTarPaths(layout, "v1");
    assert.ok(want.includes("/app/go-x509") && want.includes("/etc/passwd"), want.join(" "));
    for (const spec of [`oci:${layout}:v1`, `oci-archive:${archive}:v1`, `oci-archive:${archive}`]) {
      await withImage(spec, async (src) => {
        const img = await resolveImage(src);
        assert.equal(img.descriptor.digest, packed.images[0]!.manifest.digest, spec);
        assert.deepEqual(await mergedPaths(src), want, spec);
      });
    }
  });

  test("docker-archive: the legacy form skopeo writes (synthesised manifest, uncompressed layers)", {
    skip,
  }, async () => {
    const archive = join(work, "img-docker-legacy.tar");
    run("skopeo", ["copy", `oci:${layout}:v1`, `docker-archive:${archive}:zd/legacy:v1`]);
    const listing = run("tar", ["-tf", archive]).stdout;
    assert.doesNotMatch(listing, /index\.json/, "skopeo writes the legacy form (no OCI index)");
    const skopeoConfig = run("skopeo", ["inspect", "--config", "--raw", `docker-archive:${archive}`]).stdout;
    await withImage(`docker-archive:${archive}:zd/legacy:v1`, async (src) => {
      const img = await resolveImage(src);
      assert.equal(img.descriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
      // The config is the very bytes skopeo wrote; its digest is theirs.
      const sha = createHash("sha256").update(skopeoConfig).digest("hex");
      assert.equal(img.manifest.config.digest, `sha256:${sha}`);
      assert.deepEqual(
        img.manifest.layers.map((l) => l.digest),
        img.config.rootfs.diff_ids,
        "uncompressed layers: digest = diff_id, verified while streaming",
      );
      assert.deepEqual(await mergedPaths(src), gnuTarPaths(layout, "v1"));
    });
    await assert.rejects(
      withImage(`docker-archive:${archive}:zd/other:v1`, async () => {}),
      (e: unknown) =>
        e instanceof ZerodepError && e.code === "REF_NOT_FOUND" && /zd\/legacy:v1/.test(e.message),
    );
  });

  test("docker-archive: the Docker 25+ form pack writes keeps the OCI manifest", { skip }, async () => {
    const archive = join(work, "img-docker-25.tar");
    const r = zerodep(["pack", "--json", fixture("go-x509"), "--out", `docker-archive:${archive}:zd/new:v2`]);
    assert.equal(r.code, 0, r.stderr);
    const want = (JSON.parse(r.stdout) as typeof packed).images[0]!.manifest.digest;
    for (const spec of [`docker-archive:${archive}`, `docker-archive:${archive}:zd/new:v2`]) {
      await withImage(spec, async (src) => {
        assert.equal((await resolveImage(src)).descriptor.digest, want, spec);
      });
    }
  });

  test("hostile archives: truncated, corrupt blob, broken manifest.json — one clear error each", {
    skip,
  }, async () => {
    const good = join(work, "img-oci.tar");
    run("skopeo", ["copy", "--quiet", `oci:${layout}:v1`, `oci-archive:${good}:v1`]);
    const size = readFileSync(good).length;

    const cut = join(work, "cut.tar");
    writeFileSync(cut, readFileSync(good).subarray(0, Math.floor(size / 2) + 100));
    await assert.rejects(
      async () => {
        await withImage(`oci-archive:${cut}`, mergedPaths);
      },
      (e: unknown) => e instanceof ParseError && /cut\.tar/.test(e.message) && !/\n/.test(e.message),
    );

    // Flip one byte in the middle of the biggest blob (the layer): reading it is DIGEST_MISMATCH.
    const flipped = join(work, "flipped.tar");
    const bytes = readFileSync(good);
    const entries = run("tar", ["-tvf", good]).stdout.trim().split("\n");
    const biggest = entries
      .map((l) => l.split(/\s+/))
      .sort((a, b) => Number(b[2]) - Number(a[2]))[0]!
      .at(-1)!;
    const hex = biggest.split("/").at(-1)!;
    // The content starts at the 512-byte block after the header that names it.
    const at = bytes.indexOf(Buffer.from(`blobs/sha256/${hex}`));
    assert.ok(at > 0);
    const mid = Math.ceil((at + 1) / 512) * 512 + 2048;
    bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
    writeFileSync(flipped, bytes);
    await assert.rejects(
      withImage(`oci-archive:${flipped}`, mergedPaths),
      (e: unknown) =>
        e instanceof ZerodepError &&
        (e.code === "DIGEST_MISMATCH" || e.code === "LAYER_CORRUPT") &&
        e.message.includes(hex.slice(0, 12)),
    );

    const legacy = join(work, "legacy-bad");
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, "manifest.json"), "[{ not json");
    run("tar", ["-cf", join(work, "legacy-bad.tar"), "-C", legacy, "manifest.json"]);
    await assert.rejects(
      withImage(`docker-archive:${join(work, "legacy-bad.tar")}`, async () => {}),
      (e: unknown) =>
        e instanceof ParseError && e.code === "JSON_INVALID" && /manifest\.json/.test(e.message),
    );

    truncateSync(cut, 0);
    await assert.rejects(
      withImage(`oci-archive:${cut}`, async () => {}),
      (e: unknown) => e instanceof ParseError && e.code === "NOT_AN_OCI_ARCHIVE",
    );
  });

  test("a legacy layer path that is a symlink to another layer (docker save dedup) is followed", {
    skip,
  }, async () => {
    const archive = join(work, "img-docker-legacy-2.tar");
    run("skopeo", ["copy", "--quiet", `oci:${layout}:v1`, `docker-archive:${archive}:zd/legacy:v1`]);
    const dir = join(work, "legacy-link");
    mkdirSync(dir, { recursive: true });
    run("tar", ["-xf", archive, "-C", dir]);
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { Layers: string[] }[];
    const layer = m[0]!.Layers[0]!;
    mkdirSync(join(dir, "dup"), { recursive: true });
    run("ln", ["-s", `../${layer}`, join(dir, "dup", "layer.tar")]);
    m[0]!.Layers[0] = "dup/layer.tar";
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
    const linked = join(work, "legacy-link.tar");
    run("tar", ["-cf", linked, "-C", dir, "."]);
    await withImage(`docker-archive:${linked}`, async (src) => {
      assert.deepEqual(await mergedPaths(src), gnuTarPaths(layout, "v1"));
    });
  });
});
