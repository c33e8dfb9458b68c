import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { judgeEntrypoint } from "../check/entrypoint.js";
import { detectRuntimeNeeds } from "../check/runtime-needs.js";
import { UsageError, ZerodepError } from "../errors.js";
import {
  type FileImageRef,
  type ImageRef,
  imageRefName,
  parseImageArg,
  parseImageRef,
  toImageRef,
  transportOf,
} from "../image/reference.js";
import { inspectFile } from "../inspect/inspect.js";
import type { InspectResult } from "../inspect/types.js";
import { removeOnInterrupt } from "../io/cleanup.js";
import { FileSource } from "../io/reader.js";
import { writeDockerArchive, writeOciArchive } from "../oci/archive.js";
import { type Digest, DigestingStream } from "../oci/digest.js";
import { LayoutWriter } from "../oci/layout.js";
import { MediaType } from "../oci/media-types.js";
import { formatPlatform } from "../oci/platform.js";
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from "../oci/types.js";
import type { RegistryOptions } from "../registry/options.js";
import { LibraryCache, resolveDeps } from "../resolve/resolve.js";
import { DirRootFs } from "../resolve/root-fs.js";
import { prepareEntries, type TarInput, writeTar } from "../tar/writer.js";
import { type BaseImage, openBase, openBaseSource } from "./base.js";
import { bytesFile, dirEntry, GROUP, hostFile, hostTree, PASSWD, type TreeFile } from "./files.js";
import { TreeRootFs } from "./tree-root-fs.js";

export interface PackOptions {
  /** Binaries on the host: one per platform (several make a multi-arch index). */
  binaries: string[];
  /** Destination: "oci:DIR[:TAG]", "oci-archive:FILE[:TAG]" or "docker-archive:FILE[:REPO:TAG]", as a string or parsed (parsePackOut). */
  out: string | FileImageRef;
  /** CA bundle: auto (the host bundle when the binary needs one), a host file, or none. */
  caCerts?: "auto" | "none" | string;
  /** zoneinfo: auto (when needed, without right/), all, or none. */
  tzdata?: "auto" | "all" | "none";
  /** Runtime user (default 65532:65532, distroless "nonroot"). */
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** Extra KEY=VALUE environment. */
  env?: string[];
  workdir?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** "8080/tcp" … */
  ports?: string[];
  stopSignal?: string;
  /** In-image path of the binary (default /app/NAME). */
  path?: string;
  /** Timestamps in the image (SOURCE_DATE_EPOCH); default 0. */
  sourceDateEpoch?: number;
  /** Write the image even when check says the entrypoint cannot run. */
  force?: boolean;
  /** Where the CA bundle and zoneinfo come from (default "/"). */
  hostRoot?: string;
  /**
   * Copy the interpreter and the resolved library closure (zerodep deps, in `libsRoot`) into the
   * image, so that a dynamically linked binary runs on an empty base.
   */
  bundleLibs?: boolean;
  /** Root the libraries come from (default "/"). */
  libsRoot?: string;
  /** Called while a layer is written with the uncompressed bytes done so far and the expected total. */
  onProgress?: (p: { platform: string; done: number; total: number }) => void;
  /** Base image "oci:DIR[:TAG]", "oci-archive:FILE[:TAG]" or "docker-archive:FILE[:REPO:TAG]": its layers are kept, its config merged, its media-type family kept. */
  base?: string | ImageRef;
  /** How a registry --base is reached (credentials, CA files, --insecure). */
  registry?: RegistryOptions;
  /** gzip level (default 6, as gzip(1)). */
  gzipLevel?: number;
  /** Called with progress messages (stderr in the CLI). */
  log?: (msg: string) => void;
}

export interface PackedImage {
  platform: Platform;
  manifest: { digest: Digest; size: number };
  config: { digest: Digest; size: number };
  layers: { digest: Digest; diffId: Digest; size: number; uncompressedSize: number }[];
  warnings: { code: string; message: string; fix: string }[];
}

export interface PackResult {
  schemaVersion: 1;
  out: string;
  tag: string | null;
  /** The top-level descriptor written (an index for several platforms). */
  digest: Digest;
  mediaType: string;
  images: PackedImage[];
}

const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CA_IN_IMAGE = "etc/ssl/certs/ca-certificates.crt";

/**
 * Parses a pack destination (--out): oci:, oci-archive: or docker-archive:, validated completely before
 * anything is written (an invalid tag is a UsageError, not a directory name).
 */
export function parsePackOut(out: string): FileImageRef {
  if (transportOf(out) === "registry")
    throw new UsageError("USAGE", `--out: expected oci:DIR[:TAG], got "${out}"`);
  return parseImageRef(out) as FileImageRef;
}

/** --base, parsed up front, with the name it is shown under (the caller's spelling when given as a string). */
interface NamedBase {
  ref: ImageRef;
  name: string;
}

/** A binary's name without an arch suffix ("app-linux-arm64" → "app"), for the default path. */
export function appName(file: string): string {
  return basename(file).replace(
    /[-_.](linux[-_.])?(amd64|arm64|armv?[5-7]?|386|riscv64|ppc64le|s390x|mips64le|loong64)(v\d)?$/,
    "",
  );
}

/**
 * `zerodep pack`: a minimal image from binaries, no daemon. Scratch base, the binary at /app/NAME,
 * distroless-compatible /etc/passwd and /etc/group, /tmp 1777, CA certificates and zoneinfo when the
 * binary needs them; one gzip layer per platform; check run on the image's own tree first.
 */
export async function pack(opts: PackOptions): Promise<PackResult> {
  if (opts.binaries.length === 0) throw new UsageError("USAGE", "pack: no BINARY given");
  // KEY=VALUE with a non-empty key: "FOO" alone would become the key "FO" below (slice to -1).
  for (const kv of opts.env ?? [])
    if (kv.indexOf("=") <= 0) throw new UsageError("USAGE", `env wants KEY=VALUE (got "${kv}")`);
  // References are parsed (validated) here, before anything is inspected or written.
  const out = typeof opts.out === "string" ? parsePackOut(opts.out) : opts.out;
  const outName = imageRefName(opts.out);
  const base: NamedBase | undefined =
    opts.base === undefined
      ? undefined
      : { ref: toImageRef(opts.base, parseImageArg), name: imageRefName(opts.base) };
  if (out.transport === "oci")
    return packToLayout(opts, { dir: out.dir, tag: out.tag ?? null }, outName, base);
  const archive = out;
  // Archives: the layout is built in a temporary directory beside the file, then written as one tar
  // (atomically, by the archive writer) and the directory removed.
  if (archive.transport === "docker-archive" && opts.binaries.length > 1) {
    throw new UsageError(
      "USAGE",
      "docker-archive holds one platform: pack one binary, or use oci: / oci-archive: for an index",
    );
  }
  const tmp = await mkdtemp(
    join(dirname(resolve(archive.file)), `.${basename(archive.file)}.zerodep-layout-`),
  );
  const release = removeOnInterrupt(tmp);
  try {
    const tag = archive.transport === "oci-archive" ? (archive.tag ?? null) : null;
    const r = await packToLayout(opts, { dir: join(tmp, "layout"), tag: tag ?? "latest" }, outName, base);
    const mtime = opts.sourceDateEpoch ?? 0;
    if (archive.transport === "oci-archive")
      await writeOciArchive(join(tmp, "layout"), archive.file, { tag: tag ?? "latest", mtime });
    else
      await writeDockerArchive(join(tmp, "layout"), archive.file, {
        tag: "latest",
        repoTag: archive.repoTag ?? undefined,
        mtime,
      });
    return {
      ...r,
      out: outName,
      tag: (archive.transport === "oci-archive" ? archive.tag : archive.repoTag) ?? null,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
    release();
  }
}

async function packToLayout(
  opts: PackOptions,
  dest: { dir: string; tag: string | null },
  outName: string,
  baseRef: NamedBase | undefined,
): Promise<PackResult> {
  const { dir, tag } = dest;
  const mtime = opts.sourceDateEpoch ?? 0;
  const created = new Date(mtime * 1000).toISOString().replace(/\.000Z$/, "Z");
  const log = opts.log ?? (() => {});

  // Inspect every binary first: refuse what cannot be an image before writing anything.
  const infos: InspectResult[] = [];
  const seen = new Map<string, string>();
  for (const b of opts.binaries) {
    const info = await inspectFile(b);
    if (info.error) throw new ZerodepError(info.errorCode ?? "BAD_INPUT", info.error);
    if (info.format !== "elf" || info.os !== "linux" || info.arch === null) {
      throw new ZerodepError(
        "NOT_LINUX_ELF",
        `${b}: not a Linux ELF executable (${info.format}, ${info.os ?? "unknown OS"})`,
      );
    }
    if ((statSync(b).mode & 0o444) === 0) throw new ZerodepError("EACCES", `${b}: not readable`);
    const key = `${info.os}/${info.arch}${info.variant && info.arch === "arm" ? `/${info.variant}` : ""}`;
    if (seen.has(key))
      throw new UsageError(
        "DUPLICATE_PLATFORM",
        `${b} and ${seen.get(key)} are both ${key}: one binary per platform`,
      );
    seen.set(key, b);
    infos.push(info);
  }
  const name = appName(opts.binaries[0]!);
  const path = (opts.path ?? `/app/${name}`).replace(/^\/*/, "/");
  const hostRoot = opts.hostRoot ?? "/";

  const baseSource = baseRef ? await openBaseSource(baseRef.ref, opts.registry, baseRef.name) : null;
  const writer = await LayoutWriter.open(dir).catch(async (e: unknown) => {
    await baseSource?.close();
    throw e;
  });
  try {
    const images: PackedImage[] = [];
    const manifests: Descriptor[] = [];
    for (const [i, file] of opts.binaries.entries()) {
      const info = infos[i]!;
      const platform: Platform = { architecture: info.arch!, os: "linux" };
      if (info.variant && (info.arch === "arm" || info.arch === "arm64")) platform.variant = info.variant;
      const base = baseSource ? await openBase(baseSource, platform) : null;
      const { files, env, warnings } = await imageFiles(file, path, opts, mtime, hostRoot, base);

      const bc = base?.config.config ?? {};
      const runtime = {
        User: opts.user ?? bc.User ?? "65532:65532",
        Env: env,
        Entrypoint: opts.entrypoint ?? [path],
        // The base's Cmd belonged to its entrypoint, not ours (ko and crane drop it too).
        Cmd: opts.cmd,
        WorkingDir: opts.workdir ?? bc.WorkingDir ?? "/",
      };
      // Safety net: the image about to be written, judged by the same function as check IMAGE and
      // analyze (user, entrypoint lookup, modes, the program against the very tree of this image).
      const fs = new TreeRootFs(files, `the image (${platform.os}/${platform.architecture})`, base);
      const verdict = await judgeEntrypoint(
        fs,
        {
          user: runtime.User,
          entrypoint: runtime.Entrypoint,
          cmd: runtime.Cmd ?? null,
          env: runtime.Env,
          workingDir: runtime.WorkingDir,
        },
        { platform: formatPlatform(platform), name: file },
      );
      const errors = verdict.problems.filter((p) => p.severity === "error");
      if (errors.length > 0 && !opts.force) {
        const first = errors[0]!;
        throw new ZerodepError(
          "IMAGE_WILL_NOT_RUN",
          `${file}: the image's entrypoint cannot run: ${first.code}: ${first.message}; fix: ${first.fix}${errors.length > 1 ? ` (+${errors.length - 1} more problems; zerodep check shows all)` : ""} — or --force`,
        );
      }
      for (const p of verdict.problems)
        if (p.severity === "warning") warnings.push({ code: p.code, message: p.message, fix: p.fix });

      log(`${platform.os}/${platform.architecture}: writing layer (${files.length} entries)`);
      const layer = await writeLayer(
        writer,
        files.map((f) => f.input),
        mtime,
        opts.gzipLevel ?? 6,
        opts.onProgress
          ? (done, total) =>
              opts.onProgress!({ platform: `${platform.os}/${platform.architecture}`, done, total })
          : undefined,
      );
      // The base's layers are copied as they are (each verified against its digest).
      for (const l of base?.layers ?? []) await writer.putBlob(base!.source.blob(l), l.digest);
      const goAnn = goAnnotations(info);
      const labels = { ...bc.Labels, ...goAnn, ...opts.labels };
      const ports = {
        ...bc.ExposedPorts,
        ...Object.fromEntries((opts.ports ?? []).map((p) => [p.includes("/") ? p : `${p}/tcp`, {}])),
      };
      const docker = base?.family === "docker";
      const config: ImageConfig = {
        ...(base ? base.config : {}),
        architecture: platform.architecture,
        os: "linux",
        ...(platform.variant ? { variant: platform.variant } : {}),
        created,
        config: {
          ...bc,
          ...runtime,
          Labels: Object.keys(labels).length ? labels : undefined,
          ExposedPorts: Object.keys(ports).length ? ports : undefined,
          StopSignal: opts.stopSignal ?? bc.StopSignal,
        },
        rootfs: { type: "layers", diff_ids: [...(base?.config.rootfs.diff_ids ?? []), layer.diffId] },
        history: [
          ...(base?.config.history ?? []),
          {
            created,
            created_by: `zerodep pack ${basename(file)}`,
            comment: "binary, /etc/passwd, /etc/group, /tmp and runtime files",
          },
        ],
      };
      const cfg = await writer.putJson(config);
      // One media-type family per image: a Docker-format base keeps Docker types (podman and cri-o
      // reject mixed manifests).
      const manifestType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: manifestType,
        config: {
          mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig,
          digest: cfg.digest,
          size: cfg.size,
        },
        layers: [
          ...(base?.layers ?? []),
          {
            mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip,
            digest: layer.digest,
            size: layer.size,
          },
        ],
        ...(Object.keys({ ...goAnn, ...opts.annotations }).length
          ? { annotations: { ...goAnn, ...opts.annotations } }
          : {}),
      };
      const man = await writer.putJson(manifest);
      manifests.push({ mediaType: manifestType, digest: man.digest, size: man.size, platform });
      images.push({
        platform,
        manifest: { digest: man.digest, size: man.size },
        config: { digest: cfg.digest, size: cfg.size },
        layers: [
          {
            digest: layer.digest,
            diffId: layer.diffId,
            size: layer.size,
            uncompressedSize: layer.uncompressedSize,
          },
        ],
        warnings,
      });
    }
    let top: Descriptor;
    if (manifests.length === 1) top = manifests[0]!;
    else {
      const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
      const idx = await writer.putJson(index);
      top = { mediaType: MediaType.ociIndex, digest: idx.digest, size: idx.size };
    }
    writer.setRef(tag ? { ...top, annotations: { ...top.annotations } } : top, tag ?? undefined);
    await writer.commit();
    return { schemaVersion: 1, out: outName, tag, digest: top.digest, mediaType: top.mediaType, images };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await baseSource?.close();
  }
}

/** The files of the image for one binary, and the environment they imply. */
async function imageFiles(
  file: string,
  path: string,
  opts: PackOptions,
  mtime: number,
  hostRoot: string,
  base: BaseImage | null,
) {
  const warnings: PackedImage["warnings"] = [];
  const files: TreeFile[] = [hostFile(file, path.slice(1), 0o755, mtime)];
  // A base keeps its own users and /tmp; scratch gets distroless's.
  if (!base?.rootFs.lstat("/etc/passwd")) {
    files.push(
      bytesFile("etc/passwd", PASSWD, 0o644, mtime),
      bytesFile("etc/group", GROUP, 0o644, mtime),
      dirEntry("home/nonroot", 0o755, mtime, 65532, 65532),
    );
  }
  if (!base?.rootFs.lstat("/tmp")) files.push(dirEntry("tmp", 0o1777, mtime));
  const env = [...(base?.config.config.Env ?? [])];
  if (!env.some((e) => e.startsWith("PATH="))) env.unshift(DEFAULT_PATH_ENV);
  if (opts.bundleLibs) files.push(...(await bundledLibraries(file, path, opts.libsRoot ?? "/", mtime)));
  const src = FileSource.open(file);
  let kinds: Set<string>;
  let hardKinds: Set<string>;
  try {
    const needs = await detectRuntimeNeeds(src);
    kinds = new Set(needs.map((n) => n.kind));
    hardKinds = new Set(needs.filter((n) => n.strength === "hard").map((n) => n.kind));
  } finally {
    src.closeNow();
  }
  const ca = opts.caCerts ?? "auto";
  if (ca !== "none" && (ca !== "auto" || kinds.has("ca-certificates"))) {
    const bundle = ca === "auto" ? `${hostRoot.replace(/\/$/, "")}/etc/ssl/certs/ca-certificates.crt` : ca;
    if (!existsSync(bundle)) {
      throw new ZerodepError(
        "CA_BUNDLE_MISSING",
        `${bundle}: no CA bundle to pack (install ca-certificates, or pass --ca-certs FILE, or --ca-certs none)`,
      );
    }
    files.push(hostFile(bundle, CA_IN_IMAGE, 0o644, mtime));
    env.push(`SSL_CERT_FILE=/${CA_IN_IMAGE}`);
  }
  const tz = opts.tzdata ?? "auto";
  // Only a hard need (Go's time.LoadLocation) brings zoneinfo by default; C's localtime is a soft
  // need (a named TZ silently becomes UTC without it): check notes it, --tzdata all packs it.
  if (tz === "all" || (tz === "auto" && hardKinds.has("tzdata"))) {
    const zi = `${hostRoot.replace(/\/$/, "")}/usr/share/zoneinfo`;
    if (!existsSync(zi))
      throw new ZerodepError(
        "TZDATA_MISSING",
        `${zi}: no zoneinfo to pack (install tzdata, or --tzdata none)`,
      );
    // right/ holds leap-second variants nobody loads by default: left out unless --tzdata all.
    files.push(
      ...hostTree(
        zi,
        "usr/share/zoneinfo",
        mtime,
        (rel) => tz === "auto" && (rel === "right" || rel.startsWith("right/")),
      ),
    );
  }
  // The binary must not land on (or inside, or above) a file pack itself writes: a silent overwrite
  // gives an image whose entrypoint is /etc/passwd, refused later with a misleading chmod fix.
  const mine = path.slice(1);
  for (const f of files.slice(1)) {
    const { path: other, type } = f.input.entry;
    if (other === mine || other.startsWith(`${mine}/`) || (type !== "dir" && mine.startsWith(`${other}/`)))
      throw new UsageError(
        "PATH_COLLISION",
        `--path ${path} collides with /${other}, which pack writes into the image; choose another path`,
      );
  }
  for (const kv of opts.env ?? []) {
    const k = kv.slice(0, kv.indexOf("="));
    const at = env.findIndex((e) => e.startsWith(`${k}=`));
    if (at >= 0) env[at] = kv;
    else env.push(kv);
  }
  return { files, env, warnings };
}

/**
 * The loader and libraries a dynamic binary needs, as its loader resolves them in `libsRoot`, placed
 * so that the loader finds them again inside the image: the interpreter at its PT_INTERP path, each
 * library under the name it was requested by, in the directory it was found in (the image has no
 * ld.so.cache; default and rpath directories keep working).
 */
async function bundledLibraries(
  file: string,
  path: string,
  libsRoot: string,
  mtime: number,
): Promise<TreeFile[]> {
  const src = FileSource.open(file);
  let deps: Awaited<ReturnType<typeof resolveDeps>>;
  try {
    deps = await resolveDeps(src, {
      root: new DirRootFs(libsRoot),
      location: path,
      cache: new LibraryCache(),
    });
  } finally {
    src.closeNow();
  }
  const errors = deps.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new ZerodepError(
      "BUNDLE_INCOMPLETE",
      `${file}: cannot bundle its libraries from ${libsRoot}: ${errors[0]!.code}: ${errors[0]!.message}`,
    );
  }
  const out: TreeFile[] = [];
  const placed = new Set<string>();
  const host = (p: string) => `${libsRoot.replace(/\/$/, "")}${p}`;
  for (const lib of deps.libraries) {
    const at =
      lib.via === "interpreter" ? lib.name : `${lib.path.slice(0, lib.path.lastIndexOf("/"))}/${lib.name}`;
    if (placed.has(at) || (lib.name.includes("/") && lib.via !== "interpreter")) continue;
    placed.add(at);
    out.push(hostFile(host(lib.path), at.replace(/^\/+/, ""), 0o755, mtime));
  }
  return out;
}

/**
 * One layer: the tar is streamed once, hashed uncompressed (diff_id) and gzipped into the layout,
 * which hashes the compressed bytes. Nothing is held in memory beyond a chunk.
 */
async function writeLayer(
  writer: LayoutWriter,
  inputs: TarInput[],
  mtime: number,
  level: number,
  progress?: (done: number, total: number) => void,
) {
  const raw = new DigestingStream();
  const tar = writeTar(prepareEntries(inputs, { mtime }));
  // Content bytes plus a header block each: close enough to the tar size for a progress bar.
  const total = inputs.reduce((a, i) => a + i.entry.size + 512, 1024);
  async function* counted() {
    for await (const chunk of tar) {
      raw.update(chunk);
      progress?.(Math.min(raw.size, total), total);
      yield chunk;
    }
  }
  // 256 KiB output chunks: zlib's default 16 KiB means a hash update and a write per tiny chunk.
  const gz = createGzip({ level, chunkSize: 256 * 1024 });
  const done = pipeline(Readable.from(counted()), gz);
  done.catch(() => {}); // an error also ends `gz`, and so putBlob; awaited below either way
  const blob = await writer.putBlob(gz as AsyncIterable<Uint8Array>);
  await done;
  return { digest: blob.digest, size: blob.size, diffId: raw.digest, uncompressedSize: raw.size };
}

/** OCI annotations from Go build info (ko does the same): revision, created, version, source. */
function goAnnotations(info: InspectResult): Record<string, string> {
  const g = info.go;
  if (!g) return {};
  const a: Record<string, string> = {};
  if (g.settings["vcs.revision"]) a["org.opencontainers.image.revision"] = g.settings["vcs.revision"];
  if (g.settings["vcs.time"]) a["org.opencontainers.image.created"] = g.settings["vcs.time"];
  if (g.main?.version && g.main.version !== "(devel)") a["org.opencontainers.image.version"] = g.main.version;
  const mod = g.main?.path ?? "";
  if (/^(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)\/[^/]+\/[^/]+/.test(mod)) {
    a["org.opencontainers.image.source"] = `https://${mod.split("/").slice(0, 3).join("/")}`;
  }
  return a;
}
