import { existsSync } from "node:fs";
import { transportOf } from "../image/reference.js";

/**
 * Whether a command-line argument of check/inspect names an image rather than a file: oci:,
 * oci-archive:, docker-archive:, docker://…, or — when no such file exists — a reference whose first
 * component is a registry host ("localhost:5000/app", "ghcr.io/org/app:v1"). A bare "alpine:3" is taken
 * as a file name unless written docker://alpine:3, so that a typo never turns into a network request.
 */
export function isImageArg(arg: string): boolean {
  if (transportOf(arg) !== "registry" || arg.startsWith("docker://")) return true;
  if (existsSync(arg)) return false;
  const slash = arg.indexOf("/");
  if (slash <= 0) return false;
  const host = arg.slice(0, slash);
  return host === "localhost" || host.includes(".") || host.includes(":") || host.startsWith("[");
}
