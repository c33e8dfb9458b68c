import { ParseError, ZerodepError } from "../errors.js";
import { checkDescriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import { formatPlatform, parsePlatform, platformMatches } from "../oci/platform.js";
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from "../oci/types.js";
import { checkConfig } from "../oci/validate.js";

export { formatPlatform, parsePlatform, platformMatches };

import type { ImageSource } from "./source.js";

/** One runnable image of a reference: its manifest, config and platform. */
export interface ResolvedImage {
  /** The manifest's descriptor (with the index entry's platform when it came from an index). */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  platform: Platform;
}

const MAX_INDEX_DEPTH = 4;

export function isIndexMediaType(t: string): boolean {
  return t === MediaType.ociIndex || t === MediaType.dockerManifestList;
}

export function isManifestMediaType(t: string): boolean {
  return t === MediaType.ociManifest || t === MediaType.dockerManifest;
}

/** Buildx attestation manifests and other unknown/unknown entries are not images to run or analyze. */
export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" ||
    (d.platform?.os === "unknown" && d.platform?.architecture === "unknown")
  );
}

/**
 * The images a reference names: the one manifest, or every entry of its index (nested indexes followed,
 * attestations skipped), narrowed to `platform` when given. ZerodepError PLATFORM_NOT_FOUND lists what
 * exists. Manifests and configs are checked for the fields everything after relies on.
 */
export async function resolveImages(
  src: ImageSource,
  opts: { platform?: Platform | string; top?: Descriptor } = {},
): Promise<ResolvedImage[]> {
  const want = typeof opts.platform === "string" ? parsePlatform(opts.platform) : opts.platform;
  const top = opts.top ?? (await src.resolve());
  const found: ResolvedImage[] = [];
  await collect(src, top, 0, found);
  if (!want) return found;
  const hits = found.filter((r) => platformMatches(want, r.platform));
  if (hits.length === 0) {
    throw new ZerodepError(
      "PLATFORM_NOT_FOUND",
      `${src.name}: no ${formatPlatform(want)} image; it has: ${found.map((r) => formatPlatform(r.platform)).join(", ") || "none"}`,
    );
  }
  return hits;
}

/**
 * Exactly one image: the one for `platform`, the only one, or — when `prefer` is given (this machine's
 * platform) and no platform was asked for — the index's image for `prefer`. AMBIGUOUS_PLATFORM when
 * several remain. `chosen` says which rule picked it, so a command can say so.
 */
export async function resolveImage(
  src: ImageSource,
  opts: { platform?: Platform | string; top?: Descriptor; prefer?: string } = {},
): Promise<ResolvedImage & { chosen: "requested" | "only" | "this machine" }> {
  let all = await resolveImages(src, opts);
  if (opts.platform !== undefined && all.length === 1) return { ...all[0]!, chosen: "requested" };
  if (all.length === 1) return { ...all[0]!, chosen: "only" };
  if (opts.platform === undefined && opts.prefer !== undefined) {
    const want = parsePlatform(opts.prefer);
    const mine = all.filter((r) => platformMatches(want, r.platform));
    if (mine.length === 1) return { ...mine[0]!, chosen: "this machine" };
    if (mine.length > 1) all = mine;
  }
  if (all.length !== 1) {
    throw new ZerodepError(
      "AMBIGUOUS_PLATFORM",
      `${src.name}: ${all.length} images (${all.map((r) => formatPlatform(r.platform)).join(", ")}); choose one with --platform`,
    );
  }
  return { ...all[0]!, chosen: "requested" };
}

async function collect(src: ImageSource, d: Descriptor, depth: number, out: ResolvedImage[]): Promise<void> {
  if (isIndexMediaType(d.mediaType)) {
    if (depth >= MAX_INDEX_DEPTH) {
      throw new ParseError(
        "INDEX_TOO_DEEP",
        `${src.name}: indexes nested more than ${MAX_INDEX_DEPTH} deep at ${d.digest}`,
      );
    }
    const idx = await src.readJson<Index>(d);
    if (!Array.isArray(idx?.manifests)) {
      throw new ParseError(
        "INDEX_INVALID",
        `${src.name}: index ${d.digest}: manifests missing or not an array`,
      );
    }
    for (const [i, m] of idx.manifests.entries()) {
      const bad = checkDescriptor(m, `index ${d.digest} manifests[${i}]`);
      if (bad) throw new ParseError("INDEX_INVALID", `${src.name}: ${bad}`);
      if (isAttestation(m)) continue;
      await collect(src, m, depth + 1, out);
    }
    return;
  }
  if (!isManifestMediaType(d.mediaType)) {
    // Artifacts (signatures, SBOMs) beside images in an index are not images: skip them there, refuse them at the top.
    if (depth > 0) return;
    throw new ZerodepError(
      "NOT_AN_IMAGE",
      `${src.name}: ${d.digest} is ${d.mediaType}, neither an image manifest nor an index`,
    );
  }
  const manifest = await src.readJson<Manifest>(d);
  const where = `${src.name}: manifest ${d.digest}`;
  if (typeof manifest !== "object" || manifest === null || !Array.isArray(manifest.layers)) {
    throw new ParseError("MANIFEST_INVALID", `${where}: layers missing or not an array`);
  }
  const badConfig = checkDescriptor(manifest.config, "config");
  if (badConfig) throw new ParseError("MANIFEST_INVALID", `${where}: ${badConfig}`);
  for (const [i, l] of manifest.layers.entries()) {
    const bad = checkDescriptor(l, `layers[${i}]`);
    if (bad) throw new ParseError("MANIFEST_INVALID", `${where}: ${bad}`);
  }
  const config = await src.readJson<ImageConfig>(manifest.config);
  // readJson checked it when its media type says image config; a config of another type is checked here.
  const badCfg = checkConfig(config);
  if (badCfg)
    throw new ParseError("CONFIG_INVALID", `${src.name}: blob ${manifest.config.digest}: ${badCfg}`);
  if (typeof config.config !== "object" || config.config === null) config.config = {};
  const platform: Platform = {
    os: typeof config.os === "string" ? config.os : (d.platform?.os ?? "unknown"),
    architecture:
      typeof config.architecture === "string" ? config.architecture : (d.platform?.architecture ?? "unknown"),
    ...(typeof config.variant === "string"
      ? { variant: config.variant }
      : d.platform?.variant
        ? { variant: d.platform.variant }
        : {}),
  };
  out.push({ descriptor: d, manifest, config, platform });
}
