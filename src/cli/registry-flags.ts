import type { RegistryOptions } from "../registry/options.js";
import type { CliIO } from "./io.js";

/** --timeout when not given: generous enough for a multi-GiB pull on a slow link, yet never forever. */
export const DEFAULT_TIMEOUT_MS = 3_600_000;

/** RegistryOptions from the REGISTRY flag group (flag-groups.ts) and the environment (credential files, helpers' PATH). */
export function registryOptions(
  values: {
    "ca-file"?: string[] | undefined;
    insecure?: boolean;
    "chunk-size"?: number | undefined;
    retries?: number | undefined;
    concurrency?: number | undefined;
    timeout?: number | undefined;
  },
  io: CliIO,
  log?: (m: string) => void,
): RegistryOptions {
  const chunk = values["chunk-size"];
  const idle = io.env.ZERODEP_REGISTRY_TIMEOUT;
  const timeout = values.timeout ?? DEFAULT_TIMEOUT_MS;
  return {
    env: io.env,
    ...(values["ca-file"] ? { caFiles: values["ca-file"] } : {}),
    ...(values.insecure ? { insecure: true } : {}),
    ...(chunk !== undefined ? { chunkSize: chunk, chunked: true } : {}),
    ...(values.retries !== undefined ? { retries: values.retries } : {}),
    ...(values.concurrency !== undefined ? { concurrency: values.concurrency } : {}),
    ...(idle && /^\d+$/.test(idle) ? { idleTimeoutMs: Number(idle) * 1000 } : {}),
    // The budget starts now, while flags are read: one budget for the whole command.
    ...(timeout > 0 ? { timeoutMs: timeout, deadline: Date.now() + timeout } : {}),
    ...(log ? { log } : {}),
  };
}
