import { ZerodepError } from "../errors.js";

/**
 * A registry said no, or could not be reached. Keeps the distribution spec's error code
 * (MANIFEST_UNKNOWN, BLOB_UNKNOWN, DENIED, UNAUTHORIZED, TOOMANYREQUESTS, DIGEST_INVALID …) or one of
 * ours (CONNECTION_FAILED, TIMEOUT, TLS_FAILED), the HTTP status, and whether trying again can help
 * (gcr's Temporary(): 429, 5xx, resets and timeouts). Messages never carry credentials or tokens.
 */
export class RegistryError extends ZerodepError {
  readonly status: number | undefined;
  readonly temporary: boolean;
  /** Seconds the registry asked us to wait (Retry-After), when it did. */
  readonly retryAfter: number | undefined;
  constructor(
    code: string,
    message: string,
    opts: { status?: number; temporary?: boolean; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status;
    this.temporary = opts.temporary ?? false;
    this.retryAfter = opts.retryAfter;
  }
}

/**
 * The codes zerodep itself gives a RegistryError (the registry's own, MANIFEST_UNKNOWN, DENIED,
 * UNAUTHORIZED …, pass through as it sent them, or HTTP_<status> when it sent none).
 */
export const REGISTRY_ERROR_CODES = [
  "CONNECTION_FAILED",
  "TIMEOUT",
  "DEADLINE_EXCEEDED",
  "TLS_FAILED",
  "AUTH_REALM_INSECURE",
  "AUTH_CHALLENGE_INVALID",
  "AUTH_UNSUPPORTED",
  "TOKEN_FAILED",
  "TOO_MANY_REDIRECTS",
  "UPLOAD_FAILED",
  "DIGEST_MISMATCH",
] as const;
export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[number];

/** Status codes worth retrying: rate limits and server-side trouble (not 501, which will not change). */
export function isTemporaryStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

const MAX_ERROR_TEXT = 300;

/**
 * Distribution error bodies: {"errors":[{"code":"…","message":"…","detail":…}]}. Returns the first
 * code and a short message; other bodies give a truncated, single-line excerpt.
 */
export function parseErrorBody(body: string): { code: string | undefined; message: string } {
  try {
    const j = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const e = Array.isArray(j?.errors) ? j.errors[0] : undefined;
    if (e && typeof e.code === "string") {
      const msg = typeof e.message === "string" ? e.message : "";
      return { code: e.code, message: oneLine(msg) };
    }
  } catch {
    // not JSON
  }
  return { code: undefined, message: oneLine(body) };
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > MAX_ERROR_TEXT ? `${t.slice(0, MAX_ERROR_TEXT)}…` : t;
}

/** Network-level failures that a retry may fix. */
export function isTransientNetworkError(e: unknown): boolean {
  if (e instanceof RegistryError) return e.temporary;
  const code = (e as { code?: unknown })?.code;
  return (
    typeof code === "string" &&
    [
      "ECONNRESET",
      "ECONNREFUSED",
      "EPIPE",
      "ETIMEDOUT",
      "ECONNABORTED",
      "EHOSTUNREACH",
      "ENETUNREACH",
      "EAI_AGAIN",
      "UND_ERR_SOCKET",
      "ERR_STREAM_PREMATURE_CLOSE",
    ].includes(code)
  );
}
