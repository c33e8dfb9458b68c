import { ParseError, ZerodepError } from "../errors.js";
import { layerTar } from "../image/layer-stream.js";
import { type MergedEntry, MergedTree } from "../image/merged-tree.js";
import { openImage } from "../image/open.js";
import { resolveImage } from "../image/select.js";
import type { ImageSource } from "../image/source.js";
import type { ByteSource } from "../io/reader.js";
import { checkRange } from "../io/reader.js";
import { familyOf, type MediaFamily } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, Manifest, Platform } from "../oci/types.js";
import type { RegistryOptions } from "../registry/options.js";
import { readTar } from "../tar/reader.js";

/** One file of the base image's merged tree (after whiteouts). */
export type BaseEntry = MergedEntry;

export interface BaseImage {
  family: MediaFamily;
  manifest: Manifest;
  config: ImageConfig;
  layers: Descriptor[];
  source: ImageSource;
  /** Merged file tree: in-root path ("/etc/passwd") → entry. */
  tree: Map<string, BaseEntry>;
}

/** Opens the base image source (`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REPO:TAG]`, or a registry reference). */
export function openBaseSource(spec: string, registry?: RegistryOptions): Promise<ImageSource> {
  return openImage(spec, registry ? { registry } : {});
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
  const tree = new MergedTree();
  for (const [i, layer] of manifest.layers.entries()) {
    try {
      await readTar(layerTar(source, layer), (e) => {
        // A base is copied into the new image as it is: refuse one that tries to leave the root
        // rather than pass it on (runtimes clamp such entries, but nobody meant them).
        if (e.warnings.includes("'..' component")) {
          throw new ParseError(
            "UNSAFE_PATH",
            `entry ${JSON.stringify(e.rawPath)} at offset ${e.offset} climbs out of the root with '..'`,
            e.offset,
          );
        }
        tree.apply(i, e);
      });
    } catch (err) {
      if (err instanceof ZerodepError)
        throw new ZerodepError(err.code, `${spec}: layer ${layer.digest}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  return { family, manifest, config, layers: manifest.layers, source, tree: tree.entries };
}

/**
 * A ByteSource over a file of a base layer, read on first use by streaming that layer once more and
 * keeping only this file's bytes (check reads the loader, libraries and ld.so.cache of a base).
 */
export class BaseFileSource implements ByteSource {
  readonly size: number;
  private bytes: Promise<Uint8Array> | null = null;
  constructor(
    private readonly base: BaseImage,
    private readonly entry: BaseEntry,
    readonly name: string,
  ) {
    this.size = entry.stat.size;
  }
  private load(): Promise<Uint8Array> {
    if (!this.bytes) {
      this.bytes = (async () => {
        let found: Uint8Array | null = null;
        const layer = this.base.layers[this.entry.layer]!;
        await readTar(layerTar(this.base.source, layer), async (e, body) => {
          if (e.path !== this.entry.layerPath || found) return;
          const parts: Uint8Array[] = [];
          for await (const c of body) parts.push(c);
          found = Buffer.concat(parts);
        });
        if (!found) throw new ZerodepError("BASE_FILE_MISSING", `${this.name}: not found again in its layer`);
        return found;
      })();
    }
    return this.bytes;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const b = await this.load();
    return b.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}
