import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { judgeEntrypoint } from "../check/entrypoint.js";
import { detectRuntimeNeeds } from "../check/runtime-needs.js";
import { UsageError, ZerodepError } from "../errors.js";
import {
  append,
  emptyImage,
  type Image,
  type ImageIndex,
  imageIndex,
  sourceImage,
  withAnnotations,
  withConfig,
} from "../image/model.js";
import type { ImageSource } from "../image/source.js";
import { stageLayer } from "../image/staged-layer.js";
import { inspectFile, inspectSource } from "../inspect/inspect.js";
import type { InspectResult } from "../inspect/types.js";
import { type ByteSource, borrowed, FileSource } from "../io/reader.js";
import type { Digest } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import { LibraryCache, resolveDeps } from "../resolve/resolve.js";
import { DirRootFs } from "../resolve/root-fs.js";
import { type BaseImage, openBase } from "./base.js";
import { bytesFile, dirEntry, GROUP, hostFile, hostTree, PASSWD, type TreeFile } from "./files.js";
import type { PackOptions } from "./pack.js";
import { TreeRootFs } from "./tree-root-fs.js";

/** What pack made for one platform (README "pack --json"). */
export interface PackedImage {
  platform: Platform;
  manifest: { digest: Digest; size: number };
  config: { digest: Digest; size: number };
  layers: { digest: Digest; diffId: Digest; size: number; uncompressedSize: number }[];
  warnings: { code: string; message: string; fix: string }[];
}

/** A built, not yet written, image: written to any number of destinations by the copy engine. */
export interface Built {
  image: Image | ImageIndex;
  images: PackedImage[];
  /** The first image's platform: a single image's top descriptor carries it, as an index entry would. */
  platform: Platform;
}

const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CA_IN_IMAGE = "etc/ssl/certs/ca-certificates.crt";

/** A binary's name without an arch suffix ("app-linux-arm64" → "app"), for the default path. */
export function appName(file: string): string {
  return basename(file).replace(
    /[-_.](linux[-_.])?(amd64|arm64|armv?[5-7]?|386|riscv64|ppc64le|s390x|mips64le|loong64)(v\d)?$/,
    "",
  );
}

/**
 * pack's builder: from binaries (and a base) to an Image, or an ImageIndex for several platforms.
 * Every binary is inspected before anything is built; each platform's files are judged by the same
 * verdict function as check IMAGE (the safety net) before its layer is staged in `stagingDir`. The
 * result is lazy: manifests and configs are computed when a destination first asks for them.
 */
export async function buildPackImage(
  opts: PackOptions,
  stagingDir: string,
  baseSource: ImageSource | null,
): Promise<Built> {
  // Each host file (the binary, the CA bundle …) is opened once and every reader (inspect, the needs
  // detector, the resolver, the verdict) gets the same source object, so a binary is parsed once
  // (readElf's memo); all are closed here when the build ends, on failure too.
  const files: FileSource[] = [];
  const opened = new Map<string, ByteSource>();
  try {
    return await build(opts, stagingDir, baseSource, (path) => {
      let src = opened.get(path);
      if (!src) {
        const f = FileSource.open(path);
        files.push(f);
        src = borrowed(f);
        opened.set(path, src);
      }
      return src;
    });
  } finally {
    for (const f of files) f.closeNow();
  }
}

async function build(
  opts: PackOptions,
  stagingDir: string,
  baseSource: ImageSource | null,
  source: (path: string) => ByteSource,
): Promise<Built> {
  const mtime = opts.sourceDateEpoch ?? 0;
  const created = new Date(mtime * 1000).toISOString().replace(/\.000Z$/, "Z");
  const log = opts.log ?? (() => {});
  // Inspect every binary first: refuse what cannot be an image before building anything.
  const infos: InspectResult[] = [];
  const seen = new Map<string, string>();
  for (const b of opts.binaries) {
    let src: ByteSource | undefined;
    try {
      src = source(b);
    } catch {
      // Unreadable: inspectFile turns the open error into its one-line result below.
    }
    const info = src ? await inspectSource(src, b) : await inspectFile(b);
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

  const built: Image[] = [];
  const images: PackedImage[] = [];
  // Each base's read-back files (some in unnamed temp files) are released when the build ends, also on
  // failure: a library caller packing many times must not keep descriptors (ENOSPC included).
  const bases: BaseImage[] = [];
  try {
    for (const [i, file] of opts.binaries.entries()) {
      const info = infos[i]!;
      const platform: Platform = { architecture: info.arch!, os: "linux" };
      if (info.variant && (info.arch === "arm" || info.arch === "arm64")) platform.variant = info.variant;
      const base = baseSource ? await openBase(baseSource, platform) : null;
      if (base) bases.push(base);
      const { files, env, warnings } = await imageFiles(
        file,
        source(file),
        path,
        opts,
        mtime,
        hostRoot,
        base,
      );

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
      const fs = new TreeRootFs(files, `the image (${platform.os}/${platform.architecture})`, base, source);
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
      // One media-type family per image: a Docker-format base keeps Docker types (podman and cri-o
      // reject mixed manifests).
      const docker = base?.family === "docker";
      const layer = await stageLayer(
        files.map((f) => f.input),
        {
          dir: stagingDir,
          mtime,
          level: opts.gzipLevel ?? 6,
          mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip,
          ...(opts.onProgress
            ? {
                onProgress: (done: number, total: number) =>
                  opts.onProgress!({ platform: `${platform.os}/${platform.architecture}`, done, total }),
              }
            : {}),
        },
      );
      const goAnn = goAnnotations(info);
      const labels = { ...bc.Labels, ...goAnn, ...opts.labels };
      const ports = {
        ...bc.ExposedPorts,
        ...Object.fromEntries((opts.ports ?? []).map((p) => [p.includes("/") ? p : `${p}/tcp`, {}])),
      };
      const from = base
        ? sourceImage(base.source, base.descriptor, {
            platform,
            manifest: base.manifest,
            config: base.config,
          })
        : emptyImage(platform);
      let image = append(from, layer, {
        created,
        created_by: `zerodep pack ${basename(file)}`,
        comment: "binary, /etc/passwd, /etc/group, /tmp and runtime files",
      });
      image = withConfig(image, (c) => ({
        ...c,
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
      }));
      // A base's manifest annotations described the base, not this image: only ours are set.
      image = withAnnotations(image, { ...goAnn, ...opts.annotations }, { replace: true });
      const manifest = await image.descriptor();
      const cfg = (await image.manifest()).config;
      built.push(image);
      images.push({
        platform,
        manifest: { digest: manifest.digest, size: manifest.size },
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
  } finally {
    for (const b of bases) b.rootFs.close();
  }
  const image =
    built.length === 1
      ? built[0]!
      : imageIndex(built.map((im, i) => ({ image: im, platform: images[i]!.platform })));
  return { image, images, platform: images[0]!.platform };
}

/** The files of the image for one binary, and the environment they imply. */
async function imageFiles(
  file: string,
  binary: ByteSource,
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
  if (opts.bundleLibs)
    files.push(...(await bundledLibraries(file, binary, path, opts.libsRoot ?? "/", mtime)));
  const needs = await detectRuntimeNeeds(binary);
  const kinds = new Set(needs.map((n) => n.kind));
  const hardKinds = new Set(needs.filter((n) => n.strength === "hard").map((n) => n.kind));
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
  binary: ByteSource,
  path: string,
  libsRoot: string,
  mtime: number,
): Promise<TreeFile[]> {
  const deps = await resolveDeps(binary, {
    root: new DirRootFs(libsRoot),
    location: path,
    cache: new LibraryCache(),
  });
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
