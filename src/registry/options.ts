import type { CredentialOptions } from "./credentials.js";

/** Everything a registry operation can be told; the CLI fills it from flags and its environment. */
export interface RegistryOptions extends CredentialOptions {
  /** PEM files whose certificates are trusted besides the system roots (--ca-file). */
  caFiles?: string[];
  /** Allow plain HTTP and unverified TLS for any host (--insecure). Loopback hosts may use HTTP anyway. */
  insecure?: boolean;
  /** No byte moving for this long fails a request (default 60 s). */
  idleTimeoutMs?: number;
  /** Retries of a failed request or blob upload on 429/5xx/resets/timeouts (default 5). */
  retries?: number;
  /** First backoff in ms, doubled per retry with jitter (default 500; Retry-After wins, capped by maxRetryWaitMs). */
  retryBaseMs?: number;
  /** Longest single wait between retries (default 20 s). */
  maxRetryWaitMs?: number;
  /** Blobs uploaded or downloaded at the same time (default 4). */
  concurrency?: number;
  /** Size of each PATCH in a chunked upload (default 16 MiB). */
  chunkSize?: number;
  /** Upload in chunks from the start instead of one streamed PUT (the fallback is automatic). */
  chunked?: boolean;
  /** Diagnostics (retries, fallbacks): never carries secrets. */
  log?: (message: string) => void;
}
