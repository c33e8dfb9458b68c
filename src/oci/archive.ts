import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { IoError, ParseError, UsageError, ZerodepError } from "../errors.js";
import { removeOnInterrupt, stagingPath, sweepStale } from "../io/cleanup.js";
import { errnoOf, naming, syncDir, writeChunks } from "../io/write.js";
import { prepareEntries, type TarInput, writeTar } from "../tar/writer.js";
import { buildIndex } from "./build.js";
import { canonicalJson } from "./canonical-json.js";
import { checkDescriptor } from "./descriptor.js";
import type { Digest } from "./digest.js";
import { LayoutReader, REF_NAME } from "./layout.js";
import { MediaType } from "./media-types.js";
import { parsePlatform } from "./platform.js";
import type { Descriptor, Index, Manifest, Platform } from "./types.js";

/*
 * Single-file image archives, written from an OCI image layout on disk:
 *
 *   oci-archive:FILE     a tar of an OCI layout (what skopeo/podman call oci-archive:)
 *   docker-archive:FILE  what `docker load` / `podman load` / skopeo docker-archive: read. Written the
 *                        Docker 25+ way: the OCI layout of one image PLUS the legacy manifest.json
 *                        ([{Config, RepoTags, Layers}], paths into blobs/sha256/) and `repositories`.
 *
 * Both are deterministic (sorted entries, explicit parent directories, fixed mtime, uid/gid 0 with empty
 * names, mode 0644/0755) and contain exactly the blobs reachable from the index.json they carry (a
 * layout's unreferenced blobs are left out). Blobs are streamed from disk into the tar and verified
 * (size and sha256) on the way; a blob that is missing or does not match fails the write with an error
 * naming its digest. The tar goes to `.NAME.zerodep-tmp-*` beside FILE, is fsynced, then renamed over
 * FILE: an interrupted or failed run leaves an existing FILE byte-identical (a killed process can leave
 * its temporary file behind; it is never read and safe to delete).
 */

const TMP_INFIX = ".zerodep-tmp-";
const OCI_LAYOUT_JSON = { imageLayoutVersion: "1.0.0" };
/** containerd's image-name annotation: Docker 25+ `docker save` writes it, podman reads a name from it. */
const CONTAINERD_IMAGE_NAME = "io.containerd.image.name";

function hexOf(digest: Digest): string {
  return digest.slice("sha256:".length);
}

function blobArchivePath(digest: Digest): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

function isIndexType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

function isManifestType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

function platformString(p: Platform | undefined): string {
  if (!p) return "(no platform)";
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

// ---------------------------------------------------------------------------------------------------------
// Collecting the blobs an archive must carry

interface BlobSet {
  /** digest -> size, in first-seen order. */
  blobs: Map<Digest, number>;
}

/**
 * Walks everything reachable from `roots` (indexes → manifests → config and layers), reading the JSON
 * documents through LayoutReader (verified), and checks every blob is present on disk. A missing blob is
 * ParseError BLOB_MISSING naming its digest, unless the descriptor has `urls` (a non-distributable layer
 * that is fetched from elsewhere and legitimately absent).
 */
async function collectBlobs(reader: LayoutReader, roots: Descriptor[]): Promise<BlobSet> {
  const blobs = new Map<Digest, number>();
  const visit = async (d: Descriptor, where: string, depth: number): Promise<void> => {
    const problem = checkDescriptor(d, where);
    if (problem) throw new ParseError("DESCRIPTOR_INVALID", problem);
    const seen = blobs.get(d.digest);
    if (seen !== undefined) {
      if (seen !== d.size) {
        throw new ParseError(
          "DESCRIPTOR_INVALID",
          `${where}: blob ${d.digest} is referenced with sizes ${seen} and ${d.size}`,
        );
      }
      return;
    }
    const present = await blobSize(reader.dir, d.digest);
    if (present === undefined) {
      const urls = (d as { urls?: unknown }).urls;
      if (Array.isArray(urls) && urls.length > 0) return; // foreign layer: not shipped in archives
      throw new ParseError(
        "BLOB_MISSING",
        `blob ${d.digest} (${d.mediaType}, ${where}) is missing from ${reader.dir}`,
      );
    }
    if (present !== d.size) {
      throw new ParseError(
        "DIGEST_MISMATCH",
        `blob ${d.digest} (${where}): ${present} bytes on disk, descriptor says ${d.size}`,
      );
    }
    blobs.set(d.digest, d.size);
    if (depth > 8) throw new ParseError("INDEX_TOO_DEEP", `${where}: indexes nested more than 8 deep`);
    if (isIndexType(d.mediaType)) {
      const idx = await reader.readJson<Index>(d);
      if (!Array.isArray(idx?.manifests))
        throw new ParseError("INDEX_INVALID", `index ${d.digest}: manifests missing or not an array`);
      for (const [i, m] of idx.manifests.entries()) await visit(m, `${d.digest}.manifests[${i}]`, depth + 1);
    } else if (isManifestType(d.mediaType)) {
      const m = await readManifest(reader, d);
      await visit(m.config, `${d.digest}.config`, depth + 1);
      for (const [i, l] of m.layers.entries()) await visit(l, `${d.digest}.layers[${i}]`, depth + 1);
    }
  };
  for (const [i, d] of roots.entries()) await visit(d, `index.json manifests[${i}]`, 0);
  return { blobs };
}

async function blobSize(dir: string, digest: Digest): Promise<number | undefined> {
  try {
    const st = await stat(join(dir, "blobs", "sha256", hexOf(digest)));
    return st.isFile() ? st.size : undefined;
  } catch (e) {
    if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return undefined;
    throw new IoError("READ_FAILED", `blob ${digest}: ${(e as Error).message}`, { cause: e });
  }
}

async function readManifest(reader: LayoutReader, d: Descriptor): Promise<Manifest> {
  const m = await reader.readJson<Manifest>(d);
  if (typeof m !== "object" || m === null || !Array.isArray(m.layers) || typeof m.config !== "object") {
    throw new ParseError("MANIFEST_INVALID", `manifest ${d.digest}: config or layers missing`);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// Writing the tar atomically

function fileInput(path: string, bytes: Uint8Array, mtime: number): TarInput {
  return {
    entry: { path, type: "file", mode: 0o644, uid: 0, gid: 0, mtime, size: bytes.length },
    body: bytes,
  };
}

function jsonEntry(path: string, value: unknown, mtime: number): TarInput {
  return fileInput(path, canonicalJson(value), mtime);
}

function blobEntries(reader: LayoutReader, set: BlobSet, mtime: number): TarInput[] {
  return [...set.blobs].map(([digest, size]) => ({
    entry: { path: blobArchivePath(digest), type: "file", mode: 0o644, uid: 0, gid: 0, mtime, size },
    // A fresh verifying stream per call: LayoutReader checks size and digest while it streams.
    body: () => reader.blob({ mediaType: "application/octet-stream", digest, size }),
  }));
}

function checkMtime(mtime: number | undefined): number {
  const m = mtime ?? 0;
  if (!Number.isSafeInteger(m) || m < 0)
    throw new UsageError("MTIME_INVALID", `mtime must be a non-negative integer, got ${m}`);
  return m;
}

/** Streams the tar of `inputs` to a temporary file beside `file`, then renames it into place. */
async function writeTarAtomically(file: string, inputs: TarInput[], mtime: number): Promise<void> {
  const target = resolve(file);
  try {
    const st = await stat(target);
    if (!st.isFile()) throw new IoError("NOT_A_FILE", `${target}: exists and is not a regular file`);
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw e;
  }
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  await sweepStale(dir, `.${basename(target)}${TMP_INFIX}`);
  const tmp = stagingPath(dir, `.${basename(target)}${TMP_INFIX}`);
  const release = removeOnInterrupt(tmp);
  const fh = await open(tmp, "wx", 0o644);
  try {
    try {
      await writeChunks(fh, writeTar(prepareEntries(inputs, { mtime })));
      await fh.sync();
    } catch (e) {
      throw naming(e, target);
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    release();
  }
  await syncDir(dir);
}

// ---------------------------------------------------------------------------------------------------------
// oci-archive

/** Writes an `oci-archive:` file: a tar of the OCI layout at layoutDir (oci-layout, index.json, blobs/sha256/*), deterministic (sorted, fixed mtime, numeric owners), written to a temp file beside `file` and renamed into place (an interrupted run leaves any existing file intact). If `tag` is given, index.json in the archive carries only that ref (org.opencontainers.image.ref.name) — the image skopeo/podman should load. */
export async function writeOciArchive(
  layoutDir: string,
  file: string,
  opts: { tag?: string; mtime?: number },
): Promise<void> {
  const mtime = checkMtime(opts.mtime);
  const reader = await LayoutReader.open(layoutDir);
  const roots = opts.tag !== undefined ? [reader.resolveRef(opts.tag)] : reader.index.manifests;
  const set = await collectBlobs(reader, roots);
  // Without a tag, index.json keeps everything it had (unknown fields too); with one, only that entry.
  const index: Index = { ...reader.index, manifests: roots.map((d) => structuredClone(d)) };
  const inputs: TarInput[] = [
    ...blobEntries(reader, set, mtime),
    fileInput("index.json", buildIndex(index), mtime),
    jsonEntry("oci-layout", OCI_LAYOUT_JSON, mtime),
  ];
  await writeTarAtomically(file, inputs, mtime);
}

// ---------------------------------------------------------------------------------------------------------
// docker-archive

// distribution/reference grammar (reference/regexp.go), used for RepoTags and for parsing destinations.
const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
/** REPO[:TAG], anchored; group 1 the name, group 2 the tag. */
export const REPO_TAG_RE = new RegExp(`^(${NAME})(?::(${TAG}))?$`);
/** REPO:TAG (tag required) with capitals allowed: looks like a reference, to report rather than take as a file name. */
export const REPO_TAG_ANY_CASE_RE = new RegExp(`^${NAME}:${TAG}$`, "i");
const REPO_TAG_LOOSE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?$`, "i");

/** Checks and completes "repo[:tag]" to "repo:tag" (":latest" when no tag). UsageError when invalid. */
export function normalizeRepoTag(repoTag: string): { repo: string; tag: string; full: string } {
  const m = REPO_TAG_LOOSE_RE.exec(repoTag);
  if (!m) {
    throw new UsageError(
      "REPO_TAG_INVALID",
      `"${repoTag}" is not a valid REPO[:TAG] (e.g. myapp:1.0 or registry.example.com/team/myapp:1.0)`,
    );
  }
  const repo = m[1]!;
  // The domain may carry capitals; the repository path may not (docker and podman refuse it).
  const slash = repo.indexOf("/");
  const first = slash < 0 ? "" : repo.slice(0, slash);
  const isDomain = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  const path = isDomain ? repo.slice(slash + 1) : repo;
  if (path !== path.toLowerCase() || (!isDomain && first !== first.toLowerCase())) {
    throw new UsageError("REPO_TAG_INVALID", `"${repoTag}": the repository name must be lower case`);
  }
  const tag = m[2] ?? "latest";
  return { repo, tag, full: `${repo}:${tag}` };
}

/** docker.io/library/… form of a name, as Docker's save writes into io.containerd.image.name. */
function fullyQualified(repo: string): string {
  const slash = repo.indexOf("/");
  const first = slash < 0 ? "" : repo.slice(0, slash);
  if (first !== "" && (first.includes(".") || first.includes(":") || first === "localhost")) return repo;
  return slash < 0 ? `docker.io/library/${repo}` : `docker.io/${repo}`;
}

function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" ||
    (d.platform?.os === "unknown" && d.platform?.architecture === "unknown")
  );
}

function variantMatches(arch: string, want: string | undefined, have: string | undefined): boolean {
  if (want === undefined || want === have) return true;
  // arm64 without a variant is v8 (containerd platforms.Normalize).
  return arch === "arm64" && want === "v8" && have === undefined;
}

/** The single image manifest to put in a docker archive: `top` itself, or one entry of the index it is. */
async function pickManifest(reader: LayoutReader, top: Descriptor, platform?: string): Promise<Descriptor> {
  const want = platform === undefined ? undefined : parsePlatform(platform);
  if (isManifestType(top.mediaType)) {
    if (want && top.platform) {
      const p = top.platform;
      if (
        p.os !== want.os ||
        p.architecture !== want.architecture ||
        !variantMatches(p.architecture, want.variant, p.variant)
      ) {
        throw new ZerodepError(
          "PLATFORM_NOT_FOUND",
          `${reader.dir}: the image is ${platformString(p)}, not ${platform}`,
        );
      }
    }
    return top;
  }
  if (!isIndexType(top.mediaType)) {
    throw new ZerodepError(
      "NOT_AN_IMAGE",
      `${top.digest}: media type ${top.mediaType} is neither an image manifest nor an index`,
    );
  }
  const idx = await reader.readJson<Index>(top);
  if (!Array.isArray(idx?.manifests))
    throw new ParseError("INDEX_INVALID", `index ${top.digest}: manifests missing or not an array`);
  const images = idx.manifests.filter((d) => !isAttestation(d));
  const available = images.map((d) => platformString(d.platform)).join(", ") || "none";
  let hits = images;
  if (want) {
    hits = images.filter(
      (d) =>
        d.platform?.os === want.os &&
        d.platform.architecture === want.architecture &&
        variantMatches(want.architecture, want.variant, d.platform.variant),
    );
    if (hits.length === 0) {
      throw new ZerodepError(
        "PLATFORM_NOT_FOUND",
        `${reader.dir}: no ${platform} image in index ${top.digest}; it has: ${available}`,
      );
    }
  }
  if (hits.length !== 1) {
    throw new ZerodepError(
      "AMBIGUOUS_PLATFORM",
      `${reader.dir}: a docker archive holds one platform; ${want ? `${hits.length} entries match ${platform}` : "name one with platform"} (it has: ${available})`,
    );
  }
  // The entry may itself be an index (nested): resolve it the same way.
  return pickManifest(reader, hits[0]!, platform);
}

const DOCKER_LOADABLE_LAYERS = new Set<string>([
  MediaType.ociLayer,
  MediaType.ociLayerGzip,
  MediaType.dockerLayerGzip,
  "application/vnd.docker.image.rootfs.diff.tar",
]);
const IMAGE_CONFIGS = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

/** Writes a `docker-archive:` file loadable by `docker load` and `podman load`, Docker 25+ style: the OCI layout (oci-layout, index.json, blobs/sha256/*) PLUS manifest.json = [{Config: "blobs/sha256/<hex>", RepoTags: [repoTag] or [], Layers: ["blobs/sha256/<hex>", ...]}] (and `repositories` when a repoTag is given). One platform only: pick the manifest for `platform` (os/arch[/variant]) from an index, or the only manifest; the layers referenced must be the uncompressed-or-gzip blobs as they are (docker load accepts gzip layers). Same atomic write. */
export async function writeDockerArchive(
  layoutDir: string,
  file: string,
  opts: { tag?: string; repoTag?: string; platform?: string; mtime?: number },
): Promise<void> {
  const mtime = checkMtime(opts.mtime);
  const ref = opts.repoTag !== undefined ? normalizeRepoTag(opts.repoTag) : undefined;
  const reader = await LayoutReader.open(layoutDir);
  const chosen = await pickManifest(reader, reader.resolveRef(opts.tag), opts.platform);
  const manifest = await readManifest(reader, chosen);
  if (!IMAGE_CONFIGS.has(manifest.config?.mediaType)) {
    throw new ZerodepError(
      "NOT_AN_IMAGE",
      `manifest ${chosen.digest}: config media type ${manifest.config?.mediaType} is not an image config (docker load needs one)`,
    );
  }
  for (const [i, l] of manifest.layers.entries()) {
    if (!DOCKER_LOADABLE_LAYERS.has(l.mediaType)) {
      throw new ZerodepError(
        "LAYER_UNSUPPORTED",
        `manifest ${chosen.digest}: layers[${i}] ${l.digest} is ${l.mediaType}; a docker archive carries only tar or tar+gzip layers`,
      );
    }
  }
  const annotations: Record<string, string> = {};
  if (ref) {
    annotations[CONTAINERD_IMAGE_NAME] = `${fullyQualified(ref.repo)}:${ref.tag}`;
    annotations[REF_NAME] = ref.tag;
  }
  const entry: Descriptor = {
    mediaType: chosen.mediaType,
    digest: chosen.digest,
    size: chosen.size,
    ...(chosen.platform ? { platform: structuredClone(chosen.platform) } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
  const set = await collectBlobs(reader, [entry]);
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [entry] };
  const dockerManifest = [
    {
      Config: blobArchivePath(manifest.config.digest),
      RepoTags: ref ? [ref.full] : [],
      Layers: manifest.layers.map((l) => blobArchivePath(l.digest)),
    },
  ];
  const inputs: TarInput[] = [
    ...blobEntries(reader, set, mtime),
    fileInput("index.json", buildIndex(index), mtime),
    jsonEntry("manifest.json", dockerManifest, mtime),
    jsonEntry("oci-layout", OCI_LAYOUT_JSON, mtime),
  ];
  if (ref && manifest.layers.length > 0) {
    // Legacy (pre-1.10) map repo -> tag -> top layer id; `docker load` ignores it when manifest.json is there.
    const top = manifest.layers[manifest.layers.length - 1]!;
    inputs.push(jsonEntry("repositories", { [ref.repo]: { [ref.tag]: hexOf(top.digest) } }, mtime));
  }
  await writeTarAtomically(file, inputs, mtime);
}
