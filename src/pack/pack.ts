import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { CopyEvent } from "../image/copy.js";
import { imageSource } from "../image/model.js";
import {
  type FileImageRef,
  formatImageRef,
  type ImageRef,
  imageRefName,
  parseImageArg,
  parseImageRef,
  type RegistryRef,
  toImageRef,
  transportOf,
} from "../image/reference.js";
import type { BlobOrigin, ImageSink } from "../image/sink.js";
import type { ImageSource } from "../image/source.js";
import { makeStagingDir } from "../io/cleanup.js";
import type { Digest } from "../oci/digest.js";
import { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import { type CopyReport, copyFrom, registryRef } from "../transfer/copy.js";
import { openSink, openSource } from "../transfer/open.js";
import { buildPackImage, type PackedImage } from "./builder.js";

export { appName, type PackedImage } from "./builder.js";

export interface PackOptions {
  /** Binaries on the host: one per platform (several make a multi-arch index). */
  binaries: string[];
  /**
   * More programs in the same image, per platform (parallel to `binaries`): each at /app/NAME beside
   * the entrypoint, of the same platform, and judged by the safety net as if it were the entrypoint.
   */
  extraBinaries?: string[][];
  /**
   * "one" (default): one layer per platform. "split": the runtime files (passwd, group, /tmp, CA
   * bundle, zoneinfo), bundled libraries, added files and the programs each in their own layer, in
   * that order, so that a rebuild of the same program changes only the last one.
   */
  layers?: "one" | "split";
  /** Host files or directories copied into the image: src on the host, dst in the image. */
  add?: { src: string; dst: string }[];
  /** The history entry's created_by (default "zerodep pack NAME"). */
  createdBy?: string;
  /**
   * Destinations on disk: "oci:DIR[:TAG]", "oci-archive:FILE[:TAG]" or "docker-archive:FILE[:REPO:TAG]",
   * as strings or parsed (parsePackOut); one or several. At least one of `out` and `push` is needed.
   */
  out?: string | FileImageRef | (string | FileImageRef)[];
  /** Registry destinations ([docker://]HOST/REPO[:TAG]); one or several (several tags, several registries). */
  push?: string | RegistryRef | (string | RegistryRef)[];
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
  /** How registries (--base, --push) are reached: credentials, CA files, --insecure, concurrency. */
  registry?: RegistryOptions;
  /** Shared registry clients (tokens, sockets); one is made (and closed) when absent. */
  session?: RegistrySession;
  /** Progress of uploads to registry destinations (the CLI draws bars from these). */
  onUpload?: (e: CopyEvent) => void;
  /** Where the layer is staged before it is written to the destinations (default: the OS temporary directory). */
  tmpDir?: string;
  /** gzip level (default 6, as gzip(1)). */
  gzipLevel?: number;
  /** Called with progress messages (stderr in the CLI). */
  log?: (msg: string) => void;
}

/** Where pack wrote the image, and how (the copy report: blobs written, uploaded, mounted or already there). */
export interface PackDestination {
  destination: string;
  transport: ImageRef["transport"];
  /** The tag the destination names the image by (layout ref name, archive tag or REPO:TAG, registry tag). */
  tag: string | null;
  report: CopyReport;
}

export interface PackResult {
  schemaVersion: 1;
  /** The first --out destination as given; null when the image was only pushed. */
  out: string | null;
  /** The first --out's tag. */
  tag: string | null;
  /** The top-level descriptor written (an index for several platforms). */
  digest: Digest;
  mediaType: string;
  images: PackedImage[];
  /** Every destination, in the order written: --out ones first, then --push ones. */
  destinations: PackDestination[];
  /** The first --push destination's report (present when something was pushed). */
  pushed?: CopyReport;
}

/**
 * Parses a pack destination (--out): oci:, oci-archive: or docker-archive:, validated completely before
 * anything is written (an invalid tag is a UsageError, not a directory name).
 */
export function parsePackOut(out: string): FileImageRef {
  if (transportOf(out) === "registry")
    throw new UsageError("USAGE", `--out: expected oci:DIR[:TAG], got "${out}"`);
  return parseImageRef(out) as FileImageRef;
}

function list<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function tagOf(ref: ImageRef): string | null {
  switch (ref.transport) {
    case "oci":
    case "oci-archive":
      return ref.tag ?? null;
    case "docker-archive":
      return ref.repoTag ?? null;
    case "registry":
      return ref.reference.tag ?? null;
  }
}

/**
 * `zerodep pack`: a minimal image from binaries, no daemon. Scratch base (or --base), the binary at
 * /app/NAME, distroless-compatible /etc/passwd and /etc/group, /tmp 1777, CA certificates and zoneinfo
 * when the binary needs them; one gzip layer per platform; check run on the image's own tree first.
 *
 * The builder makes one Image (or an index for several binaries); every destination is a sink the one
 * copy engine writes it to: `out` and `push` together are a tee, each may be repeated. References are
 * all parsed and the sinks opened before anything is built, so a bad destination costs nothing. Files
 * are written first (each atomically), then registries (the tag last); a destination that fails stops
 * the run and leaves the ones before it written.
 */
export async function pack(opts: PackOptions): Promise<PackResult> {
  if (opts.binaries.length === 0) throw new UsageError("USAGE", "pack: no BINARY given");
  // KEY=VALUE with a non-empty key: "FOO" alone would become the key "FO" (slice to -1).
  for (const kv of opts.env ?? [])
    if (kv.indexOf("=") <= 0) throw new UsageError("USAGE", `env wants KEY=VALUE (got "${kv}")`);
  // References are parsed (validated) here, before anything is inspected or written.
  const outs = list(opts.out).map((o) => ({
    ref: typeof o === "string" ? parsePackOut(o) : o,
    name: imageRefName(o),
  }));
  const pushes = list(opts.push).map((p) => {
    const ref = registryRef(p, "--push");
    return { ref: ref as ImageRef, name: formatImageRef(ref) };
  });
  if (outs.length + pushes.length === 0)
    throw new UsageError(
      "USAGE",
      "pack: no destination: give --out oci:DIR[:TAG] or --push REGISTRY/REPO[:TAG]",
    );
  const seen = new Set<string>();
  for (const d of [...outs, ...pushes]) {
    const key = formatImageRef(d.ref);
    if (seen.has(key)) throw new UsageError("USAGE", `pack: destination ${d.name} given twice`);
    seen.add(key);
  }
  if (opts.binaries.length > 1)
    for (const o of outs)
      if (o.ref.transport === "docker-archive")
        throw new UsageError(
          "USAGE",
          "docker-archive holds one platform: pack one binary, or use oci: / oci-archive: for an index",
        );
  const base =
    opts.base === undefined
      ? undefined
      : { ref: toImageRef(opts.base, parseImageArg), name: imageRefName(opts.base) };

  const session = opts.session ?? new RegistrySession(opts.registry);
  const mtime = opts.sourceDateEpoch ?? 0;
  const sinks: { sink: ImageSink; ref: ImageRef; name: string; used: boolean }[] = [];
  let staging: string | undefined;
  let release = () => {};
  let baseSource: ImageSource | null = null;
  try {
    for (const d of [...outs, ...pushes]) {
      const sink = await openSink(d.ref, { session, name: d.name, archive: { mtime, defaultTag: "latest" } });
      sinks.push({ sink, ref: d.ref, name: d.name, used: false });
    }
    // The layer is staged beside the first file destination, so that its layout links the staged
    // file instead of copying and hashing it again (same file system); only pushes stage in TMPDIR.
    // A run killed with SIGKILL leaves its directory; the next pack there sweeps it.
    const first = outs[0]?.ref;
    const near = first ? resolve(first.transport === "oci" ? first.dir : first.file) : undefined;
    ({ path: staging, release } = near
      ? await makeStagingDir(dirname(near), `.${basename(near)}.zerodep-pack-`)
      : await makeStagingDir(opts.tmpDir ?? tmpdir(), "zerodep-pack-"));
    if (base) baseSource = await openSource(base.ref, { session, name: base.name });
    const built = await buildPackImage(opts, staging, baseSource);
    const top = await built.image.descriptor();
    const destinations: PackDestination[] = [];
    // Blobs already pushed to a repository: a later destination on the same registry mounts them.
    const pushedTo = new Map<string, BlobOrigin>();
    const inner = imageSource(built.image, outs[0]?.name ?? "pack", { platform: built.platform });
    const source: ImageSource = {
      ...inner,
      originOf: async (d) => pushedTo.get(d.digest) ?? (await inner.originOf?.(d)),
    };
    for (const s of sinks) {
      s.used = true; // copyFrom commits or aborts it
      const report = await copyFrom(source, s.sink, source.name, {
        concurrency: opts.registry?.concurrency ?? 4,
        ...(s.ref.transport === "registry" && opts.onUpload ? { onEvent: opts.onUpload } : {}),
      });
      destinations.push({ destination: s.name, transport: s.ref.transport, tag: tagOf(s.ref), report });
      const at = s.sink.location;
      if (at) for (const b of report.blobs) if (!pushedTo.has(b.digest)) pushedTo.set(b.digest, at);
    }
    const firstPush = destinations.find((d) => d.transport === "registry");
    return {
      schemaVersion: 1,
      out: outs[0]?.name ?? null,
      tag: outs[0] ? tagOf(outs[0].ref) : null,
      digest: top.digest,
      mediaType: top.mediaType,
      images: built.images,
      destinations,
      ...(firstPush ? { pushed: firstPush.report } : {}),
    };
  } finally {
    for (const s of sinks) if (!s.used) await s.sink.abort().catch(() => {});
    await baseSource?.close();
    if (staging) await rm(staging, { recursive: true, force: true });
    release();
    if (!opts.session) session.close();
  }
}
