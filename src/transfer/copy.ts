import { UsageError } from "../errors.js";
import { type CopyEvent, type CopyResult, copyImage } from "../image/copy.js";
import {
  type FileImageRef,
  formatImageRef,
  type ImageRef,
  imageRefName,
  isLayoutTag,
  parseImageArg,
  parseImageRef,
  type RegistryRef,
  toImageRef,
  transportOf,
} from "../image/reference.js";
import type { ImageSink } from "../image/sink.js";
import type { ImageSource } from "../image/source.js";
import type { Platform } from "../oci/types.js";
import { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import { RegistryImageSource } from "../registry/source.js";
import { openSink, openSource } from "./open.js";

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
 * registry reference ([docker://]HOST/REPO[:TAG|@DIGEST]); a string is parsed here.
 */
export function openImageSink(dest: string | ImageRef, session: RegistrySession): Promise<ImageSink> {
  return openSink(toImageRef(dest), { session, name: imageRefName(dest) });
}

/**
 * Copies the image `src` names to `dest`; either side may be a registry, a layout or an archive. Both
 * references are parsed (strings) before anything is opened, so a bad destination creates nothing.
 */
export function copy(src: string | ImageRef, dest: string | ImageRef, opts: TransferOptions = {}) {
  const from = toImageRef(src, parseImageArg);
  return copyBetween(from, imageRefName(src), toImageRef(dest), imageRefName(dest), opts);
}

async function copyBetween(
  from: ImageRef,
  fromName: string,
  to: ImageRef,
  toName: string,
  opts: TransferOptions,
): Promise<CopyReport> {
  const session = opts.session ?? new RegistrySession(opts);
  try {
    const source = await openSource(from, { session, name: fromName });
    try {
      const sink = await openSink(to, { session, name: toName });
      return await copyFrom(source, sink, source.name, opts);
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

/** A registry reference given as a string or value; a file transport is refused with `what` in the message. */
export function registryRef(ref: string | ImageRef, what: string): RegistryRef {
  // Refused on its prefix alone: "oci:x" is never read as the Docker Hub repository library/oci.
  if ((typeof ref === "string" ? transportOf(ref) : ref.transport) !== "registry")
    throw new UsageError(
      "USAGE",
      `${what}: expected a registry reference [docker://]HOST/REPO[:TAG], got "${imageRefName(ref)}" (zerodep copy writes to files)`,
    );
  return toImageRef(ref) as RegistryRef;
}

/** `zerodep push SRC REF`: a local image (layout or archive) to a registry. */
export async function push(
  src: string | ImageRef,
  ref: string | ImageRef,
  opts: TransferOptions = {},
): Promise<CopyReport> {
  const from = toImageRef(src, parseImageArg);
  const to = registryRef(ref, "push");
  return copyBetween(from, imageRefName(src), to, formatImageRef(to), opts);
}

/** Parses pull's --out: a file destination only. */
export function parsePullOut(out: string): FileImageRef {
  if (transportOf(out) === "registry")
    throw new UsageError(
      "USAGE",
      `--out: expected oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:REPO:TAG], got "${out}"`,
    );
  return parseImageRef(out) as FileImageRef;
}

/**
 * `zerodep pull REF --out oci:DIR[:TAG]`: a registry image to a layout or an archive; all platforms
 * unless one is given. An oci: or oci-archive: destination without a tag gets the reference's tag, so
 * `pull app:v1 --out oci-archive:FILE` can be read back as oci-archive:FILE:v1 (skopeo, podman).
 */
export async function pull(
  ref: string | ImageRef,
  out: string | FileImageRef,
  opts: TransferOptions = {},
): Promise<CopyReport> {
  const from = registryRef(ref, "pull");
  const r = from.reference;
  const dest = typeof out === "string" ? parsePullOut(out) : out;
  const inherit =
    (dest.transport === "oci" || dest.transport === "oci-archive") &&
    dest.tag === undefined &&
    r.tag !== undefined &&
    r.digest === undefined;
  if (inherit && !isLayoutTag(r.tag!))
    throw new UsageError(
      "IMAGE_REF_INVALID",
      `--out ${imageRefName(out)}: the tag "${r.tag}" cannot name an image in a layout; give one: ${imageRefName(out)}:TAG`,
    );
  const target: ImageRef = inherit ? Object.freeze({ ...dest, tag: r.tag }) : dest;
  return copyBetween(
    from,
    formatImageRef(from),
    target,
    inherit ? formatImageRef(target) : imageRefName(out),
    opts,
  );
}

export { RegistryImageSource };
