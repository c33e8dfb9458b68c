import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyLayerPath, MergedTree } from "../../src/image/merged-tree.js";
import type { TarReadEntry } from "../../src/tar/reader.js";

function e(path: string, type: TarReadEntry["type"] = "file", size = 1, linkname?: string): TarReadEntry {
  return {
    path,
    rawPath: path,
    type,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    size,
    offset: 0,
    dataOffset: 0,
    warnings: [],
    ...(linkname ? { linkname } : {}),
  };
}

test("whiteout classification follows image-spec layer.md", () => {
  assert.deepEqual(classifyLayerPath("etc/.wh.passwd"), { kind: "whiteout", target: "/etc/passwd" });
  assert.deepEqual(classifyLayerPath(".wh.tmp"), { kind: "whiteout", target: "/tmp" });
  assert.deepEqual(classifyLayerPath("a/b/.wh..wh..opq"), { kind: "opaque", dir: "/a/b" });
  assert.deepEqual(classifyLayerPath("a/.whx"), { kind: "entry", path: "/a/.whx" });
});

test("merged tree: whiteouts delete subtrees; an opaque marker hides lower layers only", () => {
  const t = new MergedTree();
  for (const x of [e("d", "dir", 0), e("d/a"), e("d/sub", "dir", 0), e("d/sub/b"), e("keep")]) t.apply(0, x);
  // Layer 1 re-adds d/new BEFORE its opaque marker (tar order is free): it must survive.
  for (const x of [e("d", "dir", 0), e("d/new"), e("d/.wh..wh..opq", "file", 0)]) t.apply(1, x);
  assert.deepEqual([...t.entries.keys()].sort(), ["/d", "/d/new", "/keep"]);
  t.apply(2, e(".wh.d", "file", 0));
  assert.deepEqual([...t.entries.keys()].sort(), ["/keep"]);
  // A file replacing a directory removes what was below it.
  t.apply(3, e("x", "dir", 0));
  t.apply(3, e("x/y"));
  t.apply(4, e("x", "file", 7));
  assert.deepEqual([...t.entries.keys()].sort(), ["/keep", "/x"]);
  assert.equal(t.get("/x")?.stat.size, 7);
});

test("merged tree: a hard link takes its target's size and points at the target's bytes", () => {
  const t = new MergedTree();
  t.apply(0, e("bin/busybox", "file", 1000));
  t.apply(0, e("bin/sh", "hardlink", 0, "bin/busybox"));
  assert.equal(t.get("/bin/sh")?.stat.size, 1000);
  assert.equal(t.get("/bin/sh")?.layerPath, "bin/busybox");
});
