import { UsageError } from "../errors.js";
import { type CopyEvent, type CopyResult, copyImage } from "../image/copy.js";
import { ArchiveImageSink, LayoutImageSink } from "../image/layout-sink.js";
import { openImage, parseImageRef } from "../image/open.js";
import type { ImageSink } from "../image/sink.js";
import type { ImageSource } from "../image/source.js";
import type { Platform } from "../oci/types.js";
import { RegistrySession } from "./client.js";
import type { RegistryOptions } from "./options.js";
import { formatReference, parseReference } from "./reference.js";
import { RegistryImageSink } from "./sink.js";
import { RegistryImageSource } from "./source.js";

export const COPY_SCHEMA_VERSION = 1;

/** The `--json` result of push, pull and copy (README "Registries"). */
export interface CopyReport extends CopyResult {
  schemaVersion: 1;
  source: string;
  destination: string;
}

export interface TransferOptions extends RegistryOptions {
  platform?: Platform | string;
  onEvent?: (e: CopyEvent) => void;
  /** Scratch space for pack --push without --out (default: the OS temporary directory). */
  tmpDir?: string;
  /** Shared clients (tokens, sockets) across several operations; one is made (and closed) when absent. */
  session?: RegistrySession;
}

/**
 * Opens a destination: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG], or a
 * registry reference ([docker://]HOST/REPO[:TAG|@DIGEST]).
 */
export async function openImageSink(spec: string, session: RegistrySession): Promise<ImageSink> {
  const ref = parseImageRef(spec);
  if (ref?.transport === "oci") return LayoutImageSink.open(ref.dir, ref.tag, spec);
  if (ref) return ArchiveImageSink.open(spec);
  const r = parseReference(spec);
  return new RegistryImageSink(session.client(r.registry, r.apiHost), r);
}

/** Copies the image `src` names to `dest`; either side may be a registry, a layout or an archive. */
export async function copy(src: string, dest: string, opts: TransferOptions = {}): Promise<CopyReport> {
  const session = opts.session ?? new RegistrySession(opts);
  try {
    const source = await openImage(src, { session });
    try {
      const sink = await openImageSink(dest, session);
      return await copyFrom(source, sink, src, opts);
    } finally {
      await source.close();
    }
  } finally {
    if (!opts.session) session.close();
  }
}

/** Copies an already open source into an already open sink (pack --push uses this). */
export async function copyFrom(
  source: ImageSource,
  sink: ImageSink,
  srcName: string,
  opts: TransferOptions,
): Promise<CopyReport> {
  const r = await copyImage(source, sink, {
    ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
    concurrency: opts.concurrency ?? 4,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(source instanceof RegistryImageSource ? { origin: source.location } : {}),
  });
  return { schemaVersion: COPY_SCHEMA_VERSION, source: srcName, destination: sink.name, ...r };
}

/** `zerodep push SRC REF`: a local image (layout or archive) to a registry. */
export async function push(src: string, ref: string, opts: TransferOptions = {}): Promise<CopyReport> {
  return copy(src, formatReference(parseReference(ref)), opts);
}

/** `zerodep pull REF --out oci:DIR[:TAG]`: a registry image to a layout (or archive); all platforms unless one is given. */
export async function pull(ref: string, out: string, opts: TransferOptions = {}): Promise<CopyReport> {
  const r = parseReference(ref);
  const dest = parseImageRef(out);
  if (!dest)
    throw new UsageError(
      "USAGE",
      `--out: expected oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:REPO:TAG], got "${out}"`,
    );
  // A layout without a tag gets the reference's tag, so `pull app:v1 --out oci:DIR` can be found again by v1.
  const target =
    dest.transport === "oci" && dest.tag === undefined && r.tag !== undefined && r.digest === undefined
      ? `${out}:${r.tag}`
      : out;
  return copy(formatReference(r), target, opts);
}

export { RegistryImageSource };
