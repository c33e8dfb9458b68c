import { ArchiveImageSource } from "../image/archive-source.js";
import { ArchiveImageSink, type ArchiveSinkOptions, LayoutImageSink } from "../image/layout-sink.js";
import { LayoutImageSource } from "../image/layout-source.js";
import {
  formatImageRef,
  type ImageRef,
  imageRefName,
  parseImageArg,
  toImageRef,
} from "../image/reference.js";
import type { ImageSink } from "../image/sink.js";
import type { ImageSource } from "../image/source.js";
import { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import { RegistryImageSink } from "../registry/sink.js";
import { RegistryImageSource } from "../registry/source.js";

export interface OpenImageOptions {
  /** How registries are reached (credentials, --ca-file, --insecure, timeouts). */
  registry?: RegistryOptions;
  /** Share clients (tokens, connections) with other operations; closing the source leaves it open. */
  session?: RegistrySession;
  /** How the image is named in results and messages (default: the canonical form of the reference). */
  name?: string;
}

/** Opens an image for reading, whatever medium the reference names: the one place a transport is dispatched for reads. */
export async function openSource(ref: ImageRef, opts: OpenImageOptions = {}): Promise<ImageSource> {
  const name = opts.name ?? formatImageRef(ref);
  switch (ref.transport) {
    case "oci":
      return LayoutImageSource.open(ref.dir, ref.tag, name);
    case "oci-archive":
      return ArchiveImageSource.open("oci-archive", ref.file, ref.tag ?? null, name);
    case "docker-archive":
      return ArchiveImageSource.open("docker-archive", ref.file, ref.repoTag ?? null, name);
    case "registry": {
      const r = ref.reference;
      const session = opts.session ?? new RegistrySession(opts.registry);
      return new RegistryImageSource(session.client(r.registry, r.apiHost), r, {
        name,
        ...(opts.session ? {} : { onClose: () => session.close() }),
      });
    }
  }
}

export interface OpenSinkOptions {
  /** Clients for a registry destination (shared with the source of a copy, so tokens are reused). */
  session: RegistrySession;
  /** How the destination is named in results (default: the canonical form of the reference). */
  name?: string;
  /** Archive destinations: entry timestamps, and the tag an untagged oci-archive names its image by. */
  archive?: ArchiveSinkOptions;
}

/**
 * Opens a destination, whatever medium the reference names. Files are written atomically at commit;
 * opening creates only a staging directory (beside an archive, or inside the layout's own directory).
 */
export async function openSink(ref: ImageRef, opts: OpenSinkOptions): Promise<ImageSink> {
  const name = opts.name ?? formatImageRef(ref);
  switch (ref.transport) {
    case "oci":
      return LayoutImageSink.open(ref.dir, ref.tag, name);
    case "oci-archive":
    case "docker-archive":
      return ArchiveImageSink.open(ref, name, opts.archive);
    case "registry": {
      const r = ref.reference;
      return new RegistryImageSink(opts.session.client(r.registry, r.apiHost), r);
    }
  }
}

/**
 * Opens an image for reading from a string (parsed here, once: UsageError IMAGE_REF_INVALID for a
 * reference no medium understands, named as given) or from a parsed reference.
 */
export function openImage(spec: string | ImageRef, opts: OpenImageOptions = {}): Promise<ImageSource> {
  return openSource(toImageRef(spec, parseImageArg), { name: imageRefName(spec), ...opts });
}
