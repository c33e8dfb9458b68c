import type { CredentialOptions } from "./credentials.js";

/** Everything a registry operation can be told; the CLI fills it from flags and its environment. */
export interface RegistryOptions extends CredentialOptions {
  /** PEM files whose certificates are trusted besides the system roots (--ca-file). */
  caFiles?: string[];
  /** Allow plain HTTP and unverified TLS for any host (--insecure). Loopback hosts may use HTTP anyway. */
  insecure?: boolean;
  /** No byte moving for this long fails a request (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * A small document (manifest, index, token, upload status: anything but a blob body) must arrive
   * whole within this many ms (default 60 s): a byte every few seconds never trips the idle timeout.
   */
  documentTimeoutMs?: number;
  /**
   * The whole operation's budget for registry traffic (--timeout): requests and retry waits that would
   * go past it fail with DEADLINE_EXCEEDED. 0 or unset: none. Counted from when the session is made.
   */
  timeoutMs?: number;
  /** The same budget as an absolute Date.now() time (set from timeoutMs; pass it to share one budget). */
  deadline?: number;
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
