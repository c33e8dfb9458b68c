import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { UsageError, ZerodepError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";
import { checkRange } from "../io/reader.js";
import { LayoutReader } from "../oci/layout.js";
import { familyOf, type MediaFamily, MediaType } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from "../oci/types.js";
import type { EntryStat } from "../resolve/root-fs.js";
import { readTar } from "../tar/reader.js";

/** One file of the base image's merged tree (after whiteouts). */
export interface BaseEntry {
  stat: EntryStat;
  linkname?: string;
  /** Index of the layer that provides it. */
  layer: number;
  /** Path inside that layer (hardlinks point at another path). */
  layerPath: string;
}

export interface BaseImage {
  family: MediaFamily;
  manifest: Manifest;
  config: ImageConfig;
  layers: Descriptor[];
  reader: LayoutReader;
  /** Merged file tree: in-root path ("/etc/passwd") → entry. */
  tree: Map<string, BaseEntry>;
}

/** Parses "oci:DIR[:TAG]" for --base. */
export function parseBase(spec: string): { dir: string; tag: string | undefined } {
  const m = /^oci:(.+?)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/.exec(spec);
  if (!m)
    throw new UsageError(
      "USAGE",
      `--base: expected oci:DIR[:TAG] (archives and registries come later), got "${spec}"`,
    );
  return { dir: m[1]!, tag: m[2] };
}

const readers = new Map<string, Promise<LayoutReader>>();

/**
 * Opens the base image for one platform: the tagged manifest, or the index entry for that platform.
 * Every blob read is verified against its digest by LayoutReader.
 */
export async function openBase(spec: string, platform: Platform): Promise<BaseImage> {
  const { dir, tag } = parseBase(spec);
  let rp = readers.get(dir);
  if (!rp) {
    rp = LayoutReader.open(dir);
    readers.set(dir, rp);
  }
  const reader = await rp;
  let desc = reader.resolveRef(tag);
  if (desc.mediaType === MediaType.ociIndex || desc.mediaType === MediaType.dockerManifestList) {
    const index = await reader.readJson<Index>(desc);
    const want = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ""}`;
    const hit = index.manifests.find(
      (m) =>
        m.platform &&
        m.platform.os === platform.os &&
        m.platform.architecture === platform.architecture &&
        (!platform.variant || !m.platform.variant || m.platform.variant === platform.variant),
    );
    if (!hit) {
      const have = index.manifests
        .map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : "?"))
        .join(", ");
      throw new ZerodepError(
        "BASE_PLATFORM_MISSING",
        `${spec}: no ${want} image in the base index (it has ${have})`,
      );
    }
    desc = hit;
  }
  const family = familyOf(desc.mediaType);
  if (family === null)
    throw new ZerodepError("BASE_UNSUPPORTED", `${spec}: unsupported manifest type ${desc.mediaType}`);
  const manifest = await reader.readJson<Manifest>(desc);
  const config = await reader.readJson<ImageConfig>(manifest.config);
  if (config.architecture !== platform.architecture || config.os !== platform.os) {
    throw new ZerodepError(
      "BASE_PLATFORM_MISMATCH",
      `${spec}: the base is ${config.os}/${config.architecture}, the binary ${platform.os}/${platform.architecture}`,
    );
  }
  const tree = new Map<string, BaseEntry>();
  for (const [i, layer] of manifest.layers.entries()) await indexLayer(reader, layer, i, tree, spec);
  return { family, manifest, config, layers: manifest.layers, reader, tree };
}

/** Decompresses when the bytes say gzip (magic 1f 8b), whatever the media type claims. */
async function* layerTar(reader: LayoutReader, layer: Descriptor): AsyncGenerator<Uint8Array> {
  const src = reader.blob(layer)[Symbol.asyncIterator]();
  const first = await src.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    for (;;) {
      const n = await src.next();
      if (n.done) return;
      yield n.value;
    }
  })();
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) {
    // pipeline (not pipe) so that a source error (a digest mismatch) reaches the reader.
    const gz = createGunzip();
    const done = pipeline(Readable.from(rest), gz);
    done.catch(() => {}); // surfaced by the iteration below, or awaited after it
    for await (const c of gz) yield c as Uint8Array;
    await done;
  } else yield* rest;
}

/** Applies one layer to the merged tree: whiteouts delete below, opaque markers hide lower contents. */
async function indexLayer(
  reader: LayoutReader,
  layer: Descriptor,
  index: number,
  tree: Map<string, BaseEntry>,
  spec: string,
) {
  const removeUnder = (dir: string, self: boolean) => {
    for (const p of [...tree.keys()])
      if ((self && p === dir) || p.startsWith(dir === "/" ? "/" : `${dir}/`)) tree.delete(p);
  };
  try {
    await readTar(layerTar(reader, layer), (e) => {
      if (e.path === ".") return;
      const path = `/${e.path}`;
      const slash = path.lastIndexOf("/");
      const dir = path.slice(0, slash) || "/";
      const name = path.slice(slash + 1);
      if (name === ".wh..wh..opq") {
        removeUnder(dir, false);
        return;
      }
      if (name.startsWith(".wh.")) {
        removeUnder(`${dir === "/" ? "" : dir}/${name.slice(4)}`, true);
        return;
      }
      if (e.type !== "dir") removeUnder(path, true);
      const kind = e.type === "dir" ? "dir" : e.type === "symlink" ? "symlink" : "file";
      tree.set(path, {
        stat: { kind, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid },
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        layer: index,
        layerPath: e.type === "hardlink" && e.linkname ? e.linkname.replace(/^\/+/, "") : e.path,
      });
    });
  } catch (err) {
    if (err instanceof ZerodepError)
      throw new ZerodepError(err.code, `${spec}: layer ${layer.digest}: ${err.message}`, { cause: err });
    throw err;
  }
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
        await readTar(layerTar(this.base.reader, this.base.layers[this.entry.layer]!), async (e, body) => {
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
