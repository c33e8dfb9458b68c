import type { FileHandle } from "node:fs/promises";
import { clip, IoError, ParseError, ZerodepError } from "../errors.js";
import { openRegularFile } from "../io/reader.js";
import { canonicalJson } from "../oci/canonical-json.js";
import { parseIndex } from "../oci/descriptor.js";
import { type Digest, DigestingStream, isDigest, sha256 } from "../oci/digest.js";
import { REF_NAME, resolveRefIn } from "../oci/layout.js";
import { MediaType } from "../oci/media-types.js";
import type { Descriptor, ImageConfig, Index, Manifest } from "../oci/types.js";
import { readJsonBlob, verifyBlob } from "../oci/verify.js";
import { readTar } from "../tar/reader.js";
import { type ImageSource, MAX_JSON_BYTES } from "./source.js";

/** Uncompressed Docker layer media type (what `docker save` layers are; skopeo uses it for docker-archive). */
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
const CONTAINERD_IMAGE_NAME = "io.containerd.image.name";
const MAX_LINK_HOPS = 8;

interface ArchiveEntry {
  type: "file" | "dir" | "symlink" | "hardlink";
  dataOffset: number;
  size: number;
  linkname?: string;
}

/**
 * `oci-archive:FILE[:TAG]` and `docker-archive:FILE[:REPO:TAG]`, read in place: the tar is indexed once
 * (headers only are kept: path → content offset and size), then every blob is a byte range of the file,
 * streamed and verified. Nothing is extracted.
 *
 * docker-archive accepts both forms `docker save` has written: Docker 25+ (an OCI layout plus
 * manifest.json; the OCI index is used, so compressed layers and media types are kept as they are) and
 * the legacy form (manifest.json = [{Config, RepoTags, Layers}], layers as uncompressed `<id>/layer.tar`,
 * possibly symlinks to each other). For the legacy form a Docker v2 schema 2 manifest is synthesised in
 * memory: the config digest is the sha256 of its bytes, a layer's digest is the path's hex when it lives
 * under blobs/sha256/, else its diff_id when it is uncompressed (verified while streaming like any blob),
 * else the sha256 of its bytes.
 */
export class ArchiveImageSource implements ImageSource {
  readonly name: string;
  readonly #file: string;
  readonly #fh: FileHandle;
  readonly #entries: Map<string, ArchiveEntry>;
  /** Synthesised blobs (a legacy docker archive's manifest), by digest. */
  readonly #memory = new Map<string, Uint8Array>();
  /** Blobs that are not under blobs/sha256/ (legacy docker archives), by digest → archive path. */
  readonly #paths = new Map<string, string>();
  #top: Descriptor | undefined;
  #closed = false;

  private constructor(name: string, file: string, fh: FileHandle, entries: Map<string, ArchiveEntry>) {
    this.name = name;
    this.#file = file;
    this.#fh = fh;
    this.#entries = entries;
  }

  /**
   * Opens and indexes an archive. `ref` selects the image: for oci-archive a tag (ref.name), for
   * docker-archive "repo:tag" as in RepoTags. Without ref the archive must hold exactly one image.
   */
  static async open(
    kind: "oci-archive" | "docker-archive",
    file: string,
    ref: string | null,
    name = `${kind}:${file}${ref ? `:${ref}` : ""}`,
  ): Promise<ArchiveImageSource> {
    let fh: FileHandle;
    try {
      fh = await openRegularFile(file);
    } catch (e) {
      if (e instanceof ZerodepError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new IoError(
        code === "ENOENT" ? "ARCHIVE_NOT_FOUND" : "READ_FAILED",
        `${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`,
        { cause: e },
      );
    }
    try {
      const entries = new Map<string, ArchiveEntry>();
      await readTar(fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false, start: 0 }), (e) => {
        entries.set(e.path, {
          type: e.type,
          dataOffset: e.dataOffset,
          size: e.size,
          ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        });
      }).catch((e: unknown) => {
        if (e instanceof ZerodepError)
          throw new ParseError(e.code, `${file}: ${e.message}`, undefined, { cause: e });
        throw e;
      });
      const src = new ArchiveImageSource(name, file, fh, entries);
      src.#top = kind === "oci-archive" ? await src.#ociTop(ref) : await src.#dockerTop(ref);
      return src;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async resolve(): Promise<Descriptor> {
    return this.#top!;
  }

  /** The blob, verified against its descriptor (documents are schema-checked where they are parsed: parseImageJson). */
  blob(desc: Descriptor): AsyncIterable<Uint8Array> {
    return this.#verified(desc);
  }

  #verified(desc: Descriptor): AsyncIterable<Uint8Array> {
    const mem = this.#memory.get(desc.digest);
    if (mem) return verifyBlob([mem], desc, this.name);
    const path = this.#paths.get(desc.digest) ?? blobPath(desc.digest);
    const e = this.#lookup(path);
    if (!e) {
      throw new ParseError(
        "BLOB_MISSING",
        `${this.name}: blob ${desc.digest} is missing (no ${path} in the archive)`,
      );
    }
    return verifyBlob(this.#range(e), desc, this.name);
  }

  readJson<T>(desc: Descriptor): Promise<T> {
    return readJsonBlob<T>(this.#verified(desc), desc, this.name);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fh.close();
  }

  async *#range(e: ArchiveEntry): AsyncGenerator<Uint8Array> {
    if (e.size === 0) return;
    // autoClose false: the handle belongs to this source and serves every blob.
    yield* this.#fh.createReadStream({
      start: e.dataOffset,
      end: e.dataOffset + e.size - 1,
      highWaterMark: 1 << 20,
      autoClose: false,
    }) as AsyncIterable<Uint8Array>;
  }

  /** Follows symlinks (relative to their directory) and hard links inside the archive, a few hops at most. */
  #lookup(path: string): ArchiveEntry | undefined {
    let p = path;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = this.#entries.get(p);
      if (!e || e.type === "file") return e;
      if (e.type === "hardlink" && e.linkname !== undefined) p = e.linkname;
      else if (e.type === "symlink" && e.linkname !== undefined) p = joinInArchive(p, e.linkname);
      else return undefined;
    }
    return undefined;
  }

  async #smallFile(path: string): Promise<Uint8Array | undefined> {
    const e = this.#lookup(path);
    if (!e) return undefined;
    if (e.size > MAX_JSON_BYTES) {
      throw new ParseError(
        "BLOB_TOO_LARGE",
        `${this.name}: ${path} is ${e.size} bytes, over the ${MAX_JSON_BYTES}-byte limit`,
      );
    }
    const parts: Uint8Array[] = [];
    for await (const c of this.#range(e)) parts.push(c);
    return Buffer.concat(parts);
  }

  async #ociIndex(): Promise<Index | undefined> {
    const bytes = await this.#smallFile("index.json");
    return bytes === undefined ? undefined : parseIndex(bytes, `${this.#file}: index.json`);
  }

  async #ociTop(tag: string | null): Promise<Descriptor> {
    const index = await this.#ociIndex();
    if (!index)
      throw new ParseError("NOT_AN_OCI_ARCHIVE", `${this.#file}: no index.json: not an oci-archive`);
    return resolveRefIn(index, tag ?? undefined, this.name);
  }

  async #dockerTop(ref: string | null): Promise<Descriptor> {
    const index = await this.#ociIndex();
    if (index) {
      const hits = index.manifests.filter((d) => {
        if (ref === null) return true;
        const a = d.annotations ?? {};
        const full = a[CONTAINERD_IMAGE_NAME];
        return full === ref || (full !== undefined && shortName(full) === ref) || a[REF_NAME] === ref;
      });
      if (hits.length === 1) return hits[0]!;
    }
    return this.#legacyTop(ref);
  }

  async #legacyTop(ref: string | null): Promise<Descriptor> {
    const bytes = await this.#smallFile("manifest.json");
    if (!bytes) {
      throw new ParseError("NOT_A_DOCKER_ARCHIVE", `${this.#file}: no manifest.json: not a docker-archive`);
    }
    let list: unknown;
    try {
      list = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      throw new ParseError("JSON_INVALID", `${this.#file}: manifest.json is not valid JSON`, undefined, {
        cause: e,
      });
    }
    const bad = (msg: string): never => {
      throw new ParseError("MANIFEST_INVALID", `${this.#file}: manifest.json: ${msg}`);
    };
    if (!Array.isArray(list)) return bad("not an array");
    for (const [i, v] of list.entries())
      if (typeof v !== "object" || v === null || Array.isArray(v))
        return bad(
          `[${i}]: expected an object, got ${v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`}`,
        );
    const items = list as { Config?: unknown; RepoTags?: unknown; Layers?: unknown }[];
    const tagsOf = (i: (typeof items)[number]) =>
      Array.isArray(i.RepoTags) ? i.RepoTags.filter((t): t is string => typeof t === "string") : [];
    const hits =
      ref === null ? items : items.filter((i) => tagsOf(i).some((t) => t === ref || shortName(t) === ref));
    // Tags come from the archive: clipped and at most 20 listed, so a hostile manifest.json cannot flood the line.
    const listing =
      items
        .slice(0, 20)
        .map((i) => clip(tagsOf(i).join(",") || "(untagged)"))
        .join("; ") + (items.length > 20 ? `; … (${items.length} in all)` : "");
    if (hits.length === 0)
      throw new ZerodepError(
        "REF_NOT_FOUND",
        `${clip(this.name, 400)}: no image tagged ${clip(String(ref))}; it holds: ${listing || "nothing"}`,
      );
    if (hits.length > 1)
      throw new ZerodepError("AMBIGUOUS_REF", `${this.name}: name an image, it holds: ${listing}`);
    const item = hits[0]!;
    if (typeof item.Config !== "string") return bad("Config is not a string");
    if (!Array.isArray(item.Layers) || item.Layers.some((l) => typeof l !== "string"))
      return bad("Layers is not a list of paths");
    const configPath = normalizeInArchive(item.Config);
    const configBytes = await this.#smallFile(configPath);
    if (!configBytes) return bad(`Config ${JSON.stringify(item.Config)} is not in the archive`);
    const configDigest = digestOfPath(configPath) ?? sha256(configBytes);
    let config: ImageConfig;
    try {
      config = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(configBytes)) as ImageConfig;
    } catch (e) {
      throw new ParseError("JSON_INVALID", `${this.#file}: ${configPath} is not valid JSON`, undefined, {
        cause: e,
      });
    }
    const diffIds = Array.isArray(config?.rootfs?.diff_ids) ? config.rootfs.diff_ids : [];
    this.#paths.set(configDigest, configPath);
    const layers: Descriptor[] = [];
    for (const [i, raw] of (item.Layers as string[]).entries()) {
      const path = normalizeInArchive(raw);
      const e = this.#lookup(path);
      if (!e) return bad(`Layers[${i}] ${JSON.stringify(raw)} is not in the archive`);
      const head = await this.#fh.read(Buffer.alloc(4), 0, Math.min(4, e.size), e.dataOffset);
      const gz = head.bytesRead >= 2 && head.buffer[0] === 0x1f && head.buffer[1] === 0x8b;
      let digest = digestOfPath(path);
      if (!digest && !gz && typeof diffIds[i] === "string" && isDigest(diffIds[i])) digest = diffIds[i];
      if (!digest) digest = await this.#hashRange(e);
      this.#paths.set(digest, path);
      layers.push({ mediaType: gz ? MediaType.dockerLayerGzip : DOCKER_LAYER_TAR, digest, size: e.size });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const mbytes = canonicalJson(manifest);
    const mdigest = sha256(mbytes);
    this.#memory.set(mdigest, mbytes);
    const tags = tagsOf(item);
    return {
      mediaType: MediaType.dockerManifest,
      digest: mdigest,
      size: mbytes.length,
      ...(tags[0] ? { annotations: { [REF_NAME]: tags[0] } } : {}),
    };
  }

  async #hashRange(e: ArchiveEntry): Promise<Digest> {
    const ds = new DigestingStream();
    for await (const c of this.#range(e)) ds.update(c);
    return ds.digest;
  }
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice("sha256:".length)}`;
}

function digestOfPath(path: string): Digest | undefined {
  const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
  return m ? `sha256:${m[1]}` : undefined;
}

/** An archive member name as the tar reader normalised it: relative, no "." or "..", never escaping. */
function normalizeInArchive(p: string): string {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return parts.join("/");
}

function joinInArchive(from: string, link: string): string {
  if (link.startsWith("/")) return normalizeInArchive(link);
  const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
  return normalizeInArchive(`${dir}/${link}`);
}

/** "docker.io/library/app:v1" → "app:v1", "docker.io/me/app:v1" → "me/app:v1" (how RepoTags are often written). */
function shortName(full: string): string {
  return full.replace(/^docker\.io\//, "").replace(/^library\//, "");
}
