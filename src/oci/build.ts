import { ZerodepError } from "../errors.js";
import { canonicalJson } from "./canonical-json.js";
import { checkDescriptor, checkStringMap } from "./descriptor.js";
import { isDigest } from "./digest.js";
import { familyOf, MediaType } from "./media-types.js";
import type { Descriptor, ImageConfig, Index, Manifest } from "./types.js";

/*
 * Builders for the JSON documents we digest. The byte form is canonicalJson's: keys sorted at every
 * level, so the order in which callers assemble objects never changes a digest. Fields we do not model
 * are kept (a base image's config may carry fields such as "container_config" that must survive).
 * Each builder refuses documents that runtimes would reject later, with an error naming the field.
 */

function invalid(code: string, msg: string): never {
  throw new ZerodepError(code, msg);
}

function checkDescriptors(list: Descriptor[], where: string): void {
  for (const [i, d] of list.entries()) {
    const problem = checkDescriptor(d, `${where}[${i}]`);
    if (problem) invalid("DESCRIPTOR_INVALID", problem);
  }
}

/**
 * `lenientHistory`: keep a history that does not line up with the layers, for an image whose base
 * already had one so (built by other tools): an edit must not refuse what it was given.
 */
export function buildConfig(c: ImageConfig, opts: { lenientHistory?: boolean } = {}): Uint8Array {
  if (typeof c.architecture !== "string" || c.architecture === "")
    invalid("CONFIG_INVALID", "config: architecture missing");
  if (typeof c.os !== "string" || c.os === "") invalid("CONFIG_INVALID", "config: os missing");
  if (typeof c.config !== "object" || c.config === null) invalid("CONFIG_INVALID", "config: config missing");
  if (c.rootfs?.type !== "layers" || !Array.isArray(c.rootfs.diff_ids)) {
    invalid("CONFIG_INVALID", 'config: rootfs must be {type: "layers", diff_ids: [...]}');
  }
  for (const [i, d] of c.rootfs.diff_ids.entries()) {
    if (!isDigest(d)) invalid("CONFIG_INVALID", `config: rootfs.diff_ids[${i}] is not a sha256 digest: ${d}`);
  }
  if (c.history !== undefined && !opts.lenientHistory) {
    const nonEmpty = c.history.filter((h) => !h.empty_layer).length;
    if (nonEmpty !== c.rootfs.diff_ids.length) {
      // image-spec config.md: history must line up with the layers; containers/image warns, buildah errors.
      invalid(
        "CONFIG_INVALID",
        `config: ${nonEmpty} non-empty history entries for ${c.rootfs.diff_ids.length} layers`,
      );
    }
  }
  return canonicalJson(c);
}

export function buildManifest(m: Manifest): Uint8Array {
  if (m.schemaVersion !== 2) invalid("MANIFEST_INVALID", "manifest: schemaVersion must be 2");
  const family = familyOf(m.mediaType);
  if (m.mediaType !== MediaType.ociManifest && m.mediaType !== MediaType.dockerManifest) {
    invalid("MANIFEST_INVALID", `manifest: mediaType ${m.mediaType} is not an image manifest`);
  }
  checkDescriptors([m.config], "manifest.config");
  checkDescriptors(m.layers, "manifest.layers");
  if (m.annotations !== undefined) {
    const problem = checkStringMap(m.annotations, "manifest.annotations");
    if (problem) invalid("MANIFEST_INVALID", problem);
  }
  // Never mix families in one image: podman and cri-o reject an OCI manifest with Docker layers and vice versa.
  for (const [where, d] of [
    ["config", m.config] as const,
    ...m.layers.map((l, i) => [`layers[${i}]`, l] as const),
  ]) {
    const f = familyOf(d.mediaType);
    if (f !== null && f !== family) {
      invalid("MEDIA_FAMILY_MIXED", `manifest: ${where} is ${d.mediaType} (${f}) in a ${family} manifest`);
    }
  }
  return canonicalJson(m);
}

export function buildIndex(i: Index): Uint8Array {
  if (i.schemaVersion !== 2) invalid("INDEX_INVALID", "index: schemaVersion must be 2");
  if (
    i.mediaType !== undefined &&
    i.mediaType !== MediaType.ociIndex &&
    i.mediaType !== MediaType.dockerManifestList
  ) {
    invalid("INDEX_INVALID", `index: mediaType ${i.mediaType} is not an image index`);
  }
  checkDescriptors(i.manifests, "index.manifests");
  if (i.annotations !== undefined) {
    const problem = checkStringMap(i.annotations, "index.annotations");
    if (problem) invalid("INDEX_INVALID", problem);
  }
  // A Docker manifest list can only name Docker manifests. An OCI index may name either: a layout's
  // index.json legitimately holds Docker-format images copied with their digests preserved.
  if (i.mediaType === MediaType.dockerManifestList) {
    for (const [n, d] of i.manifests.entries()) {
      if (familyOf(d.mediaType) === "oci") {
        invalid("MEDIA_FAMILY_MIXED", `index: manifests[${n}] is ${d.mediaType} in a Docker manifest list`);
      }
    }
  }
  return canonicalJson(i);
}
