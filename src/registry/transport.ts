import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { rootCertificates } from "node:tls";
import { ZerodepError } from "../errors.js";
import { RegistryError } from "./errors.js";

/**
 * HTTP for the registry client, on node:http/node:https rather than fetch: request bodies stream from
 * an AsyncIterable with back-pressure and a known Content-Length, extra CAs (--ca-file) are one agent
 * option, and an inactivity timeout on the socket catches a registry that stalls mid-body. Node 20's
 * fetch would need the npm undici package for the CA dispatcher and `duplex: "half"` streams, and is
 * slower on large bodies (README, "Design: registry transport").
 */

export interface TransportOptions {
  /** PEM certificates trusted in addition to the system roots (--ca-file contents). */
  extraCa?: string[];
  /** Skip TLS certificate verification (--insecure). */
  insecureTls?: boolean;
  /** A request with no byte moving in either direction for this long fails with TIMEOUT (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * The whole operation's time budget (--timeout) as an absolute Date.now() time: any request still
   * running then is cut with DEADLINE_EXCEEDED (not retried). `budget` names it in messages ("30 s").
   */
  deadline?: { at: number; budget: string };
  /** Parallel connections per host (default 8). */
  maxSockets?: number;
  userAgent?: string;
}

export interface HttpRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: URL;
  headers?: Record<string, string>;
  /** A fixed body, or a fresh stream of one (set contentLength for a stream). */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  contentLength?: number;
  /**
   * The whole exchange (head and body) must finish within this many ms, else DEADLINE_EXCEEDED: for
   * small documents (manifests, tokens, errors), so a registry sending a byte every few seconds, which
   * never trips the idle timeout, cannot hold us. Blobs have no such bound (their size is theirs).
   */
  totalMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body stream (consume it or call discard()). */
  body: IncomingMessage;
  header(name: string): string | undefined;
  /** Reads at most `max` bytes of the body as text (the rest is discarded). */
  text(max?: number): Promise<string>;
  bytes(max: number): Promise<Uint8Array | undefined>;
  discard(): void;
}

const USER_AGENT = "zerodep";

export class Transport {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;
  readonly #idle: number;
  readonly #ua: string;
  readonly #deadline: { at: number; budget: string } | undefined;

  constructor(opts: TransportOptions = {}) {
    const maxSockets = opts.maxSockets ?? 8;
    this.#deadline = opts.deadline;
    this.#idle = opts.idleTimeoutMs ?? 60_000;
    this.#ua = opts.userAgent ?? USER_AGENT;
    this.#http = new HttpAgent({ keepAlive: true, maxSockets });
    this.#https = new HttpsAgent({
      keepAlive: true,
      maxSockets,
      ...(opts.extraCa && opts.extraCa.length > 0 ? { ca: [...rootCertificates, ...opts.extraCa] } : {}),
      rejectUnauthorized: opts.insecureTls !== true,
    });
  }

  /**
   * Sends one request and resolves with the response head; the body is the caller's to read. Network
   * failures are RegistryError CONNECTION_FAILED / TIMEOUT / TLS_FAILED (temporary except TLS).
   */
  send(req: HttpRequest): Promise<HttpResponse> {
    const isHttps = req.url.protocol === "https:";
    const headers: Record<string, string> = { "User-Agent": this.#ua, ...req.headers };
    if (req.body instanceof Uint8Array) headers["Content-Length"] = String(req.body.byteLength);
    else if (req.body !== undefined && req.contentLength !== undefined)
      headers["Content-Length"] = String(req.contentLength);
    else if (
      req.body === undefined &&
      (req.method === "PUT" || req.method === "POST" || req.method === "PATCH")
    )
      headers["Content-Length"] = "0";
    const where = `${req.method} ${req.url.host}${req.url.pathname}`;
    const now = Date.now();
    // The nearer of the request's own bound and the operation's budget.
    let limit: { at: number; why: string } | undefined;
    if (req.totalMs !== undefined)
      limit = { at: now + req.totalMs, why: `not complete after ${req.totalMs / 1000} s` };
    if (this.#deadline && (!limit || this.#deadline.at < limit.at))
      limit = { at: this.#deadline.at, why: `the time budget (${this.#deadline.budget}) ran out` };
    const expired = () =>
      new RegistryError("DEADLINE_EXCEEDED", `${where}: ${limit!.why}`, { temporary: false });
    if (limit && limit.at <= now) return Promise.reject(expired());
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let response: IncomingMessage | undefined;
      const timer = limit
        ? setTimeout(() => {
            const e = expired();
            r.destroy(e);
            response?.destroy(e);
          }, limit.at - now)
        : undefined;
      // Never the reason the process stays up; cleared when the body is done.
      timer?.unref();
      const fail = (e: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(wrapNetworkError(e, where, this.#idle));
      };
      const r = (isHttps ? httpsRequest : httpRequest)(req.url, {
        method: req.method,
        headers,
        agent: isHttps ? this.#https : this.#http,
        timeout: this.#idle,
      });
      r.on("timeout", () => {
        const e = Object.assign(new Error("idle timeout"), { code: "ZERODEP_IDLE_TIMEOUT" });
        r.destroy(e);
      });
      r.on("error", fail);
      r.on("response", (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        response = res;
        res.once("close", () => clearTimeout(timer));
        // The same inactivity bound while the body is read.
        res.on("error", () => {});
        resolve(makeResponse(res, where, this.#idle));
      });
      if (req.body === undefined) r.end();
      else if (req.body instanceof Uint8Array) r.end(req.body);
      else {
        pipeline(Readable.from(req.body, { objectMode: false }), r).catch((e: unknown) => {
          // A response may already have arrived (the registry refused early): that answer wins.
          r.destroy(e as Error);
          fail(e);
        });
      }
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

function makeResponse(res: IncomingMessage, where: string, idle: number): HttpResponse {
  const header = (name: string) => {
    const v = res.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(", ") : v;
  };
  const bytes = async (max: number): Promise<Uint8Array | undefined> => {
    const parts: Buffer[] = [];
    let n = 0;
    try {
      for await (const c of res as AsyncIterable<Buffer>) {
        n += c.length;
        if (n > max) {
          res.destroy();
          return undefined;
        }
        parts.push(c);
      }
    } catch (e) {
      throw wrapNetworkError(e, where, idle);
    }
    return Buffer.concat(parts);
  };
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body: res,
    header,
    bytes,
    async text(max = 64 * 1024) {
      const b = await bytes(max).catch(() => undefined);
      return b === undefined ? "" : Buffer.from(b).toString("utf8");
    },
    discard() {
      res.resume();
    },
  };
}

/** A failure below HTTP as a RegistryError that says what, where, and whether a retry may help. */
export function wrapNetworkError(e: unknown, where: string, idleMs: number): Error {
  // Our own errors (a source blob failing verification mid-upload) pass through unchanged.
  if (e instanceof ZerodepError) return e;
  const code = (e as { code?: unknown })?.code;
  const msg = (e as Error)?.message ?? String(e);
  if (code === "ZERODEP_IDLE_TIMEOUT")
    return new RegistryError("TIMEOUT", `${where}: no data for ${idleMs / 1000} s`, {
      temporary: true,
      cause: e,
    });
  if (
    typeof code === "string" &&
    (code.startsWith("ERR_TLS") ||
      code.startsWith("ERR_SSL") ||
      code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
      code === "SELF_SIGNED_CERT_IN_CHAIN" ||
      code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
      code === "CERT_HAS_EXPIRED" ||
      code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" ||
      code === "EPROTO")
  ) {
    const hint = code === "EPROTO" ? "" : " (trust its CA with --ca-file FILE)";
    return new RegistryError("TLS_FAILED", `${where}: TLS: ${msg}${hint}`, { cause: e });
  }
  return new RegistryError(
    "CONNECTION_FAILED",
    `${where}: ${msg}${typeof code === "string" ? ` (${code})` : ""}`,
    {
      temporary: true,
      cause: e,
    },
  );
}
