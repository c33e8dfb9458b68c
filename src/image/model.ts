import { ParseError, ZerodepError } from "../errors.js";
import { buildConfig, buildIndex, buildManifest } from "../oci/build.js";
import { type Digest, sha256 } from "../oci/digest.js";
import { familyOf, type MediaFamily, MediaType } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from "../oci/types.js";
import { parseImageJson } from "../oci/verify.js";
import { readBytes } from "./copy.js";
import { isIndexMediaType, resolveImages } from "./select.js";
import type { BlobOrigin } from "./sink.js";
import type { ImageSource } from "./source.js";

/*
 * The image object model (go-containerregistry's v1.Image / v1.ImageIndex / v1.Layer, reduced to what
 * zerodep uses). An Image is read from any source or built by edits; nothing is computed until asked
 * for, and then once: an edited image's config and manifest bytes come from the validating builders in
 * src/oci/build.ts on first access. `imageSource(img)` turns any Image or ImageIndex back into an
 * ImageSource, so the one copy engine (copyImage) writes it to any sink: layout, archive or registry.
 */

/** One layer: its descriptor facts and its bytes (compressed as stored; streams verified by the source). */
export interface Layer {
  readonly digest: Digest;
  /** The sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  readonly diffId: Digest;
  /** Compressed size in bytes (the descriptor's size). */
  readonly size: number;
  readonly mediaType: string;
  /** The compressed bytes, exactly `size` of them, hashing to `digest`. */
  compressed(): AsyncIterable<Uint8Array>;
  /** Where a registry sink on the same registry may mount this blob from instead of uploading it. */
  readonly origin?: BlobOrigin;
  /** A local file holding exactly the compressed bytes (a staged layer): sinks may link it. */
  readonly file?: string;
  /** The descriptor a base image's manifest gave this layer, kept as it was (annotations, urls …). */
  readonly descriptor?: Descriptor;
}

/** One runnable image: manifest, config and layers, each computed or read once on first access. */
export interface Image {
  readonly kind: "image";
  /** The manifest's media type (OCI or Docker family). */
  readonly mediaType: string;
  /** The platform this image runs on (from its config), when known without reading: edits know it. */
  platform(): Promise<Platform>;
  rawManifest(): Promise<Uint8Array>;
  manifest(): Promise<Manifest>;
  rawConfig(): Promise<Uint8Array>;
  config(): Promise<ImageConfig>;
  layers(): Promise<Layer[]>;
  /** The manifest's descriptor (digest and size of rawManifest). */
  descriptor(): Promise<Descriptor>;
}

/** Several images, one per platform. */
export interface ImageIndex {
  readonly kind: "index";
  readonly mediaType: string;
  rawManifest(): Promise<Uint8Array>;
  manifest(): Promise<Index>;
  /** The images it lists, in order, each with the descriptor the index gives it (platform included). */
  images(): Promise<{ descriptor: Descriptor; image: Image }[]>;
  descriptor(): Promise<Descriptor>;
}

/** Memoises an async computation: computed on first call, the same promise afterwards. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= f();
    return p;
  };
}

function describe(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.byteLength };
}

/**
 * The image or index a source's reference names, read lazily (exact bytes kept, so digests survive).
 * With `platform`, the one image for that platform (ZerodepError PLATFORM_NOT_FOUND otherwise).
 */
export async function readImage(
  src: ImageSource,
  opts: { platform?: Platform | string; top?: Descriptor } = {},
): Promise<Image | ImageIndex> {
  const top = opts.top ?? (await src.resolve());
  if (opts.platform !== undefined) {
    const [hit] = await resolveImages(src, { platform: opts.platform, top });
    return sourceImage(src, hit!.descriptor, hit!);
  }
  if (isIndexMediaType(top.mediaType)) return sourceIndex(src, top);
  return sourceImage(src, top);
}

/**
 * One image of a source by its manifest descriptor. Layers get the source's origin for mounts.
 * `known` passes what the caller already read (resolveImage's platform, manifest and config), so it is
 * not read twice; exact bytes are still read from the source when asked for.
 */
export function sourceImage(
  src: ImageSource,
  desc: Descriptor,
  known: { platform?: Platform; manifest?: Manifest; config?: ImageConfig } = {},
): Image {
  const rawManifest = once(() => readBytes(src, desc));
  const manifest = known.manifest
    ? async () => known.manifest!
    : once(async () => parseImageJson<Manifest>(await rawManifest(), desc, src.name));
  const rawConfig = once(async () => readBytes(src, (await manifest()).config));
  const config = known.config
    ? async () => known.config!
    : once(async () => parseImageJson<ImageConfig>(await rawConfig(), (await manifest()).config, src.name));
  return {
    kind: "image",
    mediaType: desc.mediaType,
    rawManifest,
    manifest,
    rawConfig,
    config,
    descriptor: async () => ({ ...desc }),
    platform: once(async () => {
      if (known.platform) return known.platform;
      const c = await config();
      return { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
    }),
    layers: once(async () => {
      const m = await manifest();
      const diffIds = (await config()).rootfs?.diff_ids ?? [];
      if (!Array.isArray(m.layers) || diffIds.length !== m.layers.length)
        throw new ParseError(
          "MANIFEST_INVALID",
          `${src.name}: manifest ${desc.digest}: ${m.layers?.length ?? 0} layers but ${diffIds.length} diff_ids in its config`,
        );
      return m.layers.map(
        (l, i): Layer => ({
          digest: l.digest as Digest,
          diffId: diffIds[i] as Digest,
          size: l.size,
          mediaType: l.mediaType,
          compressed: () => src.blob(l),
          descriptor: l,
          ...(src.origin ? { origin: src.origin } : {}),
        }),
      );
    }),
  };
}

function sourceIndex(src: ImageSource, desc: Descriptor): ImageIndex {
  const rawManifest = once(() => readBytes(src, desc));
  const manifest = once(async () => parseImageJson<Index>(await rawManifest(), desc, src.name));
  return {
    kind: "index",
    mediaType: desc.mediaType,
    rawManifest,
    manifest,
    descriptor: async () => ({ ...desc }),
    images: once(async () =>
      (await manifest()).manifests
        .filter((d) => !isIndexMediaType(d.mediaType))
        .map((d) => ({
          descriptor: d,
          image: sourceImage(src, d, d.platform ? { platform: d.platform } : {}),
        })),
    ),
  };
}

/** What an edit knows of its result: everything, computed from the base on first access. */
interface Edited {
  mediaType: string;
  config: () => Promise<ImageConfig>;
  layers: () => Promise<Layer[]>;
  annotations: () => Promise<Record<string, string> | undefined>;
  /** History may be left misaligned when the base's already was (images built by other tools). */
  lenientHistory: () => Promise<boolean>;
}

/**
 * Whether an edited image may keep a misaligned history: decided once, by the image read from a source
 * at the root of a chain of edits, and inherited by every edit on top. An edit that misaligns an
 * aligned history is refused (when its config is built) however many edits follow it.
 */
const LENIENT = new WeakMap<Image, () => Promise<boolean>>();

function inheritedLenient(img: Image, fromSource: (c: ImageConfig) => boolean): () => Promise<boolean> {
  return once(async () => {
    const known = LENIENT.get(img);
    return known ? known() : fromSource(await img.config());
  });
}

const misaligned = (c: ImageConfig) =>
  c.history !== undefined && nonEmpty(c.history) !== (c.rootfs?.diff_ids ?? []).length;

function editedImage(e: Edited): Image {
  const rawConfig = once(async () =>
    buildConfig(await e.config(), { lenientHistory: await e.lenientHistory() }),
  );
  const family = familyOf(e.mediaType) ?? "oci";
  const manifest = once(async (): Promise<Manifest> => {
    const cfg = await rawConfig();
    const annotations = await e.annotations();
    return {
      schemaVersion: 2,
      mediaType: e.mediaType,
      config: {
        mediaType: family === "docker" ? MediaType.dockerConfig : MediaType.ociConfig,
        digest: sha256(cfg),
        size: cfg.byteLength,
      },
      layers: (await e.layers()).map(
        (l) => l.descriptor ?? { mediaType: l.mediaType, digest: l.digest, size: l.size },
      ),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
  });
  const rawManifest = once(async () => buildManifest(await manifest()));
  const image: Image = {
    kind: "image",
    mediaType: e.mediaType,
    rawManifest,
    manifest,
    rawConfig,
    config: e.config,
    layers: e.layers,
    descriptor: async () => describe(e.mediaType, await rawManifest()),
    platform: once(async () => {
      const c = await e.config();
      return { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
    }),
  };
  LENIENT.set(image, e.lenientHistory);
  return image;
}

function nonEmpty(history: ImageConfig["history"]): number {
  return (history ?? []).filter((h) => !h.empty_layer).length;
}

/** A new image with no layers: scratch, for one platform, in one media-type family. */
export function emptyImage(platform: Platform, family: MediaFamily = "oci"): Image {
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
  };
  return editedImage({
    mediaType: family === "docker" ? MediaType.dockerManifest : MediaType.ociManifest,
    config: async () => structuredClone(config),
    layers: async () => [],
    annotations: async () => undefined,
    lenientHistory: async () => false,
  });
}

/** How a layer is recorded in the config's history when it is appended. */
export type HistoryEntry = NonNullable<ImageConfig["history"]>[number];

/**
 * `base` with `layer` on top: the layer's diff_id appended to rootfs, `history` (when given) to the
 * history, and the layer to the manifest. The manifest keeps the base's media-type family: the layer's
 * media type must be of that family (MEDIA_FAMILY_MIXED otherwise, from the manifest builder).
 */
export function append(base: Image, layer: Layer, history?: HistoryEntry): Image {
  return editedImage({
    mediaType: base.mediaType,
    config: once(async () => {
      const c = structuredClone(await base.config());
      c.rootfs = { type: "layers", diff_ids: [...(c.rootfs?.diff_ids ?? []), layer.diffId] };
      if (history) c.history = [...(c.history ?? []), history];
      return c;
    }),
    layers: once(async () => [...(await base.layers()), layer]),
    annotations: async () => (await base.manifest()).annotations,
    // A base without any history gets one entry for our layer: as misaligned as it was incomplete.
    lenientHistory: inheritedLenient(
      base,
      (c) => misaligned(c) || (c.history === undefined && (c.rootfs?.diff_ids ?? []).length > 0),
    ),
  });
}

/** `img` with its config replaced by `patch(config)` (rootfs is the image's own: a patch cannot change it). */
export function withConfig(img: Image, patch: (c: ImageConfig) => ImageConfig): Image {
  return editedImage({
    mediaType: img.mediaType,
    config: once(async () => {
      const before = await img.config();
      return { ...patch(structuredClone(before)), rootfs: structuredClone(before.rootfs) };
    }),
    layers: () => img.layers(),
    annotations: async () => (await img.manifest()).annotations,
    lenientHistory: inheritedLenient(img, misaligned),
  });
}

/**
 * `img` with manifest annotations merged in (later keys win), or with `replace`, only these (a base's
 * annotations describe the base, not an image built on it).
 */
export function withAnnotations(
  img: Image,
  annotations: Record<string, string>,
  opts: { replace?: boolean } = {},
): Image {
  return editedImage({
    mediaType: img.mediaType,
    config: () => img.config(),
    layers: () => img.layers(),
    annotations: async () =>
      opts.replace ? { ...annotations } : { ...(await img.manifest()).annotations, ...annotations },
    lenientHistory: inheritedLenient(img, misaligned),
  });
}

/** An OCI index of images, each listed with its platform (given, or read from its config). */
export function imageIndex(images: { image: Image; platform?: Platform }[]): ImageIndex {
  const entries = once(async () =>
    Promise.all(
      images.map(async ({ image, platform }) => ({
        descriptor: { ...(await image.descriptor()), platform: platform ?? (await image.platform()) },
        image,
      })),
    ),
  );
  const manifest = once(
    async (): Promise<Index> => ({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: (await entries()).map((e) => e.descriptor),
    }),
  );
  const rawManifest = once(async () => buildIndex(await manifest()));
  return {
    kind: "index",
    mediaType: MediaType.ociIndex,
    rawManifest,
    manifest,
    images: entries,
    descriptor: async () => describe(MediaType.ociIndex, await rawManifest()),
  };
}

/**
 * An Image or ImageIndex as an ImageSource, so copyImage writes it to any sink. The top descriptor of
 * a single image carries its platform (as an index entry would). Blobs are looked up by digest among
 * the images' configs, manifests and layers; each layer keeps its own origin, so a push to the
 * registry a base came from mounts the base's layers instead of uploading them.
 */
export function imageSource(
  img: Image | ImageIndex,
  name: string,
  opts: { platform?: Platform } = {},
): ImageSource {
  type Blob = { bytes?: Uint8Array; layer?: Layer };
  const table = once(async () => {
    const blobs = new Map<string, Blob>();
    const addImage = async (im: Image) => {
      blobs.set((await im.descriptor()).digest, { bytes: await im.rawManifest() });
      const cfg = await im.rawConfig();
      blobs.set(sha256(cfg), { bytes: cfg });
      for (const l of await im.layers()) if (!blobs.has(l.digest)) blobs.set(l.digest, { layer: l });
    };
    if (img.kind === "index") {
      blobs.set((await img.descriptor()).digest, { bytes: await img.rawManifest() });
      for (const { image } of await img.images()) await addImage(image);
    } else await addImage(img);
    return blobs;
  });
  const find = async (d: Descriptor): Promise<Blob> => {
    const b = (await table()).get(d.digest);
    if (!b) throw new ZerodepError("BLOB_MISSING", `${name}: no blob ${d.digest}`);
    return b;
  };
  return {
    name,
    async resolve() {
      const d = await img.descriptor();
      return img.kind === "image" ? { ...d, platform: opts.platform ?? (await img.platform()) } : d;
    },
    async *blob(d) {
      const b = await find(d);
      if (b.bytes) yield b.bytes;
      else yield* b.layer!.compressed();
    },
    async readJson<T>(d: Descriptor) {
      const b = await find(d);
      if (!b.bytes) throw new ParseError("JSON_INVALID", `${name}: ${d.digest} is a layer, not JSON`);
      return parseImageJson<T>(b.bytes, d, name);
    },
    async originOf(d: Descriptor) {
      return (await table()).get(d.digest)?.layer?.origin;
    },
    async fileOf(d: Descriptor) {
      return (await table()).get(d.digest)?.layer?.file;
    },
    async close() {},
  };
}
