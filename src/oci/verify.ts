import { ParseError } from "../errors.js";
import { DigestingStream } from "./digest.js";
import { checkManifestCounts } from "./limits.js";
import type { Descriptor } from "./types.js";
import { validateImageJson } from "./validate.js";

/** JSON blobs (manifests, indexes, configs) larger than this are refused rather than buffered. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Passes `chunks` through while checking them against `desc`: stops reading at once when more bytes come
 * than the descriptor says (a hostile or corrupt source can never make us read without bound), and throws
 * ParseError DIGEST_MISMATCH at the end when the size or sha256 differ. `where`, when given, names the
 * source at the start of messages.
 */
export async function* verifyBlob(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  desc: Descriptor,
  where?: string,
): AsyncGenerator<Uint8Array> {
  const ds = new DigestingStream();
  for await (const chunk of chunks) {
    ds.update(chunk);
    if (ds.size > desc.size) break;
    yield chunk;
  }
  if (ds.size !== desc.size) {
    throw new ParseError(
      "DIGEST_MISMATCH",
      `${at(where)}blob ${desc.digest}: ${ds.size > desc.size ? `more than ${desc.size}` : `only ${ds.size}`} bytes, descriptor says ${desc.size}`,
    );
  }
  if (ds.digest !== desc.digest) {
    throw new ParseError(
      "DIGEST_MISMATCH",
      `${at(where)}blob ${desc.digest}: content hashes to ${ds.digest}`,
    );
  }
}

/**
 * Collects a verified JSON blob (bounded by MAX_JSON_BYTES), parses it and checks it against the schema
 * of its media type (validate.ts). ParseError BLOB_TOO_LARGE / JSON_INVALID / INDEX_INVALID /
 * MANIFEST_INVALID / CONFIG_INVALID.
 */
export async function readJsonBlob<T>(
  chunks: AsyncIterable<Uint8Array>,
  desc: Descriptor,
  where?: string,
): Promise<T> {
  if (desc.size > MAX_JSON_BYTES) {
    throw new ParseError(
      "BLOB_TOO_LARGE",
      `${at(where)}blob ${desc.digest}: ${desc.size} bytes is over the ${MAX_JSON_BYTES}-byte limit for JSON`,
    );
  }
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return parseImageJson<T>(Buffer.concat(parts), desc, where);
}

/**
 * The one parse of an image document (index, manifest, config) from its exact bytes: UTF-8 JSON
 * (JSON_INVALID), the layer/manifest caps (limits.ts), then the schema of its media type
 * (validate.ts). Every reader goes through here — readJsonBlob, the copy engine, the image model —
 * so nothing after it sees a malformed document, and no reader checks one twice.
 */
export function parseImageJson<T>(
  bytes: Uint8Array,
  desc: Pick<Descriptor, "digest" | "mediaType">,
  where?: string,
): T {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ParseError(
      "JSON_INVALID",
      `${at(where)}blob ${desc.digest} (${desc.mediaType}) is not valid JSON`,
      undefined,
      { cause: e },
    );
  }
  checkManifestCounts(v, `${at(where)}blob ${desc.digest}`);
  return validateImageJson<T>(v, desc.mediaType, `${at(where)}blob ${desc.digest}`);
}

function at(where: string | undefined): string {
  return where === undefined ? "" : `${where}: `;
}
