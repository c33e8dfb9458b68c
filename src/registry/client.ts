import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { IoError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { isLoopbackHost } from "../oci/distribution-reference.js";
import { MediaType } from "../oci/media-types.js";
import { Authenticator } from "./auth.js";
import { findCredential } from "./credentials.js";
import { isTemporaryStatus, isTransientNetworkError, parseErrorBody, RegistryError } from "./errors.js";
import type { RegistryOptions } from "./options.js";
import { type HttpResponse, Transport } from "./transport.js";

/** Every manifest type we read: distribution answers 404 to a GET whose Accept lacks the stored type. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(", ");

export interface ClientRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the registry root ("/v2/…"), or an absolute URL (upload locations, redirects). */
  path: string | URL;
  headers?: Record<string, string>;
  /** Called once per attempt: a fresh body each time. */
  body?: () => Uint8Array | AsyncIterable<Uint8Array>;
  contentLength?: number;
  /** Token scopes ("repository:team/app:pull,push"). */
  scopes: string[];
  /** What we were doing, for messages: "GET manifest team/app:v1". */
  what: string;
  /** false: one attempt only (the caller retries at a higher level, e.g. an upload session). */
  retry?: boolean;
  /**
   * true: a blob goes up or comes down, bounded by the idle timeout and --timeout only. Otherwise the
   * exchange is a small document and must finish within documentTimeoutMs (default 60 s).
   */
  blob?: boolean;
}

/** A small document (manifest, token, error body) that takes longer than this is refused. */
export const DOCUMENT_TIMEOUT_MS = 60_000;

/** Cache of clients per registry host, so a copy between two repositories of one registry shares tokens and sockets. */
export class RegistrySession {
  readonly #clients = new Map<string, RegistryClient>();
  readonly options: RegistryOptions;
  constructor(options: RegistryOptions = {}) {
    // One budget for every registry the operation talks to, counted from now.
    this.options = withDeadline(options);
  }
  client(registry: string, apiHost: string): RegistryClient {
    let c = this.#clients.get(apiHost);
    if (!c) {
      c = new RegistryClient(registry, apiHost, this.options);
      this.#clients.set(apiHost, c);
    }
    return c;
  }
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

/**
 * The distribution API of one registry host: scheme discovery (HTTPS; plain HTTP only for loopback hosts
 * or --insecure, after HTTPS failed below TLS), auth (see Authenticator), retries with exponential
 * backoff and jitter on 429/5xx/resets/timeouts (Retry-After honoured, capped), and one re-authentication
 * on 401. Responses are handed back unread; non-success statuses become RegistryError via `fail`.
 */
export class RegistryClient {
  readonly registry: string;
  readonly apiHost: string;
  readonly options: RegistryOptions;
  #transport: Transport | undefined;
  #transportInit: Promise<Transport> | undefined;
  #base: Promise<URL> | undefined;
  readonly auth: Authenticator;

  constructor(registry: string, apiHost: string, options: RegistryOptions) {
    this.registry = registry;
    this.apiHost = apiHost;
    this.options = withDeadline(options);
    this.auth = new Authenticator(
      registry,
      apiHost,
      () => this.transport(),
      async () => {
        const found = await findCredential(registry, undefined, options);
        return found?.credential;
      },
      { documentMs: this.documentMs },
    );
  }

  get retries(): number {
    return this.options.retries ?? 5;
  }

  async transport(): Promise<Transport> {
    if (this.#transport) return this.#transport;
    this.#transportInit ??= (async () => {
      const extraCa: string[] = [];
      for (const f of this.options.caFiles ?? []) {
        try {
          extraCa.push(await readFile(f, "utf8"));
        } catch (e) {
          throw new IoError("CA_FILE_UNREADABLE", `--ca-file ${f}: ${(e as Error).message}`, { cause: e });
        }
      }
      const t = new Transport({
        extraCa,
        insecureTls: this.options.insecure === true,
        idleTimeoutMs: this.options.idleTimeoutMs,
        ...(this.options.deadline !== undefined
          ? { deadline: { at: this.options.deadline, budget: formatBudget(this.options.timeoutMs) } }
          : {}),
        maxSockets: Math.max(8, (this.options.concurrency ?? 4) * 2),
      });
      this.#transport = t;
      return t;
    })();
    return this.#transportInit;
  }

  /** https://host/ or http://host/, decided by a ping of /v2/ (which also records the auth challenge). */
  base(): Promise<URL> {
    this.#base ??= this.#ping().catch((e: unknown) => {
      this.#base = undefined;
      throw e;
    });
    return this.#base;
  }

  async #ping(): Promise<URL> {
    const t = await this.transport();
    const https = new URL(`https://${this.apiHost}/`);
    const mayUseHttp = this.options.insecure === true || isLoopbackHost(this.apiHost);
    let firstError: unknown;
    for (const base of mayUseHttp ? [https, new URL(`http://${this.apiHost}/`)] : [https]) {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await t.send({ method: "GET", url: new URL("/v2/", base), totalMs: this.documentMs });
          res.discard();
          if (res.status === 401) this.auth.setChallenge(res.header("www-authenticate"));
          else if (isTemporaryStatus(res.status) && attempt < this.retries) {
            await this.backoff(attempt, res);
            continue;
          }
          // Any HTTP answer proves the scheme; a 404 here is a server that is not a registry, reported by the real request.
          return base;
        } catch (e) {
          firstError ??= e;
          const code = (e as RegistryError).code;
          // A certificate problem is not a reason to drop to plain HTTP: report it.
          const certProblem =
            code === "TLS_FAILED" && !/EPROTO|wrong version|packet length/i.test((e as Error).message);
          if (base.protocol === "https:" && mayUseHttp && !certProblem) break;
          if (isTransientNetworkError(e) && attempt < this.retries) {
            await this.backoff(attempt);
            continue;
          }
          throw base.protocol === "http:" ? firstError : e;
        }
      }
    }
    throw firstError;
  }

  /** Waits before retry `attempt` (0-based): Retry-After when the registry sent one, else exponential with jitter. */
  async backoff(attempt: number, res?: HttpResponse | RegistryError): Promise<void> {
    const cap = this.options.maxRetryWaitMs ?? 20_000;
    let ra: number | undefined;
    if (res instanceof RegistryError) ra = res.retryAfter;
    else if (res) ra = parseRetryAfter(res.header("retry-after"));
    const base = this.options.retryBaseMs ?? 500;
    const ms = Math.min(cap, ra !== undefined ? ra * 1000 : base * 2 ** attempt * (0.5 + Math.random() / 2));
    // Waiting past the budget cannot help: say so now rather than after the wait.
    const d = this.options.deadline;
    if (d !== undefined && Date.now() + ms >= d)
      throw new RegistryError(
        "DEADLINE_EXCEEDED",
        `${this.registry}: the time budget (${formatBudget(this.options.timeoutMs)}) ran out while retrying`,
      );
    await sleep(ms);
  }

  get documentMs(): number {
    return this.options.documentTimeoutMs ?? DOCUMENT_TIMEOUT_MS;
  }

  /** Sends a request with auth and (unless retry: false) retries; returns the final response, whatever its status. */
  async request(req: ClientRequest): Promise<HttpResponse> {
    const base = await this.base();
    const t = await this.transport();
    const url = typeof req.path === "string" ? new URL(req.path, base) : req.path;
    const maxAttempts = req.retry === false ? 1 : this.retries + 1;
    let reauthed = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...req.headers };
      // Credentials go only to the registry's own origin (scheme, host and port), never to a redirect
      // target elsewhere, nor to the same host downgraded from https to http.
      if (url.origin === base.origin) {
        const h = await this.auth.header(req.scopes, url);
        if (h) headers.Authorization = h;
      }
      let res: HttpResponse;
      try {
        res = await t.send({
          method: req.method,
          url,
          headers,
          ...(req.body ? { body: req.body() } : {}),
          ...(req.contentLength !== undefined ? { contentLength: req.contentLength } : {}),
          ...(req.blob ? {} : { totalMs: this.documentMs }),
        });
      } catch (e) {
        if (isTransientNetworkError(e) && attempt + 1 < maxAttempts) {
          this.options.log?.(`${req.what}: ${(e as Error).message}; retrying`);
          await this.backoff(attempt);
          continue;
        }
        throw e;
      }
      if (res.status === 401 && !reauthed && url.origin === base.origin) {
        reauthed = true;
        res.discard();
        this.auth.setChallenge(res.header("www-authenticate"));
        this.auth.invalidate(req.scopes);
        attempt--;
        continue;
      }
      if (isTemporaryStatus(res.status) && attempt + 1 < maxAttempts) {
        this.options.log?.(`${req.what}: HTTP ${res.status}; retrying`);
        await this.backoff(attempt, res);
        res.discard();
        continue;
      }
      return res;
    }
  }

  /** The RegistryError for an unexpected status: the registry's own error code and message, status, temporary. */
  async fail(res: HttpResponse, what: string): Promise<RegistryError> {
    const body = res.body.readableEnded ? "" : await res.text(64 * 1024);
    const { code, message } = parseErrorBody(body);
    const fallback =
      res.status === 401
        ? "UNAUTHORIZED"
        : res.status === 403
          ? "DENIED"
          : res.status === 404
            ? "NOT_FOUND"
            : res.status === 429
              ? "TOOMANYREQUESTS"
              : `HTTP_${res.status}`;
    const hint = res.status === 401 ? ` (log in with zerodep login ${this.registry})` : "";
    return new RegistryError(
      code ?? fallback,
      `${this.registry}: ${what}: HTTP ${res.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}${hint}`,
      {
        status: res.status,
        temporary: isTemporaryStatus(res.status),
        retryAfter: parseRetryAfter(res.header("retry-after")),
      },
    );
  }

  close(): void {
    this.#transport?.close();
  }
}

/** Options with `deadline` set from `timeoutMs` (once: a deadline already set is kept). */
function withDeadline(o: RegistryOptions): RegistryOptions {
  if (o.deadline !== undefined || !o.timeoutMs) return o;
  return { ...o, deadline: Date.now() + o.timeoutMs };
}

function formatBudget(ms: number | undefined): string {
  if (ms === undefined) return "deadline";
  return ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

function parseRetryAfter(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - Date.now()) / 1000);
}

/** `Docker-Content-Digest` when the registry sent a well-formed one. */
export function contentDigest(res: HttpResponse): Digest | undefined {
  const d = res.header("docker-content-digest");
  return d && /^sha256:[0-9a-f]{64}$/.test(d) ? (d as Digest) : undefined;
}

export function repoScope(repository: string, actions: "pull" | "pull,push"): string {
  return `repository:${repository}:${actions}`;
}
