import { ParseError } from "../errors.js";
import { checkDescriptor, checkStringMap } from "./descriptor.js";
import { MediaType } from "./media-types.js";

/*
 * Every JSON document read from an image (index, manifest, config) is checked here once, where it is read
 * (readJsonBlob), before any code uses it: a field of the wrong JSON type is one ParseError naming the
 * document and the JSON path ("config.config.Env: expected an array of strings, got a string"), never a
 * TypeError deep inside analyze. Only the fields zerodep reads are checked; everything else is kept as
 * it is. Optional fields may be null: Go's encoding/json writes `"Env": null`, `"Entrypoint": null` for
 * unset slices and maps (docker and buildah images do), and every reader treats null as absent.
 */

/** Codes of the errors a hostile local image (layout or archive) gets (README "Reliability"). */
export const IMAGE_ERROR_CODES = [
  "INDEX_INVALID",
  "MANIFEST_INVALID",
  "CONFIG_INVALID",
  "NOT_REGULAR_FILE",
  "LAYOUT_UNSAFE",
] as const;
export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number];

// image-spec descriptor.md: algorithm ":" encoded.
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return "a boolean";
  return typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

type Problem = string | undefined;

function expect(path: string, what: string, v: unknown): string {
  return `${path}: expected ${what}, got ${kindOf(v)}`;
}

function optString(v: unknown, path: string): Problem {
  return v === undefined || v === null || typeof v === "string" ? undefined : expect(path, "a string", v);
}

function optBoolean(v: unknown, path: string): Problem {
  return v === undefined || v === null || typeof v === "boolean" ? undefined : expect(path, "a boolean", v);
}

function optStringList(v: unknown, path: string): Problem {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return expect(path, "an array of strings", v);
  for (const [i, s] of v.entries()) if (typeof s !== "string") return expect(`${path}[${i}]`, "a string", s);
  return undefined;
}

function optObject(v: unknown, path: string): Problem {
  return v === undefined || v === null || isRecord(v) ? undefined : expect(path, "an object", v);
}

function optStringMap(v: unknown, path: string): Problem {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) return expect(path, "an object", v);
  return checkStringMap(v, path);
}

/** What is wrong with `v` as an image config (image-spec config.md), or undefined. */
export function checkConfig(v: unknown, path = "config"): Problem {
  if (!isRecord(v)) return expect(path, "a JSON object", v);
  for (const k of ["architecture", "os", "variant", "created", "author"] as const) {
    const p = optString(v[k], `${path}.${k}`);
    if (p) return p;
  }
  const c = v.config;
  if (c !== undefined && c !== null) {
    const cp = `${path}.config`;
    if (!isRecord(c)) return expect(cp, "an object", c);
    const problem =
      optString(c.User, `${cp}.User`) ??
      optString(c.WorkingDir, `${cp}.WorkingDir`) ??
      optString(c.StopSignal, `${cp}.StopSignal`) ??
      optStringList(c.Env, `${cp}.Env`) ??
      optStringList(c.Entrypoint, `${cp}.Entrypoint`) ??
      optStringList(c.Cmd, `${cp}.Cmd`) ??
      optStringMap(c.Labels, `${cp}.Labels`) ??
      optObject(c.ExposedPorts, `${cp}.ExposedPorts`) ??
      optObject(c.Volumes, `${cp}.Volumes`);
    if (problem) return problem;
  }
  const r = v.rootfs;
  if (!isRecord(r)) return expect(`${path}.rootfs`, "an object", r);
  const t = optString(r.type, `${path}.rootfs.type`);
  if (t) return t;
  if (!Array.isArray(r.diff_ids)) return expect(`${path}.rootfs.diff_ids`, "an array of digests", r.diff_ids);
  for (const [i, d] of r.diff_ids.entries())
    if (typeof d !== "string" || !ANY_DIGEST_RE.test(d))
      return `${path}.rootfs.diff_ids[${i}]: expected a digest ("sha256:<hex>"), got ${typeof d === "string" ? JSON.stringify(d.slice(0, 80)) : kindOf(d)}`;
  const h = v.history;
  if (h !== undefined && h !== null) {
    if (!Array.isArray(h)) return expect(`${path}.history`, "an array", h);
    for (const [i, e] of h.entries()) {
      const hp = `${path}.history[${i}]`;
      if (!isRecord(e)) return expect(hp, "an object", e);
      const problem =
        optString(e.created, `${hp}.created`) ??
        optString(e.created_by, `${hp}.created_by`) ??
        optString(e.comment, `${hp}.comment`) ??
        optString(e.author, `${hp}.author`) ??
        optBoolean(e.empty_layer, `${hp}.empty_layer`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** What is wrong with `v` as an image manifest (image-spec manifest.md, Docker v2 schema 2), or undefined. */
export function checkManifest(v: unknown, path = "manifest"): Problem {
  if (!isRecord(v)) return expect(path, "a JSON object", v);
  if (v.config === undefined) return `${path}.config: missing`;
  const c = checkDescriptor(v.config, `${path}.config`);
  if (c) return c;
  if (!Array.isArray(v.layers)) return expect(`${path}.layers`, "an array", v.layers);
  for (const [i, l] of v.layers.entries()) {
    const p = checkDescriptor(l, `${path}.layers[${i}]`);
    if (p) return p;
  }
  if (v.annotations !== undefined && v.annotations !== null)
    return optStringMap(v.annotations, `${path}.annotations`);
  return undefined;
}

/** What is wrong with `v` as an image index (image-spec image-index.md, Docker manifest list), or undefined. */
export function checkIndex(v: unknown, path = "index"): Problem {
  if (!isRecord(v)) return expect(path, "a JSON object", v);
  if (!Array.isArray(v.manifests)) return expect(`${path}.manifests`, "an array", v.manifests);
  for (const [i, d] of v.manifests.entries()) {
    const p = checkDescriptor(d, `${path}.manifests[${i}]`);
    if (p) return p;
  }
  if (v.annotations !== undefined && v.annotations !== null)
    return optStringMap(v.annotations, `${path}.annotations`);
  return undefined;
}

const CHECKS: Record<string, { code: string; check: (v: unknown) => Problem }> = {
  [MediaType.ociIndex]: { code: "INDEX_INVALID", check: (v) => checkIndex(v) },
  [MediaType.dockerManifestList]: { code: "INDEX_INVALID", check: (v) => checkIndex(v) },
  [MediaType.ociManifest]: { code: "MANIFEST_INVALID", check: (v) => checkManifest(v) },
  [MediaType.dockerManifest]: { code: "MANIFEST_INVALID", check: (v) => checkManifest(v) },
  [MediaType.ociConfig]: { code: "CONFIG_INVALID", check: (v) => checkConfig(v) },
  [MediaType.dockerConfig]: { code: "CONFIG_INVALID", check: (v) => checkConfig(v) },
};

/**
 * Checks a parsed JSON document against the schema its media type names (index, manifest or image
 * config); other media types (artifact configs, unknown documents) pass unchecked. `where` starts the
 * message (the source and the blob). Throws ParseError INDEX_INVALID / MANIFEST_INVALID / CONFIG_INVALID.
 */
export function validateImageJson<T>(v: unknown, mediaType: string, where: string): T {
  const c = CHECKS[mediaType];
  const problem = c?.check(v);
  if (c && problem) throw new ParseError(c.code, `${where}: ${problem}`);
  return v as T;
}
