import { UsageError } from "../errors.js";
import type { Platform } from "./types.js";

/** "linux/arm64/v8" → Platform. UsageError PLATFORM_INVALID. */
export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new UsageError("PLATFORM_INVALID", `platform "${s}": expected OS/ARCH[/VARIANT], e.g. linux/arm64`);
  }
  return parts.length === 3
    ? { os: parts[0]!, architecture: parts[1]!, variant: parts[2]! }
    : { os: parts[0]!, architecture: parts[1]! };
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return "(no platform)";
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** Whether `have` satisfies `want` (arm64 without a variant is v8, as containerd normalises). */
export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant === undefined || want.variant === have.variant) return true;
  return want.architecture === "arm64" && want.variant === "v8" && have.variant === undefined;
}
