import { ParseError } from "../errors.js";
import { isDigest } from "./digest.js";
import { MediaType } from "./media-types.js";
import type { Index } from "./types.js";

// image-spec descriptor.md: algorithm ":" encoded. Used only to tell "malformed" from "well-formed but not sha256".
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What is wrong with `v` as a string map, or undefined. */
export function checkStringMap(v: unknown, where: string): string | undefined {
  if (!isRecord(v)) return `${where}: not an object`;
  for (const [k, s] of Object.entries(v)) if (typeof s !== "string") return `${where}["${k}"]: not a string`;
  return undefined;
}

/**
 * What is wrong with `v` as a descriptor, or undefined when it is usable. Only the digest is checked
 * strictly: it becomes a file name under blobs/, so a hostile "sha256:../../x" must never get that far.
 */
export function checkDescriptor(v: unknown, where: string): string | undefined {
  if (!isRecord(v)) return `${where}: not an object`;
  if (typeof v.mediaType !== "string" || v.mediaType === "") return `${where}.mediaType: missing`;
  if (typeof v.digest !== "string") return `${where}.digest: missing`;
  if (!isDigest(v.digest)) {
    return ANY_DIGEST_RE.test(v.digest)
      ? `${where}.digest: unsupported digest ${JSON.stringify(v.digest)} (only sha256 is supported)`
      : `${where}.digest: malformed digest ${JSON.stringify(v.digest)}`;
  }
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) {
    return `${where}.size: not a non-negative integer`;
  }
  if (v.annotations !== undefined) {
    const bad = checkStringMap(v.annotations, `${where}.annotations`);
    if (bad) return bad;
  }
  if (v.platform !== undefined) {
    const p = v.platform;
    if (!isRecord(p) || typeof p.architecture !== "string" || typeof p.os !== "string") {
      return `${where}.platform: needs string architecture and os`;
    }
  }
  return undefined;
}

/**
 * Parses an image index (a layout's index.json or an index blob). Unknown fields are kept, so that
 * rewriting index.json after adding an image does not drop what other tools stored there.
 */
export function parseIndex(bytes: Uint8Array, file: string): Index {
  const bad = (msg: string, cause?: unknown): never => {
    throw new ParseError("INDEX_INVALID", `${file}: ${msg}`, undefined, { cause });
  };
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    bad(`not valid JSON (${(e as Error).message})`, e);
  }
  if (!isRecord(v)) return bad("not a JSON object");
  if (v.schemaVersion !== 2) bad(`schemaVersion is ${JSON.stringify(v.schemaVersion)}, expected 2`);
  if (
    v.mediaType !== undefined &&
    v.mediaType !== MediaType.ociIndex &&
    v.mediaType !== MediaType.dockerManifestList
  ) {
    bad(`mediaType ${JSON.stringify(v.mediaType)} is not an image index`);
  }
  if (!Array.isArray(v.manifests)) bad("manifests: missing or not an array");
  for (const [i, d] of (v.manifests as unknown[]).entries()) {
    const problem = checkDescriptor(d, `manifests[${i}]`);
    if (problem) bad(problem);
  }
  if (v.annotations !== undefined) {
    const problem = checkStringMap(v.annotations, "annotations");
    if (problem) bad(problem);
  }
  return v as unknown as Index;
}
