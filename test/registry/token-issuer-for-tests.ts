// A small Bearer token issuer for distribution's `auth: token:` set-up (docs/spec/auth/token.md,
// jwt.md): GET /token?service=…&scope=… with Basic credentials (or anonymous), and the OAuth2
// POST form with grant_type=password or refresh_token. Tokens are ES256 JWTs whose header carries the
// issuer certificate in `x5c`: distribution 2.8 (registry/auth/token/token.go) verifies that chain
// against `rootcertbundle` and takes the key from its leaf; with `kid` it would instead need libtrust's
// key fingerprint. `aud` must equal the configured service, `iss` the issuer.

import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, Server } from "node:http";
import { createServer } from "node:https";
import { join } from "node:path";
import { makeTlsMaterial, selfSignedEcCert } from "./registry-for-tests.js";

export interface TokenRequest {
  method: string;
  scopes: string[];
  account: string | undefined;
  grant: "basic" | "anonymous" | "refresh_token" | "password";
}

export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** The CA of the realm's TLS certificate (--ca-file): credentials go to a realm over TLS only. */
  caFile: string;
  requests: TokenRequest[];
  /** Refresh tokens handed out (valid for the refresh grant). */
  refreshTokens: Set<string>;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export async function startTokenIssuer(
  dir: string,
  users: Record<string, string>,
  opts: { issueRefreshTokens?: boolean; anonymousPull?: boolean } = {},
): Promise<TokenIssuer> {
  selfSignedEcCert(dir, "issuer", "/CN=zerodep test token issuer");
  const certFile = join(dir, "issuer.crt");
  const key = createPrivateKey(readFileSync(join(dir, "issuer.key")));
  const der = new X509Certificate(readFileSync(certFile)).raw.toString("base64");
  const service = "zerodep-test-registry";
  const issuer = "zerodep-test-issuer";
  const requests: TokenRequest[] = [];
  const refreshTokens = new Set<string>();

  const jwt = (account: string, scopes: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const actions = m[2]!.split(",").filter((a) => account !== "" || (opts.anonymousPull && a === "pull"));
      return [{ type: "repository", name: m[1]!, actions }];
    });
    const header = { typ: "JWT", alg: "ES256", x5c: [der] };
    const claims = {
      iss: issuer,
      sub: account,
      aud: service,
      exp: now + 300,
      nbf: now - 5,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JWS ES256 wants the raw r||s signature, not DER.
    const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(sig)}`;
  };

  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = "";
      req.on("data", (c: Buffer) => {
        s += c.toString("utf8");
      });
      req.on("end", () => resolve(s));
    });

  // Over TLS: zerodep refuses to send a password or refresh token to a plain-HTTP realm on another port.
  const tls = makeTlsMaterial(dir);
  const server: Server = createServer(
    { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    async (req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const deny = (status: number) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
      };
      let account = "";
      let scopes: string[];
      let grant: TokenRequest["grant"];
      if (req.method === "POST") {
        const form = new URLSearchParams(await body(req));
        scopes = (form.get("scope") ?? "").split(" ").filter((s) => s !== "");
        if (form.get("grant_type") === "refresh_token") {
          grant = "refresh_token";
          const rt = form.get("refresh_token") ?? "";
          if (!refreshTokens.has(rt)) return deny(401);
          account = rt.split(":")[0]!;
        } else if (form.get("grant_type") === "password") {
          grant = "password";
          const u = form.get("username") ?? "";
          if (users[u] === undefined || users[u] !== form.get("password")) return deny(401);
          account = u;
        } else return deny(400);
      } else {
        scopes = url.searchParams.getAll("scope");
        const auth = req.headers.authorization;
        if (auth?.startsWith("Basic ")) {
          grant = "basic";
          const plain = Buffer.from(auth.slice(6), "base64").toString("utf8");
          const i = plain.indexOf(":");
          const u = plain.slice(0, i);
          if (users[u] === undefined || users[u] !== plain.slice(i + 1)) {
            requests.push({ method: req.method ?? "", scopes, account: u, grant });
            return deny(401);
          }
          account = u;
        } else grant = "anonymous";
      }
      requests.push({ method: req.method ?? "", scopes, account: account || undefined, grant });
      const token = jwt(account, scopes);
      const out: Record<string, unknown> = { expires_in: 300, issued_at: new Date().toISOString() };
      // Docker Hub answers both names; alternate so both code paths run.
      if (requests.length % 2 === 0) out.token = token;
      else out.access_token = token;
      if (opts.issueRefreshTokens && account !== "") {
        const rt = `${account}:${randomUUID()}`;
        refreshTokens.add(rt);
        out.refresh_token = rt;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(out));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `https://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    caFile: tls.caFile,
    requests,
    refreshTokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
