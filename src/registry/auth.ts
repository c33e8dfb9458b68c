import { isLoopbackHost } from "../oci/distribution-reference.js";
import { type Challenge, parseChallenges } from "./challenge.js";
import type { Credential } from "./credentials.js";
import { RegistryError } from "./errors.js";
import type { Transport } from "./transport.js";

const MAX_TOKEN_RESPONSE = 1 << 20;
/** Tokens without expires_in live 60 s (distribution's token spec). */
const DEFAULT_TOKEN_TTL_S = 60;
const CLIENT_ID = "zerodep";

/**
 * Whether a secret (a Basic password, an identity or refresh token) may be sent to `url`: over TLS, or
 * over plain HTTP only to the registry's own host:port when that is loopback (the bytes never leave the
 * machine). A Bearer realm on `http://` elsewhere, or a redirect downgraded to `http://`, would put the
 * password on the wire in clear; docker and containerd send it anyway, we refuse.
 */
export function mayCarryCredentials(url: URL, apiHost: string): boolean {
  if (url.protocol === "https:") return true;
  if (url.protocol !== "http:") return false;
  return isLoopbackHost(apiHost) && url.host === new URL(`http://${apiHost}/`).host;
}

/** A URL for messages: scheme, host and path, never userinfo or query (a realm may carry either). */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * Authorization for one registry: none, Basic, or the Bearer token flow (the registry's 401 challenge
 * names a realm and service; a token for the scopes a request needs is fetched from the realm with
 * Basic credentials, or with a refresh token by the OAuth2 POST form, and cached per scope set until
 * shortly before it expires). Credentials are looked up once, lazily, and never put into messages.
 */
export class Authenticator {
  #challenge: Challenge | undefined;
  #credential: Credential | undefined | null = null; // null: not looked up yet
  #refreshToken: string | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  /** Token fetches under way, so concurrent uploads needing the same scopes share one request. */
  readonly #pending = new Map<string, Promise<CachedToken>>();
  readonly #now: () => number;
  readonly #documentMs: number | undefined;

  constructor(
    readonly registry: string,
    /** host[:port] the requests go to: the only plain-HTTP place credentials may go (loopback only). */
    readonly apiHost: string,
    private readonly transport: () => Promise<Transport>,
    private readonly lookup: () => Promise<Credential | undefined>,
    opts: { now?: () => number; documentMs?: number } = {},
  ) {
    this.#now = opts.now ?? Date.now;
    this.#documentMs = opts.documentMs;
  }

  /** Records the challenge of a 401 (from the ping or any request). */
  setChallenge(header: string | undefined): void {
    if (!header) return;
    const all = parseChallenges(header);
    // Prefer Bearer: a registry offering both takes tokens for scoped access.
    const c = all.find((x) => x.scheme === "bearer") ?? all.find((x) => x.scheme === "basic");
    if (c) this.#challenge = c;
  }

  get scheme(): string | undefined {
    return this.#challenge?.scheme;
  }

  async #credentialOrNone(): Promise<Credential | undefined> {
    if (this.#credential === null) this.#credential = await this.lookup();
    return this.#credential;
  }

  /** The Authorization header value for a request to `url` needing `scopes`, or undefined to go anonymous. */
  async header(scopes: string[], url: URL): Promise<string | undefined> {
    const c = this.#challenge;
    if (!c) return undefined;
    if (c.scheme === "basic") {
      const cred = await this.#credentialOrNone();
      if (!cred) return undefined;
      if (!mayCarryCredentials(url, this.apiHost))
        throw new RegistryError(
          "AUTH_REALM_INSECURE",
          `${this.registry}: refusing to send credentials over plain HTTP to ${shown(url)} (only TLS, or a loopback registry itself, may receive them)`,
        );
      if (cred.kind !== "basic")
        throw new RegistryError(
          "UNAUTHORIZED",
          `${this.registry}: wants a password, only an identity token is stored`,
        );
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`, "utf8").toString("base64")}`;
    }
    if (c.scheme === "bearer") {
      const key = [...new Set(scopes)].sort().join(" ");
      const hit = this.#tokens.get(key);
      if (hit && hit.expiresAt - 10_000 > this.#now()) return `Bearer ${hit.value}`;
      let p = this.#pending.get(key);
      if (!p) {
        p = this.#fetchToken(c, [...new Set(scopes)].sort()).finally(() => this.#pending.delete(key));
        this.#pending.set(key, p);
      }
      const t = await p;
      this.#tokens.set(key, t);
      return `Bearer ${t.value}`;
    }
    throw new RegistryError(
      "AUTH_UNSUPPORTED",
      `${this.registry}: authentication scheme "${c.scheme}" is not supported`,
    );
  }

  /** A 401 on a request that carried a token: forget the tokens for these scopes so the next try fetches one. */
  invalidate(scopes: string[]): void {
    this.#tokens.delete([...new Set(scopes)].sort().join(" "));
  }

  async #fetchToken(c: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = c.params.realm;
    if (!realm)
      throw new RegistryError("AUTH_CHALLENGE_INVALID", `${this.registry}: Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError("AUTH_CHALLENGE_INVALID", `${this.registry}: Bearer realm is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new RegistryError("AUTH_CHALLENGE_INVALID", `${this.registry}: Bearer realm is not http(s)`);
    const cred = await this.#credentialOrNone();
    const refresh = this.#refreshToken ?? (cred?.kind === "identityToken" ? cred.token : undefined);
    const where = `token service ${url.host}`;
    // Checked before any byte goes out: an anonymous token request to an http realm carries no secret.
    if ((refresh !== undefined || cred?.kind === "basic") && !mayCarryCredentials(url, this.apiHost))
      throw new RegistryError(
        "AUTH_REALM_INSECURE",
        `${this.registry}: the Bearer realm ${shown(url)} is plain HTTP${url.host === new URL(`http://${this.apiHost}/`).host ? "" : " on another host"}; refusing to send credentials to it (only TLS, or a loopback registry itself, may receive them)`,
      );
    let res: Awaited<ReturnType<Transport["send"]>>;
    if (refresh !== undefined) {
      // OAuth2 refresh-token grant (distribution's token spec, "oauth.md").
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refresh,
        client_id: CLIENT_ID,
        ...(c.params.service ? { service: c.params.service } : {}),
        ...(scopes.length ? { scope: scopes.join(" ") } : {}),
      });
      res = await (await this.transport()).send({
        method: "POST",
        url,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: Buffer.from(form.toString(), "utf8"),
        ...(this.#documentMs !== undefined ? { totalMs: this.#documentMs } : {}),
      });
    } else {
      if (c.params.service) url.searchParams.set("service", c.params.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (cred?.kind === "basic") {
        url.searchParams.set("account", cred.username);
      }
      const headers: Record<string, string> = {};
      if (cred?.kind === "basic")
        headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`, "utf8").toString("base64")}`;
      res = await (await this.transport()).send({
        method: "GET",
        url,
        headers,
        ...(this.#documentMs !== undefined ? { totalMs: this.#documentMs } : {}),
      });
    }
    if (res.status === 401 || res.status === 403) {
      res.discard();
      throw new RegistryError(
        res.status === 401 ? "UNAUTHORIZED" : "DENIED",
        `${this.registry}: ${where} refused ${cred ? "the stored credentials" : "anonymous access"} (HTTP ${res.status})${cred ? "" : "; log in with zerodep login"}`,
        { status: res.status },
      );
    }
    if (res.status !== 200) {
      res.discard();
      throw new RegistryError("TOKEN_FAILED", `${this.registry}: ${where} answered HTTP ${res.status}`, {
        status: res.status,
        temporary: res.status === 429 || res.status >= 500,
      });
    }
    const bytes = await res.bytes(MAX_TOKEN_RESPONSE);
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
    try {
      j = JSON.parse(Buffer.from(bytes ?? new Uint8Array()).toString("utf8")) as typeof j;
    } catch {
      throw new RegistryError("TOKEN_FAILED", `${this.registry}: ${where} did not answer JSON`);
    }
    const value =
      typeof j.token === "string" && j.token !== ""
        ? j.token
        : typeof j.access_token === "string" && j.access_token !== ""
          ? j.access_token
          : undefined;
    if (!value)
      throw new RegistryError("TOKEN_FAILED", `${this.registry}: ${where} answered without a token`);
    if (typeof j.refresh_token === "string" && j.refresh_token !== "") this.#refreshToken = j.refresh_token;
    const ttl =
      typeof j.expires_in === "number" && j.expires_in > 0 && j.expires_in < 86400 * 365
        ? j.expires_in
        : DEFAULT_TOKEN_TTL_S;
    return { value, expiresAt: this.#now() + ttl * 1000 };
  }
}
