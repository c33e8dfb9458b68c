import { ParseError } from "../errors.js";

/**
 * Caps on what one manifest or index may list. Real images have tens of layers (Docker refuses more
 * than 127 when it builds; containerd's overlay mounts fail well before 500) and indexes a handful of
 * platforms; a document listing 100 000 entries is an attack on the reader's time and memory (one
 * request, one sink write per entry), so it is refused at once, before any of its entries is fetched.
 */
export const MAX_MANIFEST_LAYERS = 1000;
export const MAX_INDEX_MANIFESTS = 1000;

export const MANIFEST_LIMIT_CODES = ["TOO_MANY_LAYERS", "TOO_MANY_MANIFESTS"] as const;
export type ManifestLimitCode = (typeof MANIFEST_LIMIT_CODES)[number];

/**
 * Throws ParseError TOO_MANY_LAYERS / TOO_MANY_MANIFESTS when a parsed manifest or index lists more
 * than the caps. Anything else (a config, a non-object) passes: the shape is checked elsewhere.
 */
export function checkManifestCounts(doc: unknown, where: string): void {
  if (doc === null || typeof doc !== "object") return;
  const { layers, manifests } = doc as { layers?: unknown; manifests?: unknown };
  if (Array.isArray(layers) && layers.length > MAX_MANIFEST_LAYERS)
    throw new ParseError(
      "TOO_MANY_LAYERS",
      `${where}: the manifest lists ${layers.length} layers, more than the ${MAX_MANIFEST_LAYERS} allowed`,
    );
  if (Array.isArray(manifests) && manifests.length > MAX_INDEX_MANIFESTS)
    throw new ParseError(
      "TOO_MANY_MANIFESTS",
      `${where}: the index lists ${manifests.length} manifests, more than the ${MAX_INDEX_MANIFESTS} allowed`,
    );
}
