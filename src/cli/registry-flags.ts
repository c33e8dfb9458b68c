import { UsageError } from "../errors.js";
import type { RegistryOptions } from "../registry/options.js";
import type { CliIO } from "./io.js";

/** Flags every registry command shares (parseArgs option specs). */
export const REGISTRY_FLAGS = {
  "ca-file": { type: "string", multiple: true },
  insecure: { type: "boolean" },
  "chunk-size": { type: "string" },
  retries: { type: "string" },
  concurrency: { type: "string" },
} as const;

export const REGISTRY_FLAGS_HELP = `  --ca-file FILE        trust this PEM CA besides the system roots (repeatable)
  --insecure            allow plain HTTP and unverified TLS for any registry (loopback may use HTTP anyway)
  --concurrency N       blobs in flight at once (default 4)
  --retries N           retries on 429/5xx/resets/timeouts, with backoff (default 5)
  --chunk-size BYTES    upload in chunks of this size instead of one streamed PUT per blob`;

function intFlag(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError("USAGE", `--${name} wants a whole number ≥ ${min} (got "${v}")`);
  return Number(v);
}

/** RegistryOptions from the shared flags and the process environment (credential files, helpers' PATH). */
export function registryOptions(
  values: {
    "ca-file"?: string[];
    insecure?: boolean;
    "chunk-size"?: string;
    retries?: string;
    concurrency?: string;
  },
  io: CliIO,
  log?: (m: string) => void,
): RegistryOptions {
  const chunk = intFlag(values["chunk-size"], "chunk-size", 1);
  const retries = intFlag(values.retries, "retries", 0);
  const concurrency = intFlag(values.concurrency, "concurrency", 1);
  const idle = io.env.ZERODEP_REGISTRY_TIMEOUT;
  return {
    env: io.env,
    ...(values["ca-file"] ? { caFiles: values["ca-file"] } : {}),
    ...(values.insecure ? { insecure: true } : {}),
    ...(chunk !== undefined ? { chunkSize: chunk, chunked: true } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(idle && /^\d+$/.test(idle) ? { idleTimeoutMs: Number(idle) * 1000 } : {}),
    ...(log ? { log } : {}),
  };
}
