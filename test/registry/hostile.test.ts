// Issue #12, registry side: a registry (or its token realm, or its storage) that tries to get our
// credentials in clear, loops on 401, trickles or never ends its bodies, lies in Content-Length, or
// lists 100 000 layers. Every run is the real CLI; each must end within its budget with exit 3 and
// one line on stderr (no stack trace), and no secret may reach a plain-HTTP place.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Authenticator, mayCarryCredentials } from "../../src/registry/auth.js";
import { pull } from "../../src/transfer/copy.js";
import { needs } from "../helpers/env.js";
import {
  endless,
  type HostileServer,
  type SeenRequest,
  serveImage,
  startHostileServer,
  type TinyImage,
  tinyImage,
  trickle,
} from "../helpers/hostile-registry.js";
import { zerodepAsync } from "./cli-async-for-tests.js";
import { makeTlsMaterial } from "./registry-for-tests.js";

const skip = needs({ tools: ["openssl"] });

const USER = "victim";
const PASSWORD = "s3cret-Pw-never-in-clear";
const IDENTITY_TOKEN = "idtok-never-in-clear-77";

/** The CLI failed the way a user error must: exit 3, one line on stderr, no stack frame. */
function failedCleanly(r: { code: number | null; stderr: string }): void {
  assert.equal(r.code, 3, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.ok(!r.stderr.includes(PASSWORD) && !r.stderr.includes(IDENTITY_TOKEN), r.stderr);
}

const unauthorized = (res: ServerResponse, challenge: string) => {
  res.writeHead(401, { "WWW-Authenticate": challenge, "Content-Type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
};

const basicOk = (q: SeenRequest) =>
  q.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

describe("hostile registries (issue #12): credentials, redirects, 401 loops, slow and endless bodies, caps", {
  skip,
  timeout: 240_000,
}, () => {
  let work: string;
  let tls: { caFile: string; certFile: string; keyFile: string };
  let img: TinyImage;
  const servers: HostileServer[] = [];
  let n = 0;
  /** A fresh output directory per run. */
  const out = () => `oci:${join(work, `out-${n++}`)}:v1`;
  const server = async (opts: Parameters<typeof startHostileServer>[0] = {}) => {
    const s = await startHostileServer(opts);
    servers.push(s);
    return s;
  };
  /** An environment whose only credential is `entry` for `host` (none when undefined). */
  const env = (host?: string, entry?: Record<string, string>) => {
    const file = join(work, `auth-${n++}.json`);
    writeFileSync(file, JSON.stringify({ auths: host && entry ? { [host]: entry } : {} }), { mode: 0o600 });
    return {
      HOME: join(work, "home"),
      DOCKER_CONFIG: join(work, "no-docker"),
      REGISTRY_AUTH_FILE: file,
      XDG_RUNTIME_DIR: "",
      XDG_CONFIG_HOME: "",
    };
  };
  const basic = { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") };
  const identity = { auth: "", identitytoken: IDENTITY_TOKEN };

  before(() => {
    work = mkdtempSync(join(tmpdir(), "zerodep-hostile-"));
    mkdirSync(join(work, "home"));
    tls = makeTlsMaterial(work);
    img = tinyImage();
  });
  after(async () => {
    for (const s of servers) await s.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the rule itself: TLS anywhere; plain HTTP only to the loopback registry's own host:port", async () => {
    const may = (url: string, apiHost: string) => mayCarryCredentials(new URL(url), apiHost);
    assert.equal(may("https://auth.example.com/token", "registry.example.com"), true);
    assert.equal(may("http://127.0.0.1:5000/token", "127.0.0.1:5000"), true);
    assert.equal(may("http://localhost/token", "localhost:80"), true);
    assert.equal(may("http://127.0.0.1:5001/token", "127.0.0.1:5000"), false);
    assert.equal(may("http://127.0.0.2:5000/token", "127.0.0.1:5000"), false);
    assert.equal(may("http://auth.example.com/token", "registry.example.com"), false);
    // --insecure reaches a remote plain-HTTP registry, but never with a password.
    assert.equal(may("http://10.1.2.3:5000/v2/", "10.1.2.3:5000"), false);
    assert.equal(may("ftp://127.0.0.1:5000/", "127.0.0.1:5000"), false);
    const auth = new Authenticator(
      "10.1.2.3:5000",
      "10.1.2.3:5000",
      () => Promise.reject(new Error("no request may be sent")),
      async () => ({ kind: "basic", username: USER, password: PASSWORD }),
    );
    auth.setChallenge('Basic realm="r"');
    await assert.rejects(
      auth.header([], new URL("http://10.1.2.3:5000/v2/")),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "AUTH_REALM_INSECURE");
        assert.ok(!e.message.includes(PASSWORD));
        return true;
      },
    );
    assert.match((await auth.header([], new URL("https://10.1.2.3:5000/v2/")))!, /^Basic /);
  });

  describe("credentials never go to a plain-HTTP place", () => {
    /** A rogue token realm on plain HTTP that records what reaches it and hands out tokens. */
    async function rogueRealm() {
      const rogue = await server();
      rogue.handle = (_q, res) => {
        res.writeHead(200, { "Content-Type": "application/json" }).end('{"token":"rogue-token"}');
      };
      return rogue;
    }
    /** A registry whose Bearer challenge names `realm`, serving `img` to any Bearer token. */
    function bearerRegistry(reg: HostileServer, realm: () => string) {
      reg.handle = (q, res) => {
        if (q.url.startsWith("/token")) {
          res.writeHead(200, { "Content-Type": "application/json" }).end('{"token":"own-token"}');
          return;
        }
        if (!q.authorization?.startsWith("Bearer ")) {
          unauthorized(res, `Bearer realm="${realm()}",service="hostile"`);
          return;
        }
        if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
    }

    test("TLS registry, Bearer realm http:// on another port: pull refuses, the realm sees no request at all", async () => {
      const rogue = await rogueRealm();
      const reg = await server({ tls });
      bearerRegistry(reg, () => `http://${rogue.host}/token`);
      const r = await zerodepAsync(
        ["pull", `${reg.host}/team/app:v1`, "--out", out(), "--ca-file", tls.caFile],
        {
          env: env(reg.host, basic),
          timeoutMs: 30_000,
        },
      );
      failedCleanly(r);
      assert.match(r.stderr, new RegExp(`realm http://${rogue.host}/token is plain HTTP on another host`));
      assert.deepEqual(rogue.seen, []);
    });

    test("an identity token (OAuth2 refresh grant) is not posted to an http:// realm either (push)", async () => {
      const src = await server();
      src.handle = (q, res) => {
        if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const layout = `oci:${join(work, "src-layout")}:v1`;
      const p = await zerodepAsync(["pull", `${src.host}/team/app:v1`, "--out", layout], { env: env() });
      assert.equal(p.code, 0, p.stderr);
      const rogue = await rogueRealm();
      const reg = await server({ tls });
      bearerRegistry(reg, () => `http://${rogue.host}/token`);
      const r = await zerodepAsync(["push", layout, `${reg.host}/team/app:v1`, "--ca-file", tls.caFile], {
        env: env(reg.host, identity),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      assert.match(r.stderr, /plain HTTP/);
      assert.deepEqual(rogue.seen, []);
      // Nothing was written: every upload needs the token that was refused.
      assert.ok(!reg.seen.some((q) => q.method === "PUT" || q.method === "POST"));
    });

    test("plain-HTTP loopback registry, realm on another loopback port: inspect refuses too", async () => {
      const rogue = await rogueRealm();
      const reg = await server();
      bearerRegistry(reg, () => `http://${rogue.host}/token`);
      const r = await zerodepAsync(["inspect", `${reg.host}/team/app:v1`], {
        env: env(reg.host, basic),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      assert.match(r.stderr, /plain HTTP on another host/);
      assert.deepEqual(rogue.seen, []);
    });

    test("control: without credentials the same http:// realm is asked anonymously (nothing secret), and the pull works", async () => {
      const rogue = await rogueRealm();
      const reg = await server();
      bearerRegistry(reg, () => `http://${rogue.host}/token`);
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out()], {
        env: env(),
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(rogue.seen.length >= 1);
      assert.ok(rogue.seen.every((q) => q.authorization === undefined && q.method === "GET"));
    });

    test("control: a realm on the loopback registry's own host:port over HTTP does get the password", async () => {
      const reg = await server();
      bearerRegistry(reg, () => `http://${reg.host}/token`);
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out()], {
        env: env(reg.host, basic),
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(reg.seen.some((q) => q.url.startsWith("/token") && basicOk(q)));
    });

    for (const scheme of ["basic", "bearer"] as const) {
      test(`redirects (${scheme}): Authorization goes neither to a storage host nor to the registry's host downgraded to http`, async () => {
        const storage = await server();
        storage.handle = (q, res) => {
          res.writeHead(200, { "Content-Length": String(img.layer.length) }).end(img.layer);
          void q;
        };
        const reg = await server({ tls, plainToo: true });
        reg.handle = (q, res) => {
          // What the redirects point at: served to anyone (storage URLs are pre-signed).
          if (q.url === "/plain/config") {
            res.writeHead(200, { "Content-Length": String(img.config.length) }).end(img.config);
            return;
          }
          if (q.url.startsWith("/token")) {
            if (!basicOk(q)) return unauthorized(res, 'Basic realm="x"');
            res.writeHead(200, { "Content-Type": "application/json" }).end('{"token":"bearer-secret-42"}');
            return;
          }
          const authed = scheme === "basic" ? basicOk(q) : q.authorization === "Bearer bearer-secret-42";
          if (!authed)
            return unauthorized(
              res,
              scheme === "basic"
                ? 'Basic realm="hostile"'
                : `Bearer realm="https://${reg.host}/token",service="h"`,
            );
          if (q.url.endsWith(`/blobs/${img.layerDigest}`)) {
            res.writeHead(307, { Location: `http://${storage.host}/layer?sig=1` }).end();
            return;
          }
          if (q.url.endsWith(`/blobs/${img.configDigest}`)) {
            res.writeHead(307, { Location: `http://${reg.host}/plain/config` }).end();
            return;
          }
          if (!serveImage(img, q, res)) res.writeHead(404).end();
        };
        const r = await zerodepAsync(
          ["pull", `${reg.host}/team/app:v1`, "--out", out(), "--ca-file", tls.caFile],
          {
            env: env(reg.host, basic),
            timeoutMs: 30_000,
          },
        );
        assert.equal(r.code, 0, r.stderr);
        // The redirects were followed, without any Authorization header …
        assert.ok(storage.seen.length >= 1);
        assert.deepEqual(
          storage.seen.map((q) => q.authorization),
          storage.seen.map(() => undefined),
        );
        const plain = reg.seen.filter((q) => q.protocol === "http");
        assert.ok(plain.length >= 1 && plain.every((q) => q.url === "/plain/config"));
        assert.deepEqual(
          plain.map((q) => q.authorization),
          plain.map(() => undefined),
        );
        // … while the registry itself did get the credential over TLS (so the test means something).
        assert.ok(reg.seen.some((q) => q.protocol === "https" && q.authorization !== undefined));
      });
    }
  });

  describe("401 loops end, with one line", () => {
    test("Basic: a registry that answers 401 to everything: a handful of requests, then exit 3", async () => {
      const reg = await server({ tls });
      reg.handle = (_q, res) => unauthorized(res, 'Basic realm="forever"');
      const r = await zerodepAsync(
        ["pull", `${reg.host}/team/app:v1`, "--out", out(), "--ca-file", tls.caFile],
        {
          env: env(reg.host, basic),
          timeoutMs: 30_000,
        },
      );
      failedCleanly(r);
      assert.match(r.stderr, /401/);
      // The ping, the request, its one re-authenticated retry.
      assert.ok(reg.seen.length <= 3, `${reg.seen.length} requests`);
    });

    test("Bearer: tokens issued, but every request still 401: bounded token fetches, exit 3", async () => {
      const reg = await server({ tls });
      reg.handle = (q, res) => {
        if (q.url.startsWith("/token")) {
          res.writeHead(200, { "Content-Type": "application/json" }).end('{"token":"useless"}');
          return;
        }
        unauthorized(res, `Bearer realm="https://${reg.host}/token",service="loop"`);
      };
      const r = await zerodepAsync(
        ["pull", `${reg.host}/team/app:v1`, "--out", out(), "--ca-file", tls.caFile],
        {
          env: env(reg.host, basic),
          timeoutMs: 30_000,
        },
      );
      failedCleanly(r);
      assert.match(r.stderr, /401/);
      // The ping, a token, the request, a fresh token, the retry.
      assert.ok(reg.seen.filter((q) => q.url.startsWith("/token")).length <= 2);
      assert.ok(reg.seen.length <= 5, `${reg.seen.length} requests`);
    });
  });

  describe("bodies that trickle, never end, or lie", () => {
    test("a manifest sent one byte a second (never idle): --timeout 3s ends the pull with one line", async () => {
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.includes("/manifests/"))
          trickle(
            res,
            200,
            { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
            img.manifest,
            1000,
          );
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out(), "--timeout", "3s"], {
        env: env(),
        timeoutMs: 20_000,
      });
      failedCleanly(r);
      assert.match(r.stderr, /time budget \(3 s\) ran out/);
    });

    test("a layer sent one byte a second: --timeout 3s ends the pull; nothing is left in the output", async () => {
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.endsWith(`/blobs/${img.layerDigest}`))
          trickle(res, 200, { "Content-Length": String(img.layer.length) }, img.layer, 1000);
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const dir = join(work, "slow-layer");
      const r = await zerodepAsync(
        ["pull", `${reg.host}/team/app:v1`, "--out", `oci:${dir}:v1`, "--timeout", "3s"],
        {
          env: env(),
          timeoutMs: 20_000,
        },
      );
      failedCleanly(r);
      assert.match(r.stderr, /time budget \(3 s\) ran out/);
      assert.ok(!existsSync(join(dir, "index.json")));
    });

    test("library: a manifest slower than documentTimeoutMs fails with DEADLINE_EXCEEDED (no --timeout needed)", async () => {
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.includes("/manifests/"))
          trickle(
            res,
            200,
            { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
            img.manifest,
            500,
          );
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      await assert.rejects(
        pull(`${reg.host}/team/app:v1`, out(), { documentTimeoutMs: 1500, retries: 0, env: env() }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "DEADLINE_EXCEEDED");
          assert.match(e.message, /not complete after 1\.5 s/);
          return true;
        },
      );
    });

    test("a manifest that never ends: refused at the 16 MiB JSON cap", async () => {
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.includes("/manifests/"))
          endless(res, 200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" });
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out()], {
        env: env(),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      assert.match(r.stderr, /over 16777216 bytes/);
    });

    test("a layer that never ends (no Content-Length): refused past the descriptor's size", async () => {
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.endsWith(`/blobs/${img.layerDigest}`)) endless(res, 200, {}, 0);
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out()], {
        env: env(),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      // The layout writer hashes what it is given and stops at the descriptor's size (plus one chunk).
      assert.match(
        r.stderr,
        new RegExp(`digest mismatch: expected ${img.layerDigest}|${img.layerDigest}.*more than`),
      );
    });

    test("a Content-Length bigger than the descriptor: refused before the body is read", async () => {
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.endsWith(`/blobs/${img.layerDigest}`))
          endless(res, 200, { "Content-Length": String(2 ** 40) }, 0);
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out()], {
        env: env(),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      assert.match(r.stderr, /sends 1099511627776 bytes, the descriptor says 1024/);
    });

    test("a Content-Length that promises more than is sent (connection then cut, every time): bounded resumes, exit 3", async () => {
      const reg = await server();
      reg.handle = (q, res, raw) => {
        if (q.url.endsWith(`/blobs/${img.layerDigest}`)) {
          res.writeHead(200, { "Content-Length": String(img.layer.length) });
          res.write(img.layer.subarray(0, 100), () => raw.socket.destroy());
        } else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out(), "--retries", "2"], {
        env: env(),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      const layerGets = reg.seen.filter((q) => q.url.endsWith(`/blobs/${img.layerDigest}`)).length;
      assert.ok(layerGets >= 2 && layerGets <= 3, `${layerGets} GETs of the layer`);
    });
  });

  describe("caps on what one document may list", () => {
    test("a manifest with 100 000 layers is refused at once (TOO_MANY_LAYERS): no blob is asked for", async () => {
      const layer = {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: img.layerDigest,
        size: 1024,
      };
      const huge = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: img.configDigest,
            size: img.config.length,
          },
          layers: Array.from({ length: 100_000 }, () => layer),
        }),
      );
      assert.ok(
        huge.length < 16 << 20,
        "the manifest fits under the JSON cap: the layer cap is what refuses it",
      );
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.includes("/manifests/"))
          res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }).end(huge);
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["pull", `${reg.host}/team/app:v1`, "--out", out()], {
        env: env(),
        timeoutMs: 30_000,
      });
      failedCleanly(r);
      assert.match(r.stderr, /lists 100000 layers, more than the 1000 allowed/);
      assert.ok(!reg.seen.some((q) => q.url.includes("/blobs/")));
    });

    test("an index with 5 000 manifests is refused at once (TOO_MANY_MANIFESTS)", async () => {
      const entry = {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: img.manifestDigest,
        size: img.manifest.length,
        platform: { os: "linux", architecture: "amd64" },
      };
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: Array.from({ length: 5000 }, () => entry),
        }),
      );
      const reg = await server();
      reg.handle = (q, res) => {
        if (q.url.endsWith("/manifests/v1"))
          res.writeHead(200, { "Content-Type": "application/vnd.oci.image.index.v1+json" }).end(index);
        else if (!serveImage(img, q, res)) res.writeHead(404).end();
      };
      const r = await zerodepAsync(["inspect", `${reg.host}/team/app:v1`], { env: env(), timeoutMs: 30_000 });
      failedCleanly(r);
      assert.match(r.stderr, /lists 5000 manifests, more than the 1000 allowed/);
    });
  });
});
