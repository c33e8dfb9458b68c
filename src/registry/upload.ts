import { ZerodepError } from "../errors.js";
import type { Descriptor } from "../oci/types.js";
import { blobExists } from "./api.js";
import { contentDigest, type RegistryClient, repoScope } from "./client.js";
import { isTransientNetworkError, RegistryError } from "./errors.js";

/** How a blob reached the destination repository. */
export type BlobAction = "exists" | "mounted" | "uploaded";

export interface UploadOptions {
  /** A repository of the same registry that has the blob: try a cross-repository mount first. */
  mountFrom?: string;
  /** Bytes sent so far for this blob (progress). */
  onProgress?: (sent: number) => void;
}

const DEFAULT_CHUNK = 16 * 1024 * 1024;

/**
 * Pushes one blob (distribution spec, "Pushing blobs"):
 *   1. HEAD — the repository has it already: nothing is sent;
 *   2. POST ?mount=&from= when a sibling repository has it (201: mounted; 202: a fresh upload instead);
 *   3. POST → 202 Location, then one streamed PUT ?digest= with the whole blob (monolithic);
 *   4. when that fails (or `chunked` is set): PATCH chunks with Content-Range, and after a failed PATCH
 *      ask the upload's status (GET Location → 204 Range: 0-N) and resume at N+1, then PUT ?digest=.
 * Every failure that can be temporary (429, 5xx, reset, timeout) is retried with backoff up to
 * `retries` times for the whole blob. The registry's Docker-Content-Digest must equal the descriptor's.
 * `open()` must return a fresh stream of the blob's bytes each call (verified by the source).
 */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  open: () => AsyncIterable<Uint8Array>,
  opts: UploadOptions = {},
): Promise<BlobAction> {
  const scopes = [repoScope(repository, "pull,push")];
  if (opts.mountFrom && opts.mountFrom !== repository) scopes.push(repoScope(opts.mountFrom, "pull"));
  if (await blobExists(client, repository, desc.digest, desc.size, scopes)) return "exists";
  const chunkSize = client.options.chunkSize ?? DEFAULT_CHUNK;
  let chunked = client.options.chunked === true;
  let lastError: unknown;
  for (let attempt = 0; attempt <= client.retries; attempt++) {
    if (attempt > 0) {
      client.options.log?.(
        `blob ${short(desc.digest)}: ${(lastError as Error).message}; retrying (${attempt}/${client.retries})`,
      );
      await client.backoff(attempt - 1, lastError instanceof RegistryError ? lastError : undefined);
    }
    try {
      const start = await startUpload(
        client,
        repository,
        desc,
        scopes,
        attempt === 0 ? opts.mountFrom : undefined,
      );
      if (start.mounted) return "mounted";
      if (!chunked) {
        try {
          await putMonolithic(client, repository, desc, start.location, scopes, open, opts.onProgress);
          return "uploaded";
        } catch (e) {
          // A large blob that failed in one piece goes in resumable chunks next time.
          if (desc.size > chunkSize) chunked = true;
          throw e;
        }
      }
      await putChunked(client, repository, desc, start.location, scopes, open, chunkSize, opts.onProgress);
      return "uploaded";
    } catch (e) {
      lastError = e;
      if (!isRetryable(e)) throw e;
    }
  }
  throw new RegistryError(
    "UPLOAD_FAILED",
    `${client.registry}: blob ${desc.digest} to ${repository}: gave up after ${client.retries + 1} attempts: ${(lastError as Error).message}`,
    { cause: lastError },
  );
}

function short(d: string): string {
  return d.slice(7, 19);
}

function isRetryable(e: unknown): boolean {
  if (e instanceof RegistryError) return e.temporary;
  if (e instanceof ZerodepError) return false; // our source failing verification: no retry fixes it
  return isTransientNetworkError(e);
}

async function startUpload(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  scopes: string[],
  mountFrom: string | undefined,
): Promise<{ mounted: true } | { mounted: false; location: URL }> {
  const base = await client.base();
  const url = new URL(`/v2/${repository}/blobs/uploads/`, base);
  if (mountFrom && mountFrom !== repository) {
    url.searchParams.set("mount", desc.digest);
    url.searchParams.set("from", mountFrom);
  }
  const what = `POST upload ${repository}${mountFrom ? ` (mount from ${mountFrom})` : ""}`;
  const res = await client.request({ method: "POST", path: url, scopes, what });
  if (res.status === 201 && mountFrom) {
    res.discard();
    const got = contentDigest(res);
    if (got !== undefined && got !== desc.digest)
      throw new RegistryError("DIGEST_MISMATCH", `${client.registry}: mounted ${got}, wanted ${desc.digest}`);
    return { mounted: true };
  }
  if (res.status !== 202) throw await client.fail(res, what);
  res.discard();
  return { mounted: false, location: location(res.header("location"), base, what, client) };
}

function location(loc: string | undefined, base: URL, what: string, client: RegistryClient): URL {
  if (!loc) throw new RegistryError("UPLOAD_FAILED", `${client.registry}: ${what}: no Location header`);
  const u = new URL(loc, base);
  // An upload must stay on the registry's own origin: our credentials go there.
  if (u.origin !== base.origin)
    throw new RegistryError(
      "UPLOAD_FAILED",
      `${client.registry}: ${what}: upload Location points to another host`,
    );
  return u;
}

async function putMonolithic(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  loc: URL,
  scopes: string[],
  open: () => AsyncIterable<Uint8Array>,
  onProgress?: (n: number) => void,
): Promise<void> {
  const url = new URL(loc);
  // The Location already has a query (distribution's _state): add to it, never concatenate strings.
  url.searchParams.set("digest", desc.digest);
  const what = `PUT blob ${repository}@${desc.digest}`;
  const res = await client.request({
    method: "PUT",
    path: url,
    headers: { "Content-Type": "application/octet-stream" },
    body: () => counted(open(), onProgress),
    blob: true,
    contentLength: desc.size,
    scopes,
    what,
    retry: false,
  });
  await finish(client, res, desc, what);
}

async function finish(
  client: RegistryClient,
  res: Awaited<ReturnType<RegistryClient["request"]>>,
  desc: Descriptor,
  what: string,
): Promise<void> {
  if (res.status !== 201) throw await client.fail(res, what);
  res.discard();
  const got = contentDigest(res);
  if (got !== undefined && got !== desc.digest)
    throw new RegistryError("DIGEST_MISMATCH", `${client.registry}: ${what}: registry computed ${got}`);
}

async function* counted(src: AsyncIterable<Uint8Array>, onProgress?: (n: number) => void, from = 0) {
  let n = from;
  for await (const c of src) {
    n += c.byteLength;
    onProgress?.(n);
    yield c;
  }
}

/** Reads a blob stream in consecutive exact-size pieces; can start at an offset (skipping what the registry has). */
class ChunkCursor {
  #it: AsyncIterator<Uint8Array>;
  #pending: Uint8Array | undefined;
  constructor(src: AsyncIterable<Uint8Array>) {
    this.#it = src[Symbol.asyncIterator]();
  }
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      let c = this.#pending;
      this.#pending = undefined;
      if (!c) {
        const r = await this.#it.next();
        if (r.done) throw new ZerodepError("BLOB_SHORT", "blob ended before its descriptor's size");
        c = r.value;
      }
      if (c.byteLength > left) {
        this.#pending = c.subarray(left);
        c = c.subarray(0, left);
      }
      left -= c.byteLength;
      yield c;
    }
  }
  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) {
      // discard
    }
  }
  /** Drains the rest so the source's digest verification runs (it throws on a mismatch). */
  async end(): Promise<void> {
    if (this.#pending && this.#pending.byteLength > 0)
      throw new ZerodepError("BLOB_LONG", "blob is longer than its descriptor's size");
    for (;;) {
      const r = await this.#it.next();
      if (r.done) return;
      if (r.value.byteLength > 0)
        throw new ZerodepError("BLOB_LONG", "blob is longer than its descriptor's size");
    }
  }
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

async function putChunked(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  startLoc: URL,
  scopes: string[],
  open: () => AsyncIterable<Uint8Array>,
  chunkSize: number,
  onProgress?: (n: number) => void,
): Promise<void> {
  let loc = startLoc;
  let offset = 0;
  let cursor = new ChunkCursor(open());
  let resumes = 0;
  try {
    while (offset < desc.size) {
      const len = Math.min(chunkSize, desc.size - offset);
      const what = `PATCH blob ${repository}@${desc.digest} ${offset}-${offset + len - 1}`;
      const piece = cursor.take(len);
      let res: Awaited<ReturnType<RegistryClient["request"]>>;
      try {
        res = await client.request({
          method: "PATCH",
          path: loc,
          headers: {
            "Content-Type": "application/octet-stream",
            "Content-Range": `${offset}-${offset + len - 1}`,
          },
          body: () => counted(piece, onProgress, offset),
          blob: true,
          contentLength: len,
          scopes,
          what,
          retry: false,
        });
        if (res.status !== 202) throw await client.fail(res, what);
        res.discard();
        loc = location(res.header("location"), loc, what, client);
        offset += len;
        continue;
      } catch (e) {
        if (!isRetryable(e) || resumes >= client.retries) throw e;
        resumes++;
        client.options.log?.(`${what}: ${(e as Error).message}; asking the registry where to resume`);
        await client.backoff(resumes - 1, e instanceof RegistryError ? e : undefined);
      }
      // Resume: the registry says how much it has; the source is re-read and skipped up to there.
      const st = await uploadStatus(client, loc, scopes, repository);
      loc = st.location;
      await cursor.close();
      cursor = new ChunkCursor(open());
      await cursor.skip(st.next);
      offset = st.next;
      onProgress?.(offset);
    }
    await cursor.end();
  } finally {
    await cursor.close();
  }
  const url = new URL(loc);
  url.searchParams.set("digest", desc.digest);
  const what = `PUT blob ${repository}@${desc.digest} (complete chunked upload)`;
  const res = await client.request({ method: "PUT", path: url, scopes, what, retry: false });
  await finish(client, res, desc, what);
}

/** GET <upload location>: 204 with Range "0-N" (N = last byte held). Not resumable: a RegistryError (temporary, so a new upload starts). */
async function uploadStatus(
  client: RegistryClient,
  loc: URL,
  scopes: string[],
  repository: string,
): Promise<{ location: URL; next: number }> {
  const what = `GET upload status ${repository}`;
  const res = await client.request({ method: "GET", path: loc, scopes, what });
  if (res.status !== 204) {
    const e = await client.fail(res, what);
    throw new RegistryError(e.code, `${e.message} (the upload cannot be resumed; starting over)`, {
      status: e.status,
      temporary: true,
    });
  }
  res.discard();
  const range = res.header("range");
  const m = range ? /^(?:bytes=)?0-(\d+)$/.exec(range.trim()) : null;
  // distribution answers "0-0" both for nothing and for one byte received: read it as nothing (a
  // wrong guess costs one 416 and a fresh upload, never a corrupt blob: the PUT checks the digest).
  const last = m ? Number(m[1]) : 0;
  const next = last > 0 ? last + 1 : 0;
  return { location: location(res.header("location") ?? loc.href, loc, what, client), next };
}
