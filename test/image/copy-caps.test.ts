import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { zerodep } from "../helpers/cli.js";

/** Writes a blob into an OCI layout by hand and returns its descriptor fields. */
function blob(dir: string, bytes: Buffer) {
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(dir, "blobs", "sha256", hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

test("copy and push refuse a local manifest listing more layers than the cap, before any blob is copied", () => {
  const work = mkdtempSync(join(tmpdir(), "zd-caps-"));
  const src = join(work, "src");
  mkdirSync(join(src, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(src, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const n = 1001; // one over MAX_MANIFEST_LAYERS
  const fake = (i: number) => `sha256:${i.toString(16).padStart(64, "0")}`;
  const config = blob(
    src,
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: {},
        rootfs: { type: "layers", diff_ids: Array.from({ length: n }, (_, i) => fake(i)) },
      }),
    ),
  );
  const manifest = blob(
    src,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: Array.from({ length: n }, (_, i) => ({
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: fake(i),
          size: 1,
        })),
      }),
    ),
  );
  writeFileSync(
    join(src, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
      ],
    }),
  );
  const dest = join(work, "dest");
  const r = zerodep(["copy", `oci:${src}:v1`, `oci:${dest}:v1`]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /TOO_MANY_LAYERS|1001 layers, more than the 1000 allowed/);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  assert.equal(existsSync(join(dest, "index.json")), false, "nothing committed");
});
