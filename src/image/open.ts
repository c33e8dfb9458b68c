import { UsageError, ZerodepError } from "../errors.js";
import { parseArchiveDest } from "../oci/archive.js";
import { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import { parseReference } from "../registry/reference.js";
import { RegistryImageSource } from "../registry/source.js";
import { ArchiveImageSource } from "./archive-source.js";
import { LayoutImageSource } from "./layout-source.js";
import type { ImageSource } from "./source.js";

const OCI_REF_RE = /^oci:(.+?)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/;

/** A parsed image reference: one of the media zerodep reads images from. */
export type ImageRef =
  | { transport: "oci"; dir: string; tag: string | undefined }
  | { transport: "oci-archive"; file: string; tag: string | null }
  | { transport: "docker-archive"; file: string; repoTag: string | null };

/**
 * Parses `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REPO:TAG]`. Returns null for
 * anything else (registry references are parsed by src/registry).
 */
export function parseImageRef(spec: string): ImageRef | null {
  if (spec.startsWith("oci:")) {
    const m = OCI_REF_RE.exec(spec);
    return m ? { transport: "oci", dir: m[1]!, tag: m[2] } : null;
  }
  const a = parseArchiveDest(spec);
  if (a?.kind === "oci-archive") return { transport: "oci-archive", file: a.file, tag: a.tag };
  if (a?.kind === "docker-archive") return { transport: "docker-archive", file: a.file, repoTag: a.repoTag };
  return null;
}

export interface OpenImageOptions {
  /** How registries are reached (credentials, --ca-file, --insecure, timeouts). */
  registry?: RegistryOptions;
  /** Share clients (tokens, connections) with other operations; closing the source leaves it open. */
  session?: RegistrySession;
}

/**
 * Opens an image for reading: oci:, oci-archive:, docker-archive:, or else a registry reference
 * ([docker://]HOST/REPO[:TAG][@DIGEST], Docker's normalisation). UsageError IMAGE_REF_INVALID for a
 * reference no medium understands.
 */
export async function openImage(spec: string, opts: OpenImageOptions = {}): Promise<ImageSource> {
  const ref = parseImageRef(spec);
  if (!ref) {
    let r: ReturnType<typeof parseReference>;
    try {
      r = parseReference(spec);
    } catch (e) {
      throw new UsageError(
        "IMAGE_REF_INVALID",
        `"${spec}": expected oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG] or a registry reference HOST/REPO[:TAG] (${e instanceof ZerodepError ? e.message.replace(/^"[^"]*": /, "") : String(e)})`,
        { cause: e },
      );
    }
    const session = opts.session ?? new RegistrySession(opts.registry);
    const src = new RegistryImageSource(session.client(r.registry, r.apiHost), r, {
      name: spec,
      ...(opts.session ? {} : { onClose: () => session.close() }),
    });
    return src;
  }
  switch (ref.transport) {
    case "oci":
      return LayoutImageSource.open(ref.dir, ref.tag, spec);
    case "oci-archive":
      return ArchiveImageSource.open("oci-archive", ref.file, ref.tag, spec);
    case "docker-archive":
      return ArchiveImageSource.open("docker-archive", ref.file, ref.repoTag, spec);
  }
}
