import type { RegistryOptions } from "../registry/options.js";
import type { CliIO } from "./io.js";
import { registryOptions } from "./registry-flags.js";

/** The image-reading options of analyze and diff from the IMAGE_READ and REGISTRY flag groups. */
export function imageReadOptions(
  values: Parameters<typeof registryOptions>[0] & {
    platform?: string | undefined;
    "max-layer-bytes"?: number | undefined;
  },
  io: CliIO,
): { platform?: string; image: { registry: RegistryOptions }; maxLayerBytes?: number } {
  return {
    platform: values.platform,
    image: { registry: registryOptions(values, io) },
    maxLayerBytes: values["max-layer-bytes"],
  };
}
