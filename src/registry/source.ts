import { ParseError } from "../errors.js";
import { isIndexMediaType, isManifestMediaType } from "../image/select.js";
import type { ImageSource } from "../image/source.js";
import { formatReference, type ImageReference, manifestRef } from "../oci/distribution-reference.js";
import type { Descriptor } from "../oci/types.js";
import { readJsonBlob, verifyBlob } from "../oci/verify.js";
import { getBlob, getManifest } from "./api.js";
import type { RegistryClient } from "./client.js";
import { isTransientNetworkError, RegistryError } from "./errors.js";

/**
 * An image in a registry, read lazily: resolve() fetches the named manifest or index (Accept: every
 * manifest type); manifests are then fetched by digest and blobs streamed straight from the registry,
 * each verified against its descriptor by size and sha256 while it streams. A blob download that breaks
 * is resumed with a Range request from the last byte received (a bounded number of times).
 */
export class RegistryImageSource implements ImageSource {
  readonly name: string;
  readonly reference: ImageReference;
  readonly client: RegistryClient;
  #top: Descriptor | undefined;
  /** Manifest bytes already fetched (the top one by resolve()), by digest. */
  readonly #manifests = new Map<string, Uint8Array>();

  readonly #onClose: (() => void) | undefined;

  constructor(
    client: RegistryClient,
    reference: ImageReference,
    opts: { name?: string; onClose?: () => void } = {},
  ) {
    const name = opts.name ?? formatReference(reference);
    this.#onClose = opts.onClose;
    this.client = client;
    this.reference = reference;
    this.name = name;
  }

  /** Where this image lives, so a push to the same registry can mount its blobs instead of copying them. */
  get location(): { registry: string; repository: string } {
    return { registry: this.client.apiHost, repository: this.reference.repository };
  }

  /** The same as `location`: the ImageSource view of it (copies mount from here). */
  get origin(): { registry: string; repository: string } {
    return this.location;
  }

  async resolve(): Promise<Descriptor> {
    if (this.#top) return this.#top;
    const m = await getManifest(this.client, this.reference.repository, manifestRef(this.reference));
    this.#manifests.set(m.digest, m.bytes);
    this.#top = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.byteLength };
    return this.#top;
  }

  blob(desc: Descriptor): AsyncIterable<Uint8Array> {
    const cached = this.#manifests.get(desc.digest);
    if (cached) return verifyBlob([cached], desc, this.name);
    return verifyBlob(this.#download(desc, kindOf(desc)), desc, this.name);
  }

  unverifiedBlob(desc: Descriptor): AsyncIterable<Uint8Array> {
    const cached = this.#manifests.get(desc.digest);
    if (cached) return [cached] as unknown as AsyncIterable<Uint8Array>;
    return this.#download(desc, kindOf(desc));
  }

  async readJson<T>(desc: Descriptor): Promise<T> {
    return readJsonBlob<T>(this.blob(desc), desc, this.name);
  }

  async *#download(desc: Descriptor, kind: "blobs" | "manifests"): AsyncGenerator<Uint8Array> {
    let received = 0;
    let resumes = 0;
    for (;;) {
      try {
        const { res, skip } = await getBlob(
          this.client,
          this.reference.repository,
          desc.digest,
          received,
          kind,
        );
        let toSkip = skip;
        // A length that cannot be this blob's is a wrong answer, not a broken connection: no retry.
        const len = res.header("content-length");
        const want = desc.size - received + skip;
        if (len !== undefined && /^\d+$/.test(len) && Number(len) !== want) {
          res.body.destroy();
          throw new ParseError(
            "DIGEST_MISMATCH",
            `${this.name}: blob ${desc.digest}: the registry sends ${len} bytes, the descriptor says ${want}`,
          );
        }
        try {
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            let c: Uint8Array = chunk;
            if (toSkip > 0) {
              if (c.byteLength <= toSkip) {
                toSkip -= c.byteLength;
                continue;
              }
              c = c.subarray(toSkip);
              toSkip = 0;
            }
            received += c.byteLength;
            yield c;
            // verifyBlob stops reading past desc.size; do not wait for a hostile server's endless body.
            if (received > desc.size) return;
          }
        } finally {
          res.body.destroy();
        }
        if (received < desc.size)
          throw new RegistryError(
            "CONNECTION_FAILED",
            `${this.name}: blob ${desc.digest}: body ended early`,
            { temporary: true },
          );
        return;
      } catch (e) {
        const temporary = e instanceof RegistryError ? e.temporary : isTransientNetworkError(e);
        if (!temporary || resumes >= this.client.retries) {
          if (e instanceof RegistryError || e instanceof ParseError) throw e;
          throw new RegistryError(
            "CONNECTION_FAILED",
            `${this.name}: blob ${desc.digest}: ${(e as Error).message}`,
            { cause: e },
          );
        }
        resumes++;
        this.client.options.log?.(
          `${this.name}: blob ${desc.digest.slice(7, 19)}: ${(e as Error).message}; resuming at byte ${received}`,
        );
        await this.client.backoff(resumes - 1, e instanceof RegistryError ? e : undefined);
      }
    }
  }

  async close(): Promise<void> {
    this.#onClose?.();
  }
}

/**
 * Manifests and indexes come from /manifests/, everything else from /blobs/. Their size is bounded by
 * the descriptor (verifyBlob) and their content checked where they are parsed (parseImageJson).
 */
function kindOf(desc: Descriptor): "manifests" | "blobs" {
  return isManifestMediaType(desc.mediaType) || isIndexMediaType(desc.mediaType) ? "manifests" : "blobs";
}
