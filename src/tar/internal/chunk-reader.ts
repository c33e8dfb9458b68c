/**
 * Sequential reads over an async iterable of chunks, counting the absolute offset. Nothing is buffered
 * beyond the current chunk, so memory stays bounded by the caller's chunk size plus what is asked for.
 */
export class ChunkReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #done = false;
  /** Absolute offset of the next unread byte. */
  offset = 0;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.#it = chunks[Symbol.asyncIterator]();
  }

  /**
   * Stops the source early (an error, or the end-of-archive marker before the data ends): its iterator
   * is returned, so a file or stream behind it is closed now rather than by the garbage collector.
   */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await this.#it.return?.();
    } catch {
      // The source's own failure was (or will be) reported by whoever read it.
    }
  }

  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#chunk.length) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#chunk = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /** Up to `max` bytes (at least one) from the current chunk, shared with it; undefined at the end. */
  async next(max: number): Promise<Uint8Array | undefined> {
    if (max <= 0 || !(await this.#fill())) return undefined;
    const n = Math.min(max, this.#chunk.length - this.#pos);
    const out = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, or fewer when the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    const first = await this.next(n);
    if (first === undefined) return new Uint8Array(0);
    if (first.length === n) return first;
    const out = new Uint8Array(n);
    out.set(first, 0);
    let have = first.length;
    while (have < n) {
      const c = await this.next(n - have);
      if (c === undefined) return out.subarray(0, have);
      out.set(c, have);
      have += c.length;
    }
    return out;
  }

  /** Skips `n` bytes; returns how many were really there. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const c = await this.next(left);
      if (c === undefined) break;
      left -= c.length;
    }
    return n - left;
  }
}
