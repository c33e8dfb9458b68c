// Test images for analyze, built with the anchor tools: every layer tar is written by GNU tar from a
// directory we fill (whiteouts are plain empty files named .wh.NAME, as in any OCI layer), gzipped,
// and put into an OCI layout with LayoutWriter. Expected figures are derived from the files we put in.

import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildConfig, buildManifest } from "../../src/oci/build.js";
import { sha256 } from "../../src/oci/digest.js";
import { LayoutWriter } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor, ImageConfig } from "../../src/oci/types.js";
import { fixture, run } from "../helpers/env.js";
import { gnuTarDir, goArch } from "../oci/image-for-tests.js";

export type FileSpec =
  | string
  | Uint8Array
  | { content: string | Uint8Array; mode?: number }
  | { symlink: string }
  | { dir: true; mode?: number };

export interface LayerSpec {
  files?: Record<string, FileSpec>;
  /** A layer tar given byte for byte (hostile inputs GNU tar will not write). */
  raw?: Uint8Array;
  createdBy?: string;
  /** A history entry with empty_layer: true before this layer (dive and we must skip it). */
  emptyBefore?: string;
}

/** Writes the layer's files under `root` and tars them with GNU tar (sorted, numeric, mtime 0). */
export function gnuTarLayer(work: string, name: string, files: Record<string, FileSpec>): string {
  const root = join(work, `${name}-root`);
  mkdirSync(root, { recursive: true });
  const modes: [string, number][] = [];
  for (const [path, spec] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, ".."), { recursive: true });
    if (typeof spec === "object" && "symlink" in spec) symlinkSync(spec.symlink, full);
    else if (typeof spec === "object" && "dir" in spec) {
      mkdirSync(full, { recursive: true });
      if (spec.mode !== undefined) modes.push([full, spec.mode]);
    } else if (typeof spec === "string" || spec instanceof Uint8Array) {
      writeFileSync(full, spec);
      chmodSync(full, 0o644);
    } else {
      writeFileSync(full, spec.content);
      modes.push([full, spec.mode ?? 0o644]);
    }
  }
  for (const [p, m] of modes) chmodSync(p, m);
  return gnuTarDir(root, join(work, `${name}.tar`));
}

export interface BuiltImage {
  dir: string;
  ref: string;
  layers: { tar: string; blob: Descriptor }[];
}

/** An OCI layout at `dir` with one image (tag `tag`) made of these layers, gzipped. */
export async function buildImage(
  work: string,
  name: string,
  layers: LayerSpec[],
  config: Partial<ImageConfig["config"]> = {},
  opts: { compress?: boolean } = {},
): Promise<BuiltImage> {
  const dir = join(work, `${name}-oci`);
  const w = await LayoutWriter.open(dir);
  const out: BuiltImage["layers"] = [];
  const history: NonNullable<ImageConfig["history"]> = [];
  const diffIds: `sha256:${string}`[] = [];
  for (const [i, l] of layers.entries()) {
    let tar = join(work, `${name}-l${i}.tar`);
    if (l.raw) writeFileSync(tar, l.raw);
    else tar = gnuTarLayer(work, `${name}-l${i}`, l.files ?? {});
    const raw = readFileSync(tar);
    const blobBytes = opts.compress === false ? raw : gzipSync(raw);
    const b = await w.putBlob(blobBytes);
    const blob: Descriptor = {
      mediaType: opts.compress === false ? MediaType.ociLayer : MediaType.ociLayerGzip,
      ...b,
    };
    out.push({ tar, blob });
    diffIds.push(sha256(raw));
    if (l.emptyBefore) history.push({ created_by: l.emptyBefore, empty_layer: true });
    history.push({ created_by: l.createdBy ?? `layer ${i}` });
  }
  const c = await w.putBlob(
    buildConfig({
      architecture: goArch,
      os: "linux",
      created: "1970-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], ...config },
      rootfs: { type: "layers", diff_ids: diffIds },
      history,
    }),
  );
  const m = await w.putBlob(
    buildManifest({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...c },
      layers: out.map((x) => x.blob),
    }),
  );
  w.setRef({ mediaType: MediaType.ociManifest, ...m }, "v1");
  await w.commit();
  return { dir, ref: `oci:${dir}:v1`, layers: out };
}

/** `tar -tvf` of a layer: path → size, as GNU tar lists it (the anchor for per-layer file lists). */
export function tarListing(tar: string): Map<string, { type: string; size: number }> {
  const out = new Map<string, { type: string; size: number }>();
  for (const line of run("tar", ["--numeric-owner", "-tvf", tar]).stdout.split("\n")) {
    const m = /^(\S)\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*?)(?: -> .*| link to .*)?$/.exec(line);
    if (!m) continue;
    const path = m[3]!.replace(/^\.\//, "").replace(/\/$/, "");
    if (path === "." || path === "") continue;
    out.set(path, { type: m[1]!, size: Number(m[2]) });
  }
  return out;
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n";
const GROUP = "root:x:0:\nnonroot:x:65532:\n";
export const fill = (n: number, c = "x") => c.repeat(n);

/**
 * The reference image with known waste: 100 bytes overwritten (config.json), a 5000-byte directory
 * and a 5000-byte file deleted, 1000 bytes hidden by an opaque directory; a shell, a setuid file, a
 * world-writable file, a sticky /tmp, a file only root can read; a static Go entrypoint run as 65532.
 */
export function buildWasteImage(work: string, name = "waste"): Promise<BuiltImage> {
  return buildImage(
    work,
    name,
    [
      {
        createdBy: "base",
        files: {
          "bin/sh": { content: fill(1000), mode: 0o755 },
          "etc/passwd": PASSWD,
          "etc/group": GROUP,
          "usr/bin/passwd": { content: fill(500), mode: 0o4755 },
          tmp: { dir: true, mode: 0o1777 },
          "var/cache/apt/a.bin": fill(3000),
          "var/cache/apt/b.bin": fill(2000),
          "opt/data/one": fill(400),
          "opt/data/two": fill(600),
          "app/config.json": fill(100),
          "srv/secret": { content: fill(50), mode: 0o600 },
          "srv/ww": { content: fill(10), mode: 0o666 },
        },
      },
      {
        createdBy: "RUN apt-get clean && add data",
        emptyBefore: "ENV A=1",
        files: { "app/config.json": fill(250), "app/big.dat": fill(5000), "var/cache/.wh.apt": "" },
      },
      {
        createdBy: "COPY hello",
        files: {
          "app/.wh.big.dat": "",
          "opt/data/.wh..wh..opq": "",
          "opt/data/three": fill(300),
          "app/hello": { content: readFileSync(fixture("go-static")), mode: 0o755 },
        },
      },
    ],
    { User: "65532:65532", Entrypoint: ["/app/hello"] },
  );
}
