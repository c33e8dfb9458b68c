import { existsSync, type Stats, statSync } from "node:fs";
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
import { type StagedLayer, stageLayer } from "../image/staged-layer.js";
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
  const inspectOne = async (b: string): Promise<{ info: InspectResult; key: string }> => {
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
    return { info, key };
  };
  for (const [i, b] of opts.binaries.entries()) {
    const { info, key } = await inspectOne(b);
    // More programs for the same image (build's several main packages): the same platform, each.
    for (const extra of opts.extraBinaries?.[i] ?? []) {
      const other = await inspectOne(extra);
      if (other.key !== key)
        throw new UsageError(
          "DUPLICATE_PLATFORM",
          `${extra} is ${other.key} but ${b}, in the same image, is ${key}: one platform per image`,
        );
    }
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
  const sharedLayers = new Map<string, Promise<StagedLayer>>();
  try {
    // Platforms are built concurrently (gzip runs off the main thread, so two layers compress on two
    // cores); results keep the order of `binaries`, and the first failure in that order is reported.
    const one = async (i: number, file: string): Promise<{ image: Image; packed: PackedImage }> => {
      const info = infos[i]!;
      const platform: Platform = { architecture: info.arch!, os: "linux" };
      if (info.variant && (info.arch === "arm" || info.arch === "arm64")) platform.variant = info.variant;
      const base = baseSource ? await openBase(baseSource, platform) : null;
      if (base) bases.push(base);
      const extras = (opts.extraBinaries?.[i] ?? []).map((f) => ({
        file: f,
        path: `/app/${appName(f)}`,
        src: source(f),
      }));
      const { files, groups, env, warnings } = await imageFiles(
        file,
        source(file),
        path,
        extras,
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
      // Every other program in the image is judged as if it were the entrypoint (same user and env).
      const fs = new TreeRootFs(files, `the image (${platform.os}/${platform.architecture})`, base, source);
      for (const [j, ep] of [runtime.Entrypoint, ...extras.map((e) => [e.path])].entries()) {
        const verdict = await judgeEntrypoint(
          fs,
          {
            user: runtime.User,
            entrypoint: ep,
            cmd: j === 0 ? (runtime.Cmd ?? null) : null,
            env: runtime.Env,
            workingDir: runtime.WorkingDir,
          },
          { platform: formatPlatform(platform), name: j === 0 ? file : extras[j - 1]!.file },
        );
        const errors = verdict.problems.filter((p) => p.severity === "error");
        if (errors.length > 0 && !opts.force) {
          const first = errors[0]!;
          throw new ZerodepError(
            "IMAGE_WILL_NOT_RUN",
            `${j === 0 ? file : extras[j - 1]!.file}: ${j === 0 ? "the image's entrypoint" : `${ep[0]} in the image`} cannot run: ${first.code}: ${first.message}; fix: ${first.fix}${errors.length > 1 ? ` (+${errors.length - 1} more problems; zerodep check shows all)` : ""} — or --force`,
          );
        }
        for (const p of verdict.problems)
          if (p.severity === "warning" && !warnings.some((w) => w.code === p.code && w.message === p.message))
            warnings.push({ code: p.code, message: p.message, fix: p.fix });
      }

      // One media-type family per image: a Docker-format base keeps Docker types (podman and cri-o
      // reject mixed manifests).
      const docker = base?.family === "docker";
      // One layer, or (layers: "split") one per kind of content, least likely to change first: a new
      // build of the same program then changes only the last layer (the registry has the others).
      const parts: { files: TreeFile[]; comment: string; mtime: number }[] =
        opts.layers === "split"
          ? [
              { files: groups.runtime, comment: "/etc/passwd, /etc/group, /tmp and runtime files", mtime: 0 },
              { files: groups.libs, comment: "the loader and the libraries the programs need", mtime: 0 },
              { files: groups.add, comment: "added files", mtime },
              { files: groups.app, comment: "the programs", mtime },
            ].filter((p) => p.files.length > 0)
          : [{ files, comment: "binary, /etc/passwd, /etc/group, /tmp and runtime files", mtime }];
      const layers: StagedLayer[] = [];
      for (const [k, part] of parts.entries()) {
        // The runtime files are usually the same for every platform (passwd, CA bundle, zoneinfo):
        // staged once, shared by every image (same digest, one blob to push).
        const key =
          opts.layers === "split" && k < parts.length - 1 && part.mtime === 0
            ? `${docker}\0${part.files.map((f) => `${JSON.stringify(f.input.entry)}\0${f.hostPath ?? (f.input.body instanceof Uint8Array ? Buffer.from(f.input.body).toString("base64") : "")}`).join("\n")}`
            : null;
        const shared = key ? sharedLayers.get(key) : undefined;
        if (shared) {
          layers.push(await shared);
          continue;
        }
        log(
          `${platform.os}/${platform.architecture}: writing layer${parts.length > 1 ? ` ${k + 1}/${parts.length}` : ""} (${part.files.length} entries)`,
        );
        const staged = stageLayer(
          part.files.map((f) => f.input),
          {
            dir: stagingDir,
            mtime: part.mtime,
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
        if (key) {
          sharedLayers.set(key, staged);
          staged.catch(() => {}); // awaited below, and by any platform that shares it
        }
        layers.push(await staged);
      }
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
      let image = from;
      for (const [k, layer] of layers.entries())
        image = append(image, layer, {
          created,
          created_by: opts.createdBy ?? `zerodep pack ${basename(file)}`,
          comment: parts[k]!.comment,
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
      return {
        image,
        packed: {
          platform,
          manifest: { digest: manifest.digest, size: manifest.size },
          config: { digest: cfg.digest, size: cfg.size },
          layers: layers.map((layer) => ({
            digest: layer.digest,
            diffId: layer.diffId,
            size: layer.size,
            uncompressedSize: layer.uncompressedSize,
          })),
          warnings,
        },
      };
    };
    const settled = await Promise.allSettled(opts.binaries.map((file, i) => one(i, file)));
    for (const r of settled) if (r.status === "rejected") throw r.reason;
    for (const r of settled)
      if (r.status === "fulfilled") {
        built.push(r.value.image);
        images.push(r.value.packed);
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
  extras: { file: string; path: string; src: ByteSource }[],
  opts: PackOptions,
  mtime: number,
  hostRoot: string,
  base: BaseImage | null,
) {
  const warnings: PackedImage["warnings"] = [];
  // Split layers: the runtime files and libraries do not depend on the commit, so their times are
  // fixed (0) and their layer stays the same from build to build; the programs and added files carry
  // the build's time.
  const rt = opts.layers === "split" ? 0 : mtime;
  const app: TreeFile[] = [hostFile(file, path.slice(1), 0o755, mtime)];
  for (const e of extras) app.push(hostFile(e.file, e.path.slice(1), 0o755, mtime));
  const files: TreeFile[] = [];
  // A base keeps its own users and /tmp; scratch gets distroless's.
  if (!base?.rootFs.lstat("/etc/passwd")) {
    files.push(
      bytesFile("etc/passwd", PASSWD, 0o644, rt),
      bytesFile("etc/group", GROUP, 0o644, rt),
      dirEntry("home/nonroot", 0o755, rt, 65532, 65532),
    );
  }
  if (!base?.rootFs.lstat("/tmp")) files.push(dirEntry("tmp", 0o1777, rt));
  const env = [...(base?.config.config.Env ?? [])];
  if (!env.some((e) => e.startsWith("PATH="))) env.unshift(DEFAULT_PATH_ENV);
  const libs: TreeFile[] = [];
  if (opts.bundleLibs) {
    const placed = new Set<string>();
    for (const p of [{ file, path, src: binary }, ...extras])
      for (const l of await bundledLibraries(p.file, p.src, p.path, opts.libsRoot ?? "/", rt))
        if (!placed.has(l.input.entry.path)) {
          placed.add(l.input.entry.path);
          libs.push(l);
        }
  }
  const needs = await detectRuntimeNeeds(binary);
  const kinds = new Set(needs.map((n) => n.kind));
  const hardKinds = new Set(needs.filter((n) => n.strength === "hard").map((n) => n.kind));
  const ca = opts.caCerts ?? "auto";
  // A base that already has a bundle at the usual place (distroless, Debian, Alpine all do) keeps its
  // own: auto adds nothing (the safety net still judges the result against the need).
  const baseHas = (p: string) => {
    const st = base?.rootFs.lstat(p);
    return !!st && (st.kind === "symlink" || (st.kind === "file" && st.size > 0) || st.kind === "dir");
  };
  const baseCa = baseHas(`/${CA_IN_IMAGE}`);
  if (ca !== "none" && (ca !== "auto" || (kinds.has("ca-certificates") && !baseCa))) {
    const bundle = ca === "auto" ? `${hostRoot.replace(/\/$/, "")}/etc/ssl/certs/ca-certificates.crt` : ca;
    if (!existsSync(bundle)) {
      throw new ZerodepError(
        "CA_BUNDLE_MISSING",
        `${bundle}: no CA bundle to pack (install ca-certificates, or pass --ca-certs FILE, or --ca-certs none)`,
      );
    }
    files.push(hostFile(bundle, CA_IN_IMAGE, 0o644, rt));
    const at = env.findIndex((e) => e.startsWith("SSL_CERT_FILE="));
    if (at >= 0) env[at] = `SSL_CERT_FILE=/${CA_IN_IMAGE}`;
    else env.push(`SSL_CERT_FILE=/${CA_IN_IMAGE}`);
  }
  const tz = opts.tzdata ?? "auto";
  // Only a hard need (Go's time.LoadLocation) brings zoneinfo by default; C's localtime is a soft
  // need (a named TZ silently becomes UTC without it): check notes it, --tzdata all packs it.
  if (tz === "all" || (tz === "auto" && hardKinds.has("tzdata") && !baseHas("/usr/share/zoneinfo"))) {
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
        rt,
        (rel) => tz === "auto" && (rel === "right" || rel.startsWith("right/")),
      ),
    );
  }
  const add: TreeFile[] = [];
  for (const a of opts.add ?? []) add.push(...addedFiles(a.src, a.dst.replace(/^\/+/, ""), mtime));
  // A program must not land on (or inside, or above) a file pack itself writes: a silent overwrite
  // gives an image whose entrypoint is /etc/passwd, refused later with a misleading chmod fix.
  const others = [...files, ...libs, ...add];
  for (const [k, prog] of app.entries()) {
    const mine = prog.input.entry.path;
    for (const f of [...others, ...app.slice(k + 1)]) {
      const { path: other, type } = f.input.entry;
      if (other === mine || other.startsWith(`${mine}/`) || (type !== "dir" && mine.startsWith(`${other}/`)))
        throw new UsageError(
          "PATH_COLLISION",
          `${k === 0 && !opts.extraBinaries ? `--path ${path}` : `/${mine}`} collides with /${other}, which pack writes into the image; choose another path`,
        );
    }
  }
  // --add entries must not collide with each other or with what pack writes either.
  for (const a of add) {
    const p = a.input.entry.path;
    const clash = files.find(
      (f) => f.input.entry.path === p && (f.input.entry.type !== "dir" || a.input.entry.type !== "dir"),
    );
    if (clash)
      throw new UsageError(
        "PATH_COLLISION",
        `--add: /${p} collides with /${p}, which pack writes into the image`,
      );
  }
  for (const kv of opts.env ?? []) {
    const k = kv.slice(0, kv.indexOf("="));
    const at = env.findIndex((e) => e.startsWith(`${k}=`));
    if (at >= 0) env[at] = kv;
    else env.push(kv);
  }
  return {
    files: [...app, ...files, ...libs, ...add],
    groups: { runtime: files, libs, add, app },
    env,
    warnings,
  };
}

/** `--add SRC:DST`: a host file (its executable bits kept) or directory tree at DST in the image. */
function addedFiles(src: string, dst: string, mtime: number): TreeFile[] {
  let st: Stats;
  try {
    st = statSync(src);
  } catch (e) {
    throw new ZerodepError(
      "ADD_MISSING",
      `--add ${src}: ${(e as NodeJS.ErrnoException).code ?? "cannot read"}`,
    );
  }
  if (st.isDirectory()) return [dirEntry(dst, 0o755, mtime), ...hostTree(src, dst, mtime)];
  return [hostFile(src, dst, st.mode & 0o111 ? 0o755 : 0o644, mtime)];
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
