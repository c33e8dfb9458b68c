import { createHash, type Hash } from "node:crypto";

/** A content digest. Only sha256 is produced and accepted: the algorithm every registry and runtime supports. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** `sha256:` followed by exactly 64 lowercase hex digits (image-spec descriptor.md, "sha256" registered algorithm). */
export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Hashes and counts a stream while passing it through. */
export class DigestingStream {
  readonly #hash: Hash = createHash("sha256");
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  /** Digest of everything seen so far; reading it does not end the stream (the hash is copied). */
  get digest(): Digest {
    return `sha256:${this.#hash.copy().digest("hex")}`;
  }

  get size(): number {
    return this.#size;
  }

  /** Yields `source` unchanged while hashing it; read `digest` and `size` once the iteration is done. */
  async *passThrough(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      this.update(chunk);
      yield chunk;
    }
  }
}
