import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { copy, pull, push } from "../../src/transfer/copy.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs } from "../helpers/env.js";
import { runAsync, zerodepAsync } from "./cli-async-for-tests.js";
import { startRegistry, type TestRegistry } from "./registry-for-tests.js";
import { startTokenIssuer, type TokenIssuer } from "./token-issuer-for-tests.js";

const skip = needs({ tools: ["docker-registry", "skopeo", "openssl"], fixtures: ["go-static"] });

const USER = "alice";
const PASSWORD = "tok-Pw-71!";

describe("registry with Bearer token auth (distribution `auth: token` + an ES256 x5c issuer)", {
  skip,
  timeout: 180_000,
}, () => {
  let reg: TestRegistry;
  let issuer: TokenIssuer;
  let work: string;
  let one: string;
  const basic = () => ({
    caFiles: [issuer.caFile],
    credentials: { [reg.host]: { kind: "basic" as const, username: USER, password: PASSWORD } },
  });
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "zerodep-token-"));

    issuer = await startTokenIssuer(
      work,
      { [USER]: PASSWORD },
      { issueRefreshTokens: true, anonymousPull: true },
    );
    reg = await startRegistry({
      kind: "token",
      realm: issuer.realm,
      service: issuer.service,
      issuer: issuer.issuer,
      rootCertFile: issuer.certFile,
    });
    one = `oci:${join(work, "one")}:v1`;
    const p = zerodep(["pack", fixture("go-static"), "--out", one, "--ca-certs", "none", "--tzdata", "none"]);
    assert.equal(p.code, 0, p.stderr);
  });
  after(async () => {
    await reg?.stop();
    await issuer?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("push: one token per scope set (pull,push on the repository), fetched with Basic credentials", async () => {
    issuer.requests.length = 0;
    const r = await push(one, `${reg.host}/team/app:v1`, basic());
    const raw = (
      await runAsync("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        `${USER}:${PASSWORD}`,
        `docker://${reg.host}/team/app:v1`,
      ])
    ).stdout;
    assert.equal(r.digest, `sha256:${createHash("sha256").update(raw).digest("hex")}`);
    assert.ok(
      issuer.requests.some((q) => q.grant === "basic" && q.scopes.includes("repository:team/app:pull,push")),
    );
    // Concurrent blob uploads share one token request for the same scopes.
    const same = issuer.requests.filter(
      (q) => q.scopes.join(" ") === "repository:team/app:pull,push" && q.grant === "basic",
    );
    assert.equal(same.length, 1);
  });

  test("cross-repository mount asks for pull on the source repository in the same token", async () => {
    issuer.requests.length = 0;
    const r = await copy(`${reg.host}/team/app:v1`, `${reg.host}/other/app:v1`, basic());
    assert.ok(
      r.blobs.every((b) => b.action === "mounted"),
      JSON.stringify(r.blobs),
    );
    assert.ok(
      issuer.requests.some(
        (q) =>
          q.scopes.includes("repository:team/app:pull") &&
          q.scopes.includes("repository:other/app:pull,push"),
      ),
      JSON.stringify(issuer.requests),
    );
  });

  test("refresh tokens: after the first token, later ones come from the OAuth2 refresh grant", () => {
    // The copy above received refresh tokens; the issuer saw refresh_token grants for later scopes.
    assert.ok(issuer.refreshTokens.size > 0);
    assert.ok(issuer.requests.some((q) => q.grant === "refresh_token" && q.account === USER));
  });

  test("an identity token in config.json is used as a refresh token (POST grant_type=refresh_token)", async () => {
    const rt = [...issuer.refreshTokens][0]!;
    const cfgDir = join(work, "idtoken");
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(
      join(cfgDir, "config.json"),
      JSON.stringify({ auths: { [reg.host]: { auth: "", identitytoken: rt } } }),
    );
    issuer.requests.length = 0;
    const out = join(work, "pulled-id");
    const r = await zerodepAsync(
      ["pull", `${reg.host}/team/app:v1`, "--out", `oci:${out}:v1`, "--ca-file", issuer.caFile],
      {
        env: {
          HOME: join(work, "nohome"),
          DOCKER_CONFIG: cfgDir,
          REGISTRY_AUTH_FILE: "",
          XDG_RUNTIME_DIR: "",
          XDG_CONFIG_HOME: "",
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(issuer.requests.length > 0 && issuer.requests.every((q) => q.grant === "refresh_token"));
    await runAsync("skopeo", ["copy", `oci:${out}:v1`, `oci:${join(work, "verify-id")}:v1`]);
  });

  test("anonymous: pull is allowed by the issuer, push is refused with a clear 401", async () => {
    const out = join(work, "anon");
    const r = await pull(`${reg.host}/team/app:v1`, `oci:${out}:v1`, { caFiles: [issuer.caFile] });
    assert.match(r.digest, /^sha256:/);
    await assert.rejects(
      push(one, `${reg.host}/team/anon:v1`, { retries: 0, caFiles: [issuer.caFile] }),
      (e: Error) => {
        assert.match(e.message, /401/);
        assert.match(e.message, /zerodep login/);
        return true;
      },
    );
  });

  test("wrong password: the token service refuses, the message names no secret", async () => {
    await assert.rejects(
      push(one, `${reg.host}/team/x:v1`, {
        retries: 0,
        caFiles: [issuer.caFile],
        credentials: { [reg.host]: { kind: "basic", username: USER, password: "nope-secret-123" } },
      }),
      (e: Error) => {
        assert.match(e.message, /token service .* refused the stored credentials/);
        assert.ok(!e.message.includes("nope-secret-123"));
        return true;
      },
    );
  });

  test("skopeo pushes with a token, zerodep pulls: identical digest", async () => {
    await runAsync("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `${USER}:${PASSWORD}`,
      one,
      `docker://${reg.host}/team/sk:v1`,
    ]);
    const raw = (
      await runAsync("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        `${USER}:${PASSWORD}`,
        `docker://${reg.host}/team/sk:v1`,
      ])
    ).stdout;
    const r = await pull(`${reg.host}/team/sk:v1`, `oci:${join(work, "sk")}:v1`, basic());
    assert.equal(r.digest, `sha256:${createHash("sha256").update(raw).digest("hex")}`);
  });
});
