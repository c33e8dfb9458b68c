import { ParseError, ZerodepError } from "../errors.js";
import { FileIndex } from "../image/file-index.js";
import { ImageRootFs, LayerFileLoader } from "../image/image-root-fs.js";
import { layerTar } from "../image/layer-stream.js";
import type { ImageRef } from "../image/reference.js";
import { resolveImage } from "../image/select.js";
import type { ImageSource } from "../image/source.js";
import { familyOf, type MediaFamily } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, Manifest, Platform } from "../oci/types.js";
import type { RegistryOptions } from "../registry/options.js";
import { readTar } from "../tar/reader.js";
import { openImage } from "../transfer/open.js";

export interface BaseImage {
  family: MediaFamily;
  /** The base manifest's descriptor (with its index entry's platform when it came from an index). */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  layers: Descriptor[];
  source: ImageSource;
  /** The base's merged file tree, files read back lazily from their layers. */
  rootFs: ImageRootFs;
}

/** Layers read back for check are bounded like the first pass (layerTar's default). */
const MAX_LAYER_BYTES = 64 * 1024 ** 3;

/** Opens the base image source (`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REPO:TAG]`, or a registry reference). */
export function openBaseSource(
  spec: string | ImageRef,
  registry?: RegistryOptions,
  name?: string,
): Promise<ImageSource> {
  return openImage(spec, { ...(registry ? { registry } : {}), ...(name !== undefined ? { name } : {}) });
}

/**
 * The base image for one platform: the named manifest, or the index entry for that platform, with its
 * merged file tree. Every blob read is verified against its digest.
 */
export async function openBase(source: ImageSource, platform: Platform): Promise<BaseImage> {
  const spec = source.name;
  let img: Awaited<ReturnType<typeof resolveImage>>;
  try {
    img = await resolveImage(source, { platform });
  } catch (e) {
    if (e instanceof ZerodepError && e.code === "PLATFORM_NOT_FOUND")
      throw new ZerodepError("BASE_PLATFORM_MISSING", `--base ${e.message}`, { cause: e });
    throw e;
  }
  const { descriptor, manifest, config } = img;
  const family = familyOf(descriptor.mediaType);
  if (family === null)
    throw new ZerodepError("BASE_UNSUPPORTED", `${spec}: unsupported manifest type ${descriptor.mediaType}`);
  if (config.architecture !== platform.architecture || config.os !== platform.os) {
    throw new ZerodepError(
      "BASE_PLATFORM_MISMATCH",
      `${spec}: the base is ${config.os}/${config.architecture}, the binary ${platform.os}/${platform.architecture}`,
    );
  }
  const index = new FileIndex();
  for (const [i, layer] of manifest.layers.entries()) {
    try {
      await readTar(layerTar(source, layer), (e) => {
        // A base is copied into the new image as it is: refuse one that tries to leave the root
        // rather than pass it on (runtimes clamp such entries, but nobody meant them).
        if (e.warnings.some((w) => w.code === "TAR_DOTDOT_PATH")) {
          throw new ParseError(
            "UNSAFE_PATH",
            `entry ${JSON.stringify(e.rawPath)} at offset ${e.offset} climbs out of the root with '..'`,
            e.offset,
          );
        }
        index.apply(i, e);
      });
    } catch (err) {
      if (err instanceof ZerodepError)
        throw new ZerodepError(err.code, `${spec}: layer ${layer.digest}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  // The same read-back machinery as check IMAGE: a file check opens costs at most one more pass of its
  // layer, which also fetches the other files check is likely to open from it.
  const loader = new LayerFileLoader(source, manifest.layers, index, MAX_LAYER_BYTES);
  const rootFs = new ImageRootFs(index, loader, spec);
  return { family, descriptor, manifest, config, layers: manifest.layers, source, rootFs };
}
