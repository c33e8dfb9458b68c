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
import { run } from "../helpers/env.js";
import { goArch } from "../oci/image-for-tests.js";

export type FileSpec =
  | string
  | Uint8Array
  | { content: string | Uint8Array; mode?: number }
  | { symlink: string }
  | { dir: true; mode?: number };

export interface LayerSpec {
  files: Record<string, FileSpec>;
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
  const tar = join(work, `${name}.tar`);
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
    const tar = gnuTarLayer(work, `${name}-l${i}`, l.files);
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
