import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseReference } from "../../src/oci/distribution-reference.js";
import { parseChallenges } from "../../src/registry/challenge.js";
import { findCredential } from "../../src/registry/credentials.js";

// Expected values are Docker's documented normalisation (distribution/reference ParseNormalizedNamed,
// `docker pull` docs), not our own output.
test("references normalise as Docker does", () => {
  const cases: [string, string, string, string, string | undefined, string | undefined][] = [
    ["alpine", "docker.io", "registry-1.docker.io", "library/alpine", "latest", undefined],
    ["docker.io/alpine:3.19", "docker.io", "registry-1.docker.io", "library/alpine", "3.19", undefined],
    ["index.docker.io/user/app", "docker.io", "registry-1.docker.io", "user/app", "latest", undefined],
    ["user/app:v1", "docker.io", "registry-1.docker.io", "user/app", "v1", undefined],
    ["localhost/app", "localhost", "localhost", "app", "latest", undefined],
    ["localhost:5000/a/b:t", "localhost:5000", "localhost:5000", "a/b", "t", undefined],
    [
      "ghcr.io/o/r/x@sha256:" + "a".repeat(64),
      "ghcr.io",
      "ghcr.io",
      "o/r/x",
      undefined,
      `sha256:${"a".repeat(64)}`,
    ],
    ["docker://127.0.0.1:5000/x:1", "127.0.0.1:5000", "127.0.0.1:5000", "x", "1", undefined],
    ["[::1]:5000/x", "[::1]:5000", "[::1]:5000", "x", "latest", undefined],
    ["Host/x", "Host", "Host", "x", "latest", undefined],
  ];
  for (const [input, registry, apiHost, repository, tag, digest] of cases) {
    assert.deepEqual(parseReference(input), { registry, apiHost, repository, tag, digest }, input);
  }
});

test("invalid references are one clear UsageError", () => {
  for (const bad of [
    "",
    "Alpine",
    "a//b",
    "x:",
    "x@sha256:abc",
    "x:-bad",
    "a/b:t@md5:00",
    `${"a".repeat(256)}`,
  ]) {
    assert.throws(
      () => parseReference(bad),
      (e: Error & { code?: string }) => e.code === "REFERENCE_INVALID",
      bad,
    );
  }
});

test("WWW-Authenticate: quoted commas, several challenges, case", () => {
  const [c] = parseChallenges(
    'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
  );
  assert.deepEqual(c, {
    scheme: "bearer",
    params: {
      realm: "https://auth.example/token",
      service: "registry.example",
      scope: "repository:a/b:pull,push",
    },
  });
  const two = parseChallenges('Basic realm="x y", BEARER Realm=https://t/token, error="invalid_token"');
  assert.deepEqual(
    two.map((x) => x.scheme),
    ["basic", "bearer"],
  );
  assert.equal(two[1]!.params.realm, "https://t/token");
  assert.equal(two[1]!.params.error, "invalid_token");
  assert.deepEqual(parseChallenges('Bearer realm="unterminated'), [
    { scheme: "bearer", params: { realm: "unterminated" } },
  ]);
  assert.deepEqual(parseChallenges(""), []);
});

test("credentials: REGISTRY_AUTH_FILE before podman's auth.json before Docker's config; helpers before auths", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zerodep-creds-"));
  try {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const regFile = join(dir, "reg-auth.json");
    writeFileSync(regFile, JSON.stringify({ auths: { "a.example": { auth: b64("ra:1") } } }));
    mkdirSync(join(dir, "run", "containers"), { recursive: true });
    writeFileSync(
      join(dir, "run", "containers", "auth.json"),
      JSON.stringify({
        auths: { "a.example": { auth: b64("podman:2") }, "b.example/team": { auth: b64("ns:3") } },
      }),
    );
    mkdirSync(join(dir, "docker"));
    writeFileSync(
      join(dir, "docker", "config.json"),
      JSON.stringify({
        auths: { "https://index.docker.io/v1/": { auth: b64("hub:4") }, "c.example": { auth: b64("c:5") } },
        credHelpers: { "c.example": "zdunit" },
      }),
    );
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "docker-credential-zdunit"),
      '#!/bin/sh\nread s\nprintf \'{"Username":"<token>","Secret":"rt-%s"}\' "$s"\n',
    );
    chmodSync(join(bin, "docker-credential-zdunit"), 0o755);
    const env = {
      REGISTRY_AUTH_FILE: regFile,
      XDG_RUNTIME_DIR: join(dir, "run"),
      DOCKER_CONFIG: join(dir, "docker"),
      PATH: `${bin}:/usr/bin:/bin`,
    };
    assert.deepEqual((await findCredential("a.example", "x", { env }))?.credential, {
      kind: "basic",
      username: "ra",
      password: "1",
    });
    assert.deepEqual(
      (await findCredential("a.example", "x", { env: { ...env, REGISTRY_AUTH_FILE: "" } }))?.credential,
      {
        kind: "basic",
        username: "podman",
        password: "2",
      },
    );
    // podman's per-namespace keys: only for repositories under that namespace.
    assert.equal((await findCredential("b.example", "team/app", { env }))?.credential.kind, "basic");
    assert.equal(await findCredential("b.example", "other/app", { env }), undefined);
    assert.deepEqual((await findCredential("docker.io", "library/alpine", { env }))?.credential, {
      kind: "basic",
      username: "hub",
      password: "4",
    });
    // credHelpers wins over auths; "<token>" is an identity token.
    const h = await findCredential("c.example", "x", { env });
    assert.deepEqual(h, {
      credential: { kind: "identityToken", token: "rt-c.example" },
      source: "docker-credential-zdunit",
    });
    assert.equal(await findCredential("d.example", "x", { env }), undefined);
    assert.equal(
      await findCredential("a.example", "x", {}),
      undefined,
      "no env: anonymous, process.env is not read",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
