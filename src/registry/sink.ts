import type { BlobAction, BlobOrigin, ImageSink } from "../image/sink.js";
import { formatReference, type ImageReference } from "../oci/distribution-reference.js";
import type { Descriptor } from "../oci/types.js";
import { putManifest } from "./api.js";
import type { RegistryClient } from "./client.js";
import { uploadBlob } from "./upload.js";

/**
 * A registry repository as a copy destination: blobs through the push protocol (uploadBlob: HEAD,
 * mount, monolithic or chunked, retried, verified), manifests by digest as they come (children before
 * their index), and the top one under the reference's tag (or its digest) last.
 */
export class RegistryImageSink implements ImageSink {
  readonly name: string;
  constructor(
    readonly client: RegistryClient,
    readonly reference: ImageReference,
  ) {
    this.name = formatReference(reference);
  }

  /** Where blobs written here can be mounted from by a later copy to another repository of this registry. */
  get location(): BlobOrigin {
    return { registry: this.client.apiHost, repository: this.reference.repository };
  }

  putBlob(
    desc: Descriptor,
    open: () => AsyncIterable<Uint8Array>,
    opts: { origin?: BlobOrigin; onProgress?: (n: number) => void },
  ): Promise<BlobAction> {
    const mountFrom =
      opts.origin &&
      opts.origin.registry === this.client.apiHost &&
      opts.origin.repository !== this.reference.repository
        ? opts.origin.repository
        : undefined;
    return uploadBlob(this.client, this.reference.repository, desc, open, {
      ...(mountFrom ? { mountFrom } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, top: boolean): Promise<void> {
    const ref =
      top && this.reference.tag !== undefined && this.reference.digest === undefined
        ? this.reference.tag
        : desc.digest;
    await putManifest(this.client, this.reference.repository, ref, desc.mediaType, bytes);
    if (top && this.reference.digest !== undefined && this.reference.digest !== desc.digest) {
      const { RegistryError } = await import("./errors.js");
      throw new RegistryError(
        "DIGEST_MISMATCH",
        `${this.name}: the destination pins ${this.reference.digest} but the image is ${desc.digest}`,
      );
    }
  }

  async commit(): Promise<void> {}
  async abort(): Promise<void> {}
}
