import type { Descriptor } from "../oci/types.js";
import type { BlobOrigin } from "./sink.js";

/**
 * Where an image's blobs come from: an OCI layout directory, an oci-archive or docker-archive tar file,
 * or a registry. The small core every medium implements (gcr's `partial` idea): everything else — the
 * platform manifests, decompressed layer tars, the merged file tree — is derived from it in src/image/.
 *
 * Every blob read is verified while streaming: more or fewer bytes than the descriptor's size, or a
 * different sha256, is a ParseError DIGEST_MISMATCH naming the digest; an absent blob is BLOB_MISSING.
 */
export interface ImageSource {
  /** The reference as the user wrote it, for messages: "oci:/srv/img:v1", "docker-archive:app.tar". */
  readonly name: string;
  /** The top-level descriptor the reference names: a manifest or an index (manifest list). */
  resolve(): Promise<Descriptor>;
  /** The blob's bytes, streamed and verified against desc.size and desc.digest. */
  blob(desc: Descriptor): AsyncIterable<Uint8Array>;
  /** A small JSON blob (index, manifest, config), size-capped and verified. ParseError JSON_INVALID. */
  readJson<T>(desc: Descriptor): Promise<T>;
  /**
   * Optional: the blob's bytes capped at desc.size but NOT hashed, for a sink that verifies the digest
   * itself (the layout writer does), so a pull hashes each byte once instead of twice.
   */
  unverifiedBlob?(desc: Descriptor): AsyncIterable<Uint8Array>;
  /** Where every blob of this source lives, when it is a registry repository (a sink there may mount them). */
  readonly origin?: BlobOrigin;
  /** Where one blob lives, for sources that gather blobs from several places (an edited image). */
  originOf?(desc: Descriptor): Promise<BlobOrigin | undefined>;
  /** A blob that is a local file already (a staged layer), so a sink on the same file system can link it. */
  fileOf?(desc: Descriptor): Promise<string | undefined>;
  /** Releases file handles or connections. Safe to call twice. */
  close(): Promise<void>;
}

export { MAX_JSON_BYTES } from "../oci/verify.js";
