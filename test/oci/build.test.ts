import assert from "node:assert/strict";
import { test } from "node:test";
import { ZerodepError } from "../../src/errors.js";
import { buildConfig, buildIndex, buildManifest } from "../../src/oci/build.js";
import { canonicalJson } from "../../src/oci/canonical-json.js";
import { type Digest, sha256 } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { ImageConfig, Manifest } from "../../src/oci/types.js";

const d1 = sha256(new Uint8Array([1]));
const d2 = sha256(new Uint8Array([2]));
const config: ImageConfig = {
  architecture: "amd64",
  os: "linux",
  created: "1970-01-01T00:00:00Z",
  config: { Entrypoint: ["/app"], Env: ["PATH=/"], User: "65532:65532" },
  rootfs: { type: "layers", diff_ids: [d1] },
  history: [{ created: "1970-01-01T00:00:00Z", created_by: "zerodep" }],
};
const manifest: Manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: d1, size: 1 },
  layers: [{ mediaType: MediaType.ociLayerGzip, digest: d2, size: 1 }],
};

const code = (c: string) => (e: unknown) => e instanceof ZerodepError && e.code === c;

test("builders emit canonical JSON regardless of how the object was assembled", () => {
  assert.deepEqual(buildConfig(config), canonicalJson(config));
  const shuffled = {
    layers: manifest.layers,
    config: { size: 1, digest: d1, mediaType: MediaType.ociConfig },
    mediaType: manifest.mediaType,
    schemaVersion: 2,
  } as Manifest;
  assert.deepEqual(buildManifest(shuffled), buildManifest(manifest));
  assert.equal(
    new TextDecoder().decode(buildManifest(manifest)),
    `{"config":{"digest":"${d1}","mediaType":"${MediaType.ociConfig}","size":1},` +
      `"layers":[{"digest":"${d2}","mediaType":"${MediaType.ociLayerGzip}","size":1}],` +
      `"mediaType":"${MediaType.ociManifest}","schemaVersion":2}`,
  );
  const idx = buildIndex({
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ ...manifest.config }],
  });
  assert.deepEqual(JSON.parse(new TextDecoder().decode(idx)).manifests[0].digest, d1);
});

test("buildConfig refuses configs runtimes would reject", () => {
  assert.throws(() => buildConfig({ ...config, os: "" }), code("CONFIG_INVALID"));
  assert.throws(
    () => buildConfig({ ...config, rootfs: { type: "layers", diff_ids: ["sha256:xyz" as Digest] } }),
    code("CONFIG_INVALID"),
  );
  assert.throws(() => buildConfig({ ...config, history: [] }), /0 non-empty history entries for 1 layers/);
  // Empty-layer history entries do not count.
  buildConfig({ ...config, history: [{ empty_layer: true, created_by: "ENV" }, ...(config.history ?? [])] });
});

test("buildManifest refuses mixed media families and bad descriptors", () => {
  assert.throws(
    () =>
      buildManifest({ ...manifest, layers: [{ mediaType: MediaType.dockerLayerGzip, digest: d2, size: 1 }] }),
    code("MEDIA_FAMILY_MIXED"),
  );
  assert.throws(
    () => buildManifest({ ...manifest, mediaType: MediaType.dockerManifest }),
    (e: unknown) =>
      code("MEDIA_FAMILY_MIXED")(e) && /config is application\/vnd\.oci/.test((e as Error).message),
  );
  buildManifest({
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: d1, size: 1 },
    layers: [{ mediaType: MediaType.dockerLayerGzip, digest: d2, size: 1 }],
  });
  assert.throws(
    () => buildManifest({ ...manifest, mediaType: MediaType.ociIndex }),
    code("MANIFEST_INVALID"),
  );
  assert.throws(
    () => buildManifest({ ...manifest, layers: [{ mediaType: MediaType.ociLayer, digest: d2, size: -1 }] }),
    (e: unknown) => code("DESCRIPTOR_INVALID")(e) && /layers\[0\]\.size/.test((e as Error).message),
  );
  assert.throws(
    () =>
      buildManifest({ ...manifest, config: { ...manifest.config, digest: "sha256:../../etc" as Digest } }),
    code("DESCRIPTOR_INVALID"),
  );
});

test("buildIndex: a Docker manifest list cannot name OCI manifests; an OCI index may name either", () => {
  const oci = { mediaType: MediaType.ociManifest, digest: d1, size: 1 };
  const docker = { mediaType: MediaType.dockerManifest, digest: d2, size: 1 };
  assert.throws(
    () => buildIndex({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [oci] }),
    code("MEDIA_FAMILY_MIXED"),
  );
  buildIndex({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [oci, docker] });
  assert.throws(
    () => buildIndex({ schemaVersion: 2, mediaType: MediaType.ociManifest, manifests: [] }),
    code("INDEX_INVALID"),
  );
});
