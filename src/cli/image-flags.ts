import { UsageError } from "../errors.js";
import type { RegistryOptions } from "../registry/options.js";
import type { CliIO } from "./io.js";
import { REGISTRY_FLAGS, registryOptions } from "./registry-flags.js";

/** Flags of the commands that read whole images (analyze, diff): which platform, a layer size cap, registries. */
export const IMAGE_READ_FLAGS = {
  platform: { type: "string" },
  "max-layer-bytes": { type: "string" },
  ...REGISTRY_FLAGS,
} as const;

/** The image-reading options of analyze and diff from IMAGE_READ_FLAGS. */
export function imageReadOptions(
  values: Parameters<typeof registryOptions>[0] & { platform?: string; "max-layer-bytes"?: string },
  io: CliIO,
): { platform?: string; image: { registry: RegistryOptions }; maxLayerBytes?: number } {
  const max = values["max-layer-bytes"];
  return {
    platform: values.platform,
    image: { registry: registryOptions(values, io) },
    maxLayerBytes: max === undefined ? undefined : parseSize(max, "--max-layer-bytes"),
  };
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|K|KB|M|MB|G|GB|T|TB|KiB|MiB|GiB|TiB)?$/i;

/** "250M" → 250e6, "1.5GiB" → 1.5·2^30. UsageError on anything else. */
export function parseSize(s: string, what: string): number {
  const m = SIZE_RE.exec(s.trim());
  if (!m) throw new UsageError("USAGE", `${what}: "${s}" is not a size (e.g. 5000000, 50M, 1.5GiB)`);
  const unit = (m[2] ?? "B").toLowerCase();
  const mult: Record<string, number> = {
    b: 1,
    k: 1e3,
    kb: 1e3,
    m: 1e6,
    mb: 1e6,
    g: 1e9,
    gb: 1e9,
    t: 1e12,
    tb: 1e12,
    kib: 1024,
    mib: 1024 ** 2,
    gib: 1024 ** 3,
    tib: 1024 ** 4,
  };
  return Math.round(Number(m[1]) * mult[unit]!);
}
