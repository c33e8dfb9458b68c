import { ParseError } from "../errors.js";
import { MAX_JSON_BYTES } from "../image/source.js";
import { type Digest, sha256 } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import { contentDigest, MANIFEST_ACCEPT, type RegistryClient, repoScope } from "./client.js";
import { RegistryError } from "./errors.js";
import type { HttpResponse } from "./transport.js";

/** A manifest or index as the registry stores it: exact bytes (digests are over them), type, digest. */
export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: Digest;
}

const MAX_REDIRECTS = 5;

function mediaTypeOf(res: HttpResponse, bytes: Uint8Array): string {
  const ct = res.header("content-type")?.split(";")[0]?.trim();
  if (ct && ct !== "application/json" && ct !== "text/plain" && ct !== "application/octet-stream") return ct;
  try {
    const j = JSON.parse(Buffer.from(bytes).toString("utf8")) as { mediaType?: unknown; manifests?: unknown };
    if (typeof j.mediaType === "string") return j.mediaType;
    return Array.isArray(j.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  } catch {
    return ct ?? MediaType.ociManifest;
  }
}

/** GET /v2/<repo>/manifests/<ref>: bounded, digest computed; a pinned digest must match. */
export async function getManifest(
  client: RegistryClient,
  repository: string,
  ref: string,
): Promise<FetchedManifest> {
  const what = `GET manifest ${repository}:${ref}`;
  const res = await client.request({
    method: "GET",
    path: `/v2/${repository}/manifests/${ref}`,
    headers: { Accept: MANIFEST_ACCEPT },
    scopes: [repoScope(repository, "pull")],
    what,
  });
  if (res.status !== 200) throw await client.fail(res, what);
  const bytes = await res.bytes(MAX_JSON_BYTES);
  if (bytes === undefined)
    throw new ParseError("BLOB_TOO_LARGE", `${client.registry}: ${what}: over ${MAX_JSON_BYTES} bytes`);
  const digest = sha256(bytes);
  if (ref.startsWith("sha256:") && digest !== ref) {
    throw new ParseError("DIGEST_MISMATCH", `${client.registry}: ${what}: content hashes to ${digest}`);
  }
  return { bytes, mediaType: mediaTypeOf(res, bytes), digest };
}

/** PUT /v2/<repo>/manifests/<ref> with Content-Type = its media type; the registry's digest must be ours. */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  ref: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<void> {
  const what = `PUT manifest ${repository}:${ref}`;
  const res = await client.request({
    method: "PUT",
    path: `/v2/${repository}/manifests/${ref}`,
    headers: { "Content-Type": mediaType },
    body: () => bytes,
    scopes: [repoScope(repository, "pull,push")],
    what,
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await client.fail(res, what);
  res.discard();
  const got = contentDigest(res);
  const want = sha256(bytes);
  if (got !== undefined && got !== want) {
    throw new RegistryError(
      "DIGEST_MISMATCH",
      `${client.registry}: ${what}: registry stored ${got}, we sent ${want}`,
    );
  }
}

/** HEAD /v2/<repo>/blobs/<digest>: whether the repository has the blob (of this size, when it says). */
export async function blobExists(
  client: RegistryClient,
  repository: string,
  digest: Digest,
  size: number,
  scopes: string[],
): Promise<boolean> {
  const what = `HEAD blob ${repository}@${digest}`;
  const res = await client.request({
    method: "HEAD",
    path: `/v2/${repository}/blobs/${digest}`,
    scopes,
    what,
  });
  res.discard();
  if (res.status === 404) return false;
  if (res.status !== 200) throw await client.fail(res, what);
  const len = res.header("content-length");
  return len === undefined || Number(len) === size;
}

/**
 * GET /v2/<repo>/blobs/<digest> from byte `offset` (a Range request when > 0): the response body, after
 * following redirects to storage (without our Authorization: that goes to the registry only).
 * Returns the number of bytes to skip when the server ignored the Range (200 instead of 206).
 */
export async function getBlob(
  client: RegistryClient,
  repository: string,
  digest: Digest,
  offset: number,
  kind: "blobs" | "manifests" = "blobs",
): Promise<{ res: HttpResponse; skip: number }> {
  const what = `GET ${kind === "blobs" ? "blob" : "manifest"} ${repository}@${digest}`;
  let path: string | URL = `/v2/${repository}/${kind}/${digest}`;
  const headers: Record<string, string> = kind === "manifests" ? { Accept: MANIFEST_ACCEPT } : {};
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await client.request({
      method: "GET",
      path,
      headers,
      scopes: [repoScope(repository, "pull")],
      what,
      ...(kind === "blobs" ? { blob: true } : {}),
    });
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      res.discard();
      const loc = res.header("location");
      if (!loc) throw await client.fail(res, what);
      path = new URL(loc, typeof path === "string" ? new URL(path, await client.base()) : path);
      continue;
    }
    if (res.status === 206 && offset > 0) return { res, skip: 0 };
    if (res.status === 200) return { res, skip: offset };
    throw await client.fail(res, what);
  }
  throw new RegistryError(
    "TOO_MANY_REDIRECTS",
    `${client.registry}: ${what}: more than ${MAX_REDIRECTS} redirects`,
  );
}
