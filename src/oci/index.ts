export { buildConfig, buildIndex, buildManifest } from "./build.js";
export { canonicalJson } from "./canonical-json.js";
export { type Digest, DigestingStream, isDigest, sha256 } from "./digest.js";
export { LayoutReader, LayoutWriter, REF_NAME } from "./layout.js";
export { familyOf, type MediaFamily, MediaType } from "./media-types.js";
export type { Descriptor, ImageConfig, Index, Manifest, Platform } from "./types.js";
