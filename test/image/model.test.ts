import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { copyImage } from "../../src/image/copy.js";
import { LayoutImageSink } from "../../src/image/layout-sink.js";
import {
  append,
  type Image,
  type ImageIndex,
  imageSource,
  readImage,
  withAnnotations,
  withConfig,
} from "../../src/image/model.js";
import type { ImageSource } from "../../src/image/source.js";
import { stageLayer } from "../../src/image/staged-layer.js";
import { openImage } from "../../src/transfer/open.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const skip = needs({ tools: ["skopeo", "umoci"], fixtures: ["go-static", "go-arm64"] });
const sha = (s: string | Buffer) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

describe("the image model: read lazily, edited, written by the copy engine; read back by skopeo and umoci", {
  skip,
}, () => {
  let work: string;
  let one: string;
  let multi: string;
  const open: ImageSource[] = [];
  before(() => {
    work = mkdtempSync(join(tmpdir(), "zd-model-"));
    one = `oci:${join(work, "one")}:v1`;
    multi = `oci:${join(work, "multi")}:v1`;
    for (const [dest, bins] of [
      [one, [fixture("go-static")]],
      [multi, [fixture("go-static"), fixture("go-arm64")]],
    ] as const) {
      const r = zerodep(["pack", ...bins, "--out", dest, "--ca-certs", "none", "--tzdata", "none"]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    for (const s of open) await s.close();
    rmSync(work, { recursive: true, force: true });
  });
  const src = async (spec: string) => {
    const s = await openImage(spec);
    open.push(s);
    return s;
  };
  async function write(img: Image | ImageIndex, dir: string): Promise<string> {
    const sink = await LayoutImageSink.open(dir, "v1");
    const r = await copyImage(imageSource(img, "test"), sink);
    return r.digest;
  }

  test("an unedited image or index is written back byte for byte (same digests as skopeo reads)", async () => {
    for (const spec of [one, multi]) {
      const img = await readImage(await src(spec));
      const dir = join(work, `rt-${img.kind}`);
      const digest = await write(img, dir);
      assert.equal(digest, sha(run("skopeo", ["inspect", "--raw", spec]).stdout));
      assert.equal(sha(run("skopeo", ["inspect", "--raw", `oci:${dir}:v1`]).stdout), digest);
    }
  });

  test("append + withConfig + withAnnotations: base layers and diff_ids kept, the new layer on top, a valid image", async () => {
    const base = (await readImage(await src(one))) as Image;
    const baseManifest = await base.manifest();
    const layer = await stageLayer(
      [
        {
          entry: { path: "etc/motd", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 3 },
          body: Buffer.from("hi\n"),
        },
      ],
      { dir: work, mtime: 0, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
    );
    let img = append(base, layer, { created_by: "test" });
    img = withConfig(img, (c) => ({
      ...c,
      config: { ...c.config, Env: ["A=1"] },
      // A patch cannot change rootfs: the layers decide it.
      rootfs: { type: "layers", diff_ids: [] },
    }));
    img = withAnnotations(img, { "org.example": "x" });
    const dir = join(work, "edited");
    const digest = await write(img, dir);
    const raw = run("skopeo", ["inspect", "--raw", `oci:${dir}:v1`]).stdout;
    assert.equal(sha(raw), digest);
    const m = JSON.parse(raw) as { layers: { digest: string }[]; annotations: Record<string, string> };
    assert.deepEqual(
      m.layers.map((l) => l.digest),
      [...baseManifest.layers.map((l) => l.digest), layer.digest],
    );
    assert.equal(m.annotations["org.example"], "x");
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${dir}:v1`]).stdout) as {
      rootfs: { diff_ids: string[] };
      config: { Env: string[] };
      history: { created_by?: string }[];
    };
    const baseCfg = await base.config();
    assert.deepEqual(cfg.rootfs.diff_ids, [...baseCfg.rootfs.diff_ids, layer.diffId]);
    assert.deepEqual(cfg.config.Env, ["A=1"]);
    assert.equal(cfg.history.at(-1)?.created_by, "test");
    // umoci unpacks it (checks every layer's digest and diff_id) and finds the new file.
    const bundle = join(work, "bundle");
    run("umoci", ["unpack", "--rootless", "--image", `${dir}:v1`, bundle]);
    assert.equal(run("cat", [join(bundle, "rootfs", "etc", "motd")]).stdout, "hi\n");
  });

  test("a config edit that breaks history alignment is refused by the builder; a base already misaligned is kept", async () => {
    const base = (await readImage(await src(one))) as Image;
    const broken = withConfig(base, (c) => ({ ...c, history: [...(c.history ?? []), { created_by: "x" }] }));
    await assert.rejects(broken.rawConfig(), /CONFIG_INVALID|non-empty history entries/);
    // Further edits on top of the misaligning one do not launder it.
    const odd = withAnnotations(
      withConfig(broken, (c) => ({ ...c, created: "2000-01-01T00:00:00Z" })),
      {},
    );
    // A base read from elsewhere that was already misaligned (built by another tool) is kept as it was.
    const misaligned: Image = { ...base, config: async () => ({ ...(await base.config()), history: [] }) };
    const kept = withConfig(misaligned, (c) => ({ ...c, created: "2000-01-01T00:00:00Z" }));
    const cfg = JSON.parse(Buffer.from(await kept.rawConfig()).toString("utf8")) as { history: unknown[] };
    assert.deepEqual(cfg.history, []);
    await assert.rejects(odd.rawConfig(), /CONFIG_INVALID|non-empty history entries/);
  });

  test("an index is read lazily: one platform's image is written without touching the other's layers", async () => {
    const s = await src(multi);
    const idx = (await readImage(s)) as ImageIndex;
    assert.equal(idx.kind, "index");
    const entries = await idx.images();
    assert.deepEqual(
      entries.map((e) => e.descriptor.platform?.architecture),
      ["amd64", "arm64"],
    );
    const arm = (await readImage(s, { platform: "linux/arm64" })) as Image;
    const dir = join(work, "arm-only");
    const digest = await write(arm, dir);
    assert.equal(digest, entries[1]!.descriptor.digest);
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${dir}:v1`]).stdout) as {
      architecture: string;
    };
    assert.equal(cfg.architecture, "arm64");
  });
});
