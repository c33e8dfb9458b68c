import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { DigestingStream, isDigest, sha256 } from "../../src/oci/digest.js";
import { familyOf, MediaType } from "../../src/oci/media-types.js";
import { needs } from "../helpers/env.js";

function sha256sum(bytes: Uint8Array): string {
  const r = spawnSync("sha256sum", ["-b", "-"], { input: bytes, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return `sha256:${r.stdout.split(" ")[0]}`;
}

test("sha256 and DigestingStream agree with sha256sum", { skip: needs({ tools: ["sha256sum"] }) }, () => {
  for (const bytes of [new Uint8Array(0), new TextEncoder().encode("abc"), randomBytes(300_001)]) {
    const want = sha256sum(bytes);
    assert.equal(sha256(bytes), want);
    // Chunked, through a subarray view with a non-zero byteOffset.
    const backing = new Uint8Array(bytes.length + 7);
    backing.set(bytes, 7);
    const view = backing.subarray(7);
    const ds = new DigestingStream();
    for (let i = 0; i < view.length; i += 4093) ds.update(view.subarray(i, i + 4093));
    assert.equal(ds.digest, want);
    assert.equal(ds.digest, want, "reading digest twice gives the same answer");
    assert.equal(ds.size, bytes.length);
  }
  assert.equal(
    sha256(new Uint8Array(0)),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

test("DigestingStream.passThrough yields the stream unchanged", async () => {
  const chunks = [new Uint8Array([1, 2]), new Uint8Array([3])];
  async function* src() {
    yield* chunks;
  }
  const ds = new DigestingStream();
  const seen: Uint8Array[] = [];
  for await (const c of ds.passThrough(src())) seen.push(c);
  assert.deepEqual(seen, chunks);
  assert.equal(ds.digest, sha256(new Uint8Array([1, 2, 3])));
  assert.equal(ds.size, 3);
});

test("isDigest: sha256 and 64 lowercase hex only", () => {
  const hex = "a".repeat(64);
  assert.ok(isDigest(`sha256:${hex}`));
  for (const bad of [
    `sha256:${"A".repeat(64)}`,
    `sha256:${hex}0`,
    `sha256:${hex.slice(1)}`,
    `sha512:${hex}`,
    hex,
    `sha256:../../${hex.slice(6)}`,
    ` sha256:${hex}`,
    `sha256:${hex}\n`,
  ]) {
    assert.equal(isDigest(bad), false, JSON.stringify(bad));
  }
});

test("familyOf: by prefix, null for foreign types", () => {
  for (const [k, v] of Object.entries(MediaType))
    assert.equal(familyOf(v), k.startsWith("oci") ? "oci" : "docker", k);
  assert.equal(familyOf("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"), "oci");
  assert.equal(familyOf("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), "docker");
  assert.equal(familyOf("application/vnd.cncf.helm.config.v1+json"), null);
  assert.equal(familyOf(""), null);
});
