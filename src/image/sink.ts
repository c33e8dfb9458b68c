import type { Descriptor } from "../oci/types.js";

/** How a blob got to the destination. */
export type BlobAction = "exists" | "mounted" | "uploaded" | "written";

/** Where an image copy comes from, when the sink could mount from it (same registry). */
export interface BlobOrigin {
  registry: string;
  repository: string;
}

/**
 * Where images are written: an OCI layout, an archive, a registry repository. The copy engine
 * (copyImage) calls putBlob for every config and layer, putManifest for every manifest and index
 * (children always before the index that lists them, and only after all their blobs are in), then
 * commit once with the top descriptor. Nothing is visible under the destination's name before commit
 * for files; for a registry, the tag is the last write.
 */
export interface ImageSink {
  readonly name: string;
  /** A registry repository: where the blobs written here can be mounted from afterwards. */
  readonly location?: BlobOrigin;
  putBlob(
    desc: Descriptor,
    open: () => AsyncIterable<Uint8Array>,
    opts: {
      origin?: BlobOrigin;
      onProgress?: (sent: number) => void;
      /** The same bytes without the source's digest check, for sinks that check it themselves. */
      openUnverified?: () => AsyncIterable<Uint8Array>;
      /** The bytes are this local file, written and hashed by their producer: a layout may link it. */
      file?: string;
    },
  ): Promise<BlobAction>;
  /** A manifest or index, exact bytes; `top` for the one the destination reference names. */
  putManifest(desc: Descriptor, bytes: Uint8Array, top: boolean): Promise<void>;
  commit(top: Descriptor): Promise<void>;
  abort(): Promise<void>;
}
