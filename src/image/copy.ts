import { ParseError, ZerodepError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import type { Descriptor, Index, Manifest, Platform } from "../oci/types.js";
import { parseImageJson } from "../oci/verify.js";
import { isIndexMediaType, isManifestMediaType, resolveImage } from "./select.js";
import type { BlobAction, BlobOrigin, ImageSink } from "./sink.js";
import { type ImageSource, MAX_JSON_BYTES } from "./source.js";

/** Progress of a copy, one event at a time (the CLI draws bars from these). */
export type CopyEvent =
  | { type: "blob-start"; digest: Digest; size: number; mediaType: string }
  | { type: "blob-progress"; digest: Digest; bytes: number; size: number }
  | { type: "blob-done"; digest: Digest; size: number; action: BlobAction }
  | { type: "manifest"; digest: Digest; mediaType: string };

export interface CopyOptions {
  /** Copy only the image for this platform (from an index), else everything the reference names. */
  platform?: Platform | string;
  /** Blobs in flight at once (default 4). */
  concurrency?: number;
  onEvent?: (e: CopyEvent) => void;
  /** Where the source lives, when the sink may mount from it (a registry source). */
  origin?: BlobOrigin;
}

export interface CopiedBlob {
  digest: Digest;
  size: number;
  mediaType: string;
  action: BlobAction;
}

export interface CopyResult {
  /** The top descriptor written: the manifest or index the destination now names. */
  digest: Digest;
  mediaType: string;
  size: number;
  manifests: { digest: Digest; mediaType: string; platform?: Platform }[];
  blobs: CopiedBlob[];
  /** Bytes actually sent or written (exists/mounted blobs count 0). */
  bytesTransferred: number;
}

/** Exact bytes of a small JSON blob (digests are over bytes: never re-serialise), size-capped. */
export async function readBytes(src: ImageSource, d: Descriptor): Promise<Uint8Array> {
  if (d.size > MAX_JSON_BYTES)
    throw new ParseError(
      "BLOB_TOO_LARGE",
      `${src.name}: ${d.digest} is ${d.size} bytes, over the JSON limit`,
    );
  const parts: Uint8Array[] = [];
  for await (const c of src.blob(d)) parts.push(c);
  return Buffer.concat(parts);
}

function parse<T>(src: ImageSource, d: Descriptor, bytes: Uint8Array): T {
  // The same parse as every other reader (caps, schema): a 100 000-layer manifest or a null layer
  // entry is refused before a blob is copied.
  return parseImageJson<T>(bytes, d, src.name);
}

/** Runs `fn` over `items` with at most `limit` at once; waits for all to settle, then throws the first error. */
async function boundedAll<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length && firstError === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        firstError ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError !== undefined) throw firstError;
}

/**
 * Copies an image from any source to any sink ("pull" is registry → layout, "push" layout → registry):
 * an index's children first, each manifest only after its config and layers are all in (uploaded
 * concurrently, bounded), the top last, so a destination never holds a manifest that points at a
 * missing blob. Manifest bytes are copied exactly, so digests are identical at both ends. With
 * `platform`, only that image's manifest is copied (and becomes the top). The sink is committed on
 * success and aborted on failure.
 */
export async function copyImage(
  src: ImageSource,
  sink: ImageSink,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const limit = opts.concurrency ?? 4;
  const blobs = new Map<Digest, CopiedBlob>();
  const manifests: CopyResult["manifests"] = [];
  const inFlight = new Map<Digest, Promise<void>>();
  let bytes = 0;
  const emit = opts.onEvent ?? (() => {});

  const copyBlob = (d: Descriptor): Promise<void> => {
    const known = inFlight.get(d.digest);
    if (known) return known;
    const p = (async () => {
      emit({ type: "blob-start", digest: d.digest, size: d.size, mediaType: d.mediaType });
      let sent = 0;
      // Each blob's own origin (an edited image mixes a registry base's layers with new ones), else the
      // source's, else the caller's.
      const origin = (await src.originOf?.(d)) ?? src.origin ?? opts.origin;
      const file = await src.fileOf?.(d);
      const action = await sink.putBlob(d, () => src.blob(d), {
        ...(origin ? { origin } : {}),
        ...(file ? { file } : {}),
        ...(src.unverifiedBlob ? { openUnverified: () => src.unverifiedBlob!(d) } : {}),
        onProgress: (n) => {
          sent = n;
          emit({ type: "blob-progress", digest: d.digest, bytes: n, size: d.size });
        },
      });
      if (action === "uploaded" || action === "written") bytes += Math.max(sent, d.size);
      blobs.set(d.digest, { digest: d.digest, size: d.size, mediaType: d.mediaType, action });
      emit({ type: "blob-done", digest: d.digest, size: d.size, action });
    })();
    inFlight.set(d.digest, p);
    return p;
  };

  const visit = async (d: Descriptor, depth: number, top: boolean): Promise<void> => {
    if (depth > 4) throw new ParseError("INDEX_TOO_DEEP", `${src.name}: indexes nested more than 4 deep`);
    if (isIndexMediaType(d.mediaType)) {
      const raw = await readBytes(src, d);
      const idx = parse<Index>(src, d, raw);
      if (!Array.isArray(idx?.manifests))
        throw new ParseError("INDEX_INVALID", `${src.name}: index ${d.digest}: manifests missing`);
      for (const child of idx.manifests) await visit(child, depth + 1, false);
      await sink.putManifest(d, raw, top);
      manifests.push({ digest: d.digest, mediaType: d.mediaType });
      emit({ type: "manifest", digest: d.digest, mediaType: d.mediaType });
      return;
    }
    if (isManifestMediaType(d.mediaType) || d.mediaType.endsWith("manifest.v1+json")) {
      const raw = await readBytes(src, d);
      const m = parse<Manifest>(src, d, raw);
      if (!m?.config || !Array.isArray(m.layers))
        throw new ParseError(
          "MANIFEST_INVALID",
          `${src.name}: manifest ${d.digest}: config or layers missing`,
        );
      // Non-distributable layers with urls are fetched from elsewhere by runtimes: not copied (as skopeo).
      const parts = [m.config, ...m.layers].filter((l) => !Array.isArray((l as { urls?: unknown }).urls));
      await boundedAll(parts, limit, copyBlob);
      await sink.putManifest(d, raw, top);
      manifests.push({
        digest: d.digest,
        mediaType: d.mediaType,
        ...(d.platform ? { platform: d.platform } : {}),
      });
      emit({ type: "manifest", digest: d.digest, mediaType: d.mediaType });
      return;
    }
    if (top)
      throw new ZerodepError(
        "NOT_AN_IMAGE",
        `${src.name}: ${d.digest} is ${d.mediaType}, not a manifest or index`,
      );
    await copyBlob(d);
  };

  try {
    let top = await src.resolve();
    if (opts.platform !== undefined) {
      const r = await resolveImage(src, { platform: opts.platform, top });
      top = {
        mediaType: r.descriptor.mediaType,
        digest: r.descriptor.digest,
        size: r.descriptor.size,
        platform: r.platform,
      };
    }
    await visit(top, 0, true);
    await sink.commit(top);
    return {
      digest: top.digest,
      mediaType: top.mediaType,
      size: top.size,
      manifests,
      blobs: [...blobs.values()],
      bytesTransferred: bytes,
    };
  } catch (e) {
    await sink.abort().catch(() => {});
    throw e;
  }
}
