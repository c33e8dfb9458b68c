/**
 * Waste accounting in two corner cases, against an independent oracle: the expected bytes are
 * computed by hand from GNU tar's listing of each layer (`tar -tvf`), and the final tree is what
 * `umoci unpack` extracts from the same OCI layout.
 *
 * - A file replaced by a directory of the same path in a later layer: the file's bytes are waste,
 *   reason "replaced-by-directory" (also when only a deeper path under it is added).
 * - An opaque whiteout (`.wh..wh..opq`) that comes AFTER entries of its own layer in tar order: it
 *   hides only the lower layers' contents (OCI image spec, layer.md "Opaque Whiteout"), never the
 *   entries of its own layer, whatever their order.
 */
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { analyzeSource } from "../../src/analyze/analyze.js";
import { nodePath } from "../../src/image/file-index.js";
import { openImage } from "../../src/transfer/open.js";
import { needs, run } from "../helpers/env.js";
import { type BuiltImage, buildImage, fill, tarListing } from "./images.js";

/** As test/oci/image-for-tests.ts gnuTarDir, minus --sort (these layers keep the order given). */
const TAR_FLAGS = ["--numeric-owner", "--owner=0", "--group=0", "--mtime=@0"];

/** Σ sizes of regular files in a GNU tar listing. */
function fileBytes(tar: string): number {
  return [...tarListing(tar).values()].filter((e) => e.type === "-").reduce((a, e) => a + e.size, 0);
}

/** umoci unpack of the image: "path kind size" for every entry of the root file system. */
function umociTree(img: BuiltImage, work: string, name: string): { lines: string[]; bytes: number } {
  const bundle = join(work, `${name}-bundle`);
  run("umoci", ["unpack", "--image", `${img.dir}:v1`, bundle]);
  const lines: string[] = [];
  let bytes = 0;
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const st = lstatSync(join(d, n));
      const kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "file";
      lines.push(`${rel}/${n} ${kind} ${st.isFile() ? st.size : 0}`);
      if (st.isFile()) bytes += st.size;
      if (st.isDirectory()) walk(join(d, n), `${rel}/${n}`);
    }
  };
  walk(join(bundle, "rootfs"), "");
  return { lines: lines.sort(), bytes };
}

async function analyzeWithTree(img: BuiltImage) {
  const src = await openImage(img.ref);
  try {
    const { result, index } = await analyzeSource(src, { noAudit: true });
    const lines = [...index.walk()].map((n) => `${nodePath(n)} ${n.kind} ${n.kind === "file" ? n.size : 0}`);
    return { r: result, lines: lines.sort() };
  } finally {
    await src.close();
  }
}

describe("analyze waste accounting vs GNU tar listings and umoci unpack", {
  skip: needs({ tools: ["tar", "umoci"] }),
  timeout: 120_000,
}, () => {
  test("a file replaced by a directory: its bytes are waste, reason replaced-by-directory", async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-acct-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    // Layer 1: f becomes a directory with a file (a "f/" entry, as GNU tar writes it), g a directory
    // through a deeper path. (A layer with "h/z" and no "h/" entry over a file h is not tested: umoci
    // refuses to unpack it, "mkdir parent: not a directory", so there is no oracle for it.)
    const root = join(work, "l1-root");
    mkdirSync(join(root, "f"), { recursive: true });
    mkdirSync(join(root, "g", "x"), { recursive: true });
    writeFileSync(join(root, "f", "child"), fill(20));
    writeFileSync(join(root, "g", "x", "y"), fill(3));
    const tar1 = join(work, "l1.tar");
    const list = ["f", "f/child", "g", "g/x", "g/x/y"];
    run("tar", [...TAR_FLAGS, "--no-recursion", "-cf", tar1, "-C", root, ...list]);
    const img = await buildImage(work, "repl", [
      { files: { f: fill(500), g: fill(70), keep: fill(10) } },
      { raw: readFileSync(tar1) },
    ]);
    const l0 = tarListing(img.layers[0]!.tar);
    const l1 = tarListing(img.layers[1]!.tar);
    assert.equal(l0.get("f")?.type, "-");
    assert.equal(l1.get("f")?.type, "d");
    assert.equal(l1.get("g")?.type, "d");
    const replaced = l0.get("f")!.size + l0.get("g")!.size; // 570, by hand from the listings
    const content = fileBytes(img.layers[0]!.tar) + fileBytes(img.layers[1]!.tar);

    const { r, lines } = await analyzeWithTree(img);
    const umoci = umociTree(img, work, "repl");
    assert.deepEqual(lines, umoci.lines, "merged tree = umoci unpack");
    assert.equal(r.totals.contentBytes, content);
    assert.equal(r.totals.finalBytes, umoci.bytes);
    assert.equal(r.waste.wastedBytes, replaced);
    assert.equal(r.totals.contentBytes, r.totals.finalBytes + r.waste.wastedBytes);
    assert.equal(r.waste.byReason["replaced-by-directory"], replaced);
    assert.deepEqual(r.waste.events.map((e) => `${e.path} ${e.reason} ${e.bytes} by ${e.byLayer}`).sort(), [
      "/f replaced-by-directory 500 by 1",
      "/g replaced-by-directory 70 by 1",
    ]);
    assert.deepEqual(
      r.layers.map((l) => l.wastedBytes),
      [replaced, 0],
    );
  });

  test("an opaque whiteout after its own layer's entries hides only the lower layers", async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-acct-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    // Layer 1 in this exact tar order: o/, o/new, o/sub/, o/sub/deep, o/.wh..wh..opq (GNU tar with an
    // explicit list and --no-recursion keeps the order; --sort=name would put the marker first).
    const root = join(work, "l1-root");
    mkdirSync(join(root, "o", "sub"), { recursive: true });
    writeFileSync(join(root, "o", "new"), fill(40));
    writeFileSync(join(root, "o", "sub", "deep"), fill(6));
    writeFileSync(join(root, "o", ".wh..wh..opq"), "");
    const order = ["o", "o/new", "o/sub", "o/sub/deep", "o/.wh..wh..opq"];
    const tar1 = join(work, "l1.tar");
    run("tar", [...TAR_FLAGS, "--no-recursion", "-cf", tar1, "-C", root, ...order]);
    assert.deepEqual(
      run("tar", ["-tf", tar1])
        .stdout.split("\n")
        .filter(Boolean)
        .map((p) => p.replace(/\/$/, "")),
      order,
      "the marker follows the layer's own entries",
    );
    const img = await buildImage(work, "opq", [
      { files: { "o/a": fill(1000), "o/sub/b": fill(2000), p: fill(5) } },
      { raw: readFileSync(tar1) },
    ]);
    const l0 = tarListing(img.layers[0]!.tar);
    const hidden = l0.get("o/a")!.size + l0.get("o/sub/b")!.size; // 3000, by hand
    const kept = fileBytes(tar1) + l0.get("p")!.size; // 40 + 6 + 5

    const { r, lines } = await analyzeWithTree(img);
    const umoci = umociTree(img, work, "opq");
    assert.deepEqual(lines, umoci.lines, "merged tree = umoci unpack");
    assert.ok(lines.includes("/o/new file 40") && lines.includes("/o/sub/deep file 6"));
    assert.ok(!lines.some((l) => l.startsWith("/o/a ") || l.startsWith("/o/sub/b ")));
    assert.equal(r.totals.finalBytes, kept);
    assert.equal(r.totals.finalBytes, umoci.bytes);
    assert.equal(r.waste.wastedBytes, hidden);
    assert.equal(r.waste.byReason.opaque, hidden);
    assert.equal(r.totals.contentBytes, r.totals.finalBytes + r.waste.wastedBytes);
    assert.deepEqual(r.layers[1]!.opaqueDirs, ["/o"]);
  });
});
