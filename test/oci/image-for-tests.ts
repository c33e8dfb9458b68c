import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { buildConfig, buildManifest } from "../../src/oci/build.js";
import { type Digest, sha256 } from "../../src/oci/digest.js";
import type { LayoutWriter } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor } from "../../src/oci/types.js";
import { run } from "../helpers/env.js";

export const goArch =
  ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" } as Record<string, string>)[process.arch] ??
  process.arch;

/** A layer tar made by GNU tar (the anchor), reproducibly: sorted, numeric owners, mtime 0. */
export function makeLayerTar(work: string, name: string, files: Record<string, Uint8Array | string>): string {
  const root = join(work, `${name}-root`);
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, content, { mode: 0o755 });
  }
  return gnuTarDir(root, join(work, `${name}.tar`));
}

/** GNU tar of a directory, reproducibly (sorted, numeric owners 0, mtime 0); returns the tar's path. */
export function gnuTarDir(root: string, tar: string): string {
  run("tar", [
    "--numeric-owner",
    "--owner=0",
    "--group=0",
    "--sort=name",
    "--mtime=@0",
    "-cf",
    tar,
    "-C",
    root,
    ".",
  ]);
  return tar;
}

export interface TestImage {
  manifest: Descriptor;
  manifestBytes: Uint8Array;
  config: Descriptor;
  configBytes: Uint8Array;
  layer: Descriptor;
  diffId: Digest;
}

/** Puts a one-layer image into `w` (layer streamed from disk with its expected digest) and tags it. */
export async function putImage(
  w: LayoutWriter,
  tarPath: string,
  tag: string | undefined,
  entrypoint: string[],
): Promise<TestImage> {
  const tar = readFileSync(tarPath);
  const gzPath = `${tarPath}.gz`;
  writeFileSync(gzPath, gzipSync(tar));
  const gzDigest = sha256(readFileSync(gzPath));
  const l = await w.putBlob(createReadStream(gzPath, { highWaterMark: 7919 }), gzDigest);
  const layer: Descriptor = { mediaType: MediaType.ociLayerGzip, ...l };
  const diffId = sha256(tar);
  const configBytes = buildConfig({
    architecture: goArch,
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: { Entrypoint: entrypoint, Env: ["PATH=/bin"], Labels: { tag: tag ?? "" } },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "zerodep test" }],
  });
  const c = await w.putBlob(configBytes);
  const config: Descriptor = { mediaType: MediaType.ociConfig, ...c };
  const manifestBytes = buildManifest({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config,
    layers: [layer],
  });
  const m = await w.putBlob(manifestBytes);
  const manifest: Descriptor = { mediaType: MediaType.ociManifest, ...m };
  w.setRef(manifest, tag);
  return { manifest, manifestBytes, config, configBytes, layer, diffId };
}

/** Every file under `dir` with a hash of its bytes and its mode: two equal snapshots are byte-identical trees. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) {
        out[`${relative(dir, p)}/`] = st.mode.toString(8);
        walk(p);
      } else {
        out[relative(dir, p)] =
          `${st.mode.toString(8)} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** Temporary directories a writer left beside `layoutDir`. */
export function leftovers(parent: string): string[] {
  return readdirSync(parent).filter((n) => n.includes(".zerodep-tmp-"));
}
