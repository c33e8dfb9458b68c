import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { IoError, ParseError, ZerodepError } from "../../src/errors.js";
import { sha256 } from "../../src/oci/digest.js";
import { LayoutReader, LayoutWriter, REF_NAME } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { needs } from "../helpers/env.js";
import { leftovers, makeLayerTar, putImage, snapshot, type TestImage } from "./image-for-tests.js";

const skip = needs({ tools: ["tar"] });

/** A fresh work directory holding a committed layout with one image tagged v1. */
async function fixture(t: { after: (fn: () => void) => void }) {
  const work = mkdtempSync(join(tmpdir(), "zerodep-layout-err-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, "layout");
  const tar = makeLayerTar(work, "one", { "bin/app": "#!/bin/sh\necho one\n" });
  const w = await LayoutWriter.open(dir);
  const img = await putImage(w, tar, "v1", ["/bin/app"]);
  await w.commit();
  return { work, dir, img, tar2: makeLayerTar(work, "two", { "bin/app": "#!/bin/sh\necho two\n" }) };
}

function isErr(cls: abstract new (...args: never[]) => ZerodepError, code: string, ...mentions: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as ZerodepError).code, code, (e as Error).message);
    for (const m of mentions)
      assert.ok((e as Error).message.includes(m), `"${(e as Error).message}" should mention ${m}`);
    return true;
  };
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.byteLength;
  return n;
}

test("atomicity: abort() after writing blobs and refs leaves the old layout byte-identical", {
  skip,
}, async (t) => {
  const { work, dir, tar2 } = await fixture(t);
  const before = snapshot(dir);
  const w = await LayoutWriter.open(dir);
  assert.equal(leftovers(work).length, 1, "the writer stages next to the layout");
  await putImage(w, tar2, "v1", ["/bin/app"]);
  await w.abort();
  await w.abort(); // idempotent
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual(leftovers(work), []);
  await assert.rejects(w.putBlob(new Uint8Array([1])), isErr(ZerodepError, "WRITER_CLOSED"));
});

test("atomicity: a source stream that throws mid-blob keeps nothing; the layout is untouched", {
  skip,
}, async (t) => {
  const { work, dir } = await fixture(t);
  const before = snapshot(dir);
  const w = await LayoutWriter.open(dir);
  async function* failing() {
    yield randomBytes(1 << 20);
    throw new Error("network gone");
  }
  await assert.rejects(w.putBlob(failing()), /network gone/);
  const [tmp] = leftovers(work);
  assert.deepEqual(
    readdirSync(join(work, tmp!, "blobs"), { recursive: true }),
    ["sha256"],
    "partial blob removed",
  );
  await w.abort();
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual(leftovers(work), []);
});

test("atomicity: a writer that dies before commit leaves the old layout intact and readable", {
  skip,
}, async (t) => {
  const { work, dir, tar2, img } = await fixture(t);
  const before = snapshot(dir);
  const w = await LayoutWriter.open(dir);
  await putImage(w, tar2, "v1", ["/bin/app"]);
  // No commit, no abort: what a killed process leaves.
  assert.deepEqual(snapshot(dir), before);
  assert.equal((await LayoutReader.open(dir)).resolveRef("v1").digest, img.manifest.digest);
  assert.equal(leftovers(work).length, 1, "its staging directory is beside the layout, not inside it");
  await w.abort();
});

test("atomicity: a commit that fails (index entry without a blob) keeps the old layout and cleans up", {
  skip,
}, async (t) => {
  const { work, dir } = await fixture(t);
  const before = snapshot(dir);
  const w = await LayoutWriter.open(dir);
  const ghost = sha256(randomBytes(8));
  w.setRef({ mediaType: MediaType.ociManifest, digest: ghost, size: 8 }, "ghost");
  await assert.rejects(w.commit(), isErr(ParseError, "BLOB_MISSING", ghost));
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual(leftovers(work), []);
});

test("new layout: abort leaves nothing; commit into an existing empty directory works", {
  skip,
}, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "zerodep-layout-new-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, "sub", "new");
  const w = await LayoutWriter.open(dir);
  await w.putBlob(new Uint8Array([1, 2, 3]));
  await w.abort();
  assert.equal(existsSync(dir), false);
  assert.deepEqual(leftovers(join(work, "sub")), []);

  mkdirSync(dir);
  const w2 = await LayoutWriter.open(dir);
  const img: TestImage = await putImage(w2, makeLayerTar(work, "l", { a: "a" }), "latest", ["/a"]);
  await w2.commit();
  const r = await LayoutReader.open(dir);
  assert.equal(r.resolveRef().digest, img.manifest.digest, "the only image, no tag needed");
  assert.equal(r.resolveRef("latest").digest, img.manifest.digest);
  assert.deepEqual(leftovers(join(work, "sub")), []);
});

test("putBlob with a wrong expected digest: DIGEST_MISMATCH and no blob kept", { skip }, async (t) => {
  const { dir } = await fixture(t);
  const before = snapshot(dir);
  const bytes = randomBytes(4096);
  const wrong = sha256(randomBytes(4096));
  const w = await LayoutWriter.open(dir);
  await assert.rejects(w.putBlob(bytes, wrong), isErr(ParseError, "DIGEST_MISMATCH", wrong, sha256(bytes)));
  await assert.rejects(w.putBlob(bytes, "sha256:nope" as never), isErr(ZerodepError, "DIGEST_INVALID"));
  await w.commit();
  assert.equal(existsSync(join(dir, "blobs", "sha256", sha256(bytes).slice(7))), false);
  // Re-committing our own canonical index.json with no changes reproduces it byte for byte.
  assert.deepEqual(snapshot(dir), before);
});

test("concurrent writers: both images survive (the index is merged at commit time)", { skip }, async (t) => {
  const { work, dir, tar2 } = await fixture(t);
  const a = await LayoutWriter.open(dir);
  const b = await LayoutWriter.open(dir);
  const ia = await putImage(a, tar2, "a", ["/a"]);
  const ib = await putImage(b, makeLayerTar(work, "three", { c: "c" }), "b", ["/b"]);
  await a.commit();
  await b.commit();
  const r = await LayoutReader.open(dir);
  assert.deepEqual(
    r.index.manifests.map((d) => d.annotations?.[REF_NAME]),
    ["v1", "a", "b"],
  );
  assert.equal(r.resolveRef("a").digest, ia.manifest.digest);
  assert.equal(r.resolveRef("b").digest, ib.manifest.digest);
});

test("setRef: invalid ref names refused; untagged entries are not duplicated; unknown fields survive", {
  skip,
}, async (t) => {
  const { dir, img } = await fixture(t);
  // Another tool stored fields we do not model.
  const idx = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  idx.annotations = { "org.example": "kept" };
  idx.manifests[0].artifactType = "application/x-kept";
  writeFileSync(join(dir, "index.json"), JSON.stringify(idx, null, 2));
  const w = await LayoutWriter.open(dir);
  assert.throws(() => w.setRef(img.manifest, "bad tag!"), isErr(ZerodepError, "REF_NAME_INVALID"));
  assert.throws(
    () => w.setRef({ ...img.manifest, size: -1 }, "x"),
    isErr(ZerodepError, "DESCRIPTOR_INVALID"),
  );
  w.setRef(img.manifest);
  w.setRef(img.manifest);
  w.setRef(img.manifest, "registry.example.com/app:1.0--rc_1");
  await w.commit();
  const r = await LayoutReader.open(dir);
  assert.deepEqual(
    r.index.manifests.map((d) => d.annotations?.[REF_NAME] ?? null),
    ["v1", null, "registry.example.com/app:1.0--rc_1"],
  );
  assert.deepEqual(r.index.annotations, { "org.example": "kept" });
  assert.equal(
    (r.index.manifests[0] as unknown as { artifactType: string }).artifactType,
    "application/x-kept",
  );
  assert.throws(() => r.resolveRef("nope"), isErr(ZerodepError, "REF_NOT_FOUND", "nope", "v1", "(untagged"));
});

test("corrupt layouts: clear ParseErrors naming the file", { skip }, async (t) => {
  const { dir } = await fixture(t);
  const indexFile = join(dir, "index.json");
  const good = readFileSync(indexFile);
  const both = async (check: (e: unknown) => boolean) => {
    await assert.rejects(LayoutWriter.open(dir), check);
    await assert.rejects(LayoutReader.open(dir), check);
  };

  writeFileSync(indexFile, "{not json");
  await both(isErr(ParseError, "INDEX_INVALID", indexFile, "not valid JSON"));
  writeFileSync(indexFile, JSON.stringify({ schemaVersion: 1, manifests: [] }));
  await both(isErr(ParseError, "INDEX_INVALID", indexFile, "schemaVersion"));
  writeFileSync(
    indexFile,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: MediaType.ociManifest, digest: "sha256:../../../etc/passwd", size: 1 }],
    }),
  );
  await both(isErr(ParseError, "INDEX_INVALID", indexFile, "manifests[0].digest", "malformed"));
  writeFileSync(
    indexFile,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: MediaType.ociManifest, digest: `sha512:${"a".repeat(128)}`, size: 1 }],
    }),
  );
  await both(isErr(ParseError, "INDEX_INVALID", "unsupported digest"));
  rmSync(indexFile);
  await both(isErr(ParseError, "INDEX_MISSING", indexFile));
  writeFileSync(indexFile, good);

  const layoutFile = join(dir, "oci-layout");
  writeFileSync(layoutFile, '{"imageLayoutVersion":"2.0.0"}');
  await both(isErr(ParseError, "OCI_LAYOUT_VERSION", layoutFile, "2.0.0"));
  writeFileSync(layoutFile, "garbage");
  await both(isErr(ParseError, "OCI_LAYOUT_INVALID", layoutFile));
  rmSync(layoutFile);
  await both(isErr(ParseError, "OCI_LAYOUT_MISSING", layoutFile));

  const file = join(dir, "..", "plain-file");
  writeFileSync(file, "x");
  await assert.rejects(LayoutWriter.open(file), isErr(IoError, "LAYOUT_NOT_DIR"));
  await assert.rejects(LayoutReader.open(join(dir, "..", "absent")), isErr(IoError, "LAYOUT_NOT_FOUND"));
});

test("corrupt blobs: missing, altered, truncated or grown blobs fail naming the digest", {
  skip,
}, async (t) => {
  const { dir, img } = await fixture(t);
  const r = await LayoutReader.open(dir);
  const path = (d: string) => join(dir, "blobs", "sha256", d.slice(7));
  const layer = img.layer;
  assert.equal(await drain(r.blob(layer)), layer.size);

  rmSync(path(img.config.digest));
  await assert.rejects(r.readJson(img.config), isErr(ParseError, "BLOB_MISSING", img.config.digest));

  const original = readFileSync(path(layer.digest));
  const flipped = Buffer.from(original);
  flipped[flipped.length - 1]! ^= 0xff;
  writeFileSync(path(layer.digest), flipped);
  await assert.rejects(drain(r.blob(layer)), isErr(ParseError, "DIGEST_MISMATCH", layer.digest, "hashes to"));

  writeFileSync(path(layer.digest), original);
  truncateSync(path(layer.digest), layer.size - 1);
  await assert.rejects(drain(r.blob(layer)), isErr(ParseError, "DIGEST_MISMATCH", layer.digest, "only"));

  writeFileSync(path(layer.digest), original);
  appendFileSync(path(layer.digest), "x");
  await assert.rejects(drain(r.blob(layer)), isErr(ParseError, "DIGEST_MISMATCH", layer.digest, "more than"));

  writeFileSync(path(layer.digest), original);
  await assert.rejects(r.readJson(layer), isErr(ParseError, "JSON_INVALID", layer.digest));
  await assert.rejects(
    r.readJson({ ...layer, size: 17 * 1024 * 1024 }),
    isErr(ParseError, "BLOB_TOO_LARGE", layer.digest),
  );
  assert.throws(
    () => r.blob({ ...layer, digest: "sha256:../x" as never }),
    isErr(ParseError, "DESCRIPTOR_INVALID"),
  );

  // A writer refuses to publish an index entry whose blob is gone from the layout.
  const w = await LayoutWriter.open(dir);
  w.setRef(img.config, "cfg");
  await assert.rejects(w.commit(), isErr(ParseError, "BLOB_MISSING", img.config.digest));
});

test("resolveRef on an empty layout says so", { skip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "zerodep-layout-empty-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const w = await LayoutWriter.open(join(work, "l"));
  await w.commit();
  const r = await LayoutReader.open(join(work, "l"));
  assert.deepEqual(r.index.manifests, []);
  assert.throws(() => r.resolveRef(), isErr(ZerodepError, "REF_NOT_FOUND", "no images"));
});
