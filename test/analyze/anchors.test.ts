// analyze against the anchor tools on an image umoci built: per-layer file lists and sizes against
// `tar -tzvf` of the blobs, layer digests and sizes against `skopeo inspect`, and the final file tree
// against what `umoci unpack` extracts.
import assert from "node:assert/strict";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { analyzeSource } from "../../src/analyze/analyze.js";
import { nodePath } from "../../src/image/file-index.js";
import { openImage } from "../../src/transfer/open.js";
import { needs, run } from "../helpers/env.js";

test("an image built and unpacked by umoci: tar -tzvf, skopeo inspect and umoci unpack agree with analyze", {
  skip: needs({ tools: ["umoci", "skopeo", "tar"] }),
}, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "zerodep-analyze-umoci-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const L = join(work, "L");
  const ref = `${L}:t`;
  run("umoci", ["init", "--layout", L]);
  run("umoci", ["new", "--image", ref]);
  // Layer 0: a directory tree, a setuid shell, a package manager.
  run("umoci", ["unpack", "--image", ref, join(work, "b1")]);
  const r1 = join(work, "b1", "rootfs");
  mkdirSync(join(r1, "data", "sub"), { recursive: true });
  mkdirSync(join(r1, "etc"), { recursive: true });
  mkdirSync(join(r1, "bin"), { recursive: true });
  mkdirSync(join(r1, "usr", "bin"), { recursive: true });
  writeFileSync(join(r1, "data", "sub", "f"), "f".repeat(3000));
  writeFileSync(join(r1, "data", "keep"), "k".repeat(100));
  writeFileSync(join(r1, "etc", "x"), "hi\n");
  writeFileSync(join(r1, "bin", "sh"), "s".repeat(200));
  chmodSync(join(r1, "bin", "sh"), 0o4755);
  writeFileSync(join(r1, "usr", "bin", "apt"), "a".repeat(50));
  run("umoci", ["repack", "--image", ref, join(work, "b1")]);
  // Layer 1: a directory and a file deleted, a file rewritten.
  run("umoci", ["unpack", "--image", ref, join(work, "b2")]);
  const r2 = join(work, "b2", "rootfs");
  rmSync(join(r2, "data", "sub"), { recursive: true });
  rmSync(join(r2, "etc", "x"));
  writeFileSync(join(r2, "data", "keep"), "K".repeat(400));
  run("umoci", ["repack", "--image", ref, join(work, "b2")]);

  const src = await openImage(`oci:${ref}`);
  t.after(() => src.close());
  const { result: r, index } = await analyzeSource(src);

  // skopeo: the same layer digests, and the manifest's sizes.
  const sk = JSON.parse(run("skopeo", ["inspect", `oci:${ref}`]).stdout) as { Layers: string[] };
  const raw = JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${ref}`]).stdout) as {
    layers: { digest: string; size: number }[];
  };
  assert.deepEqual(
    r.layers.map((l) => l.digest),
    sk.Layers,
  );
  assert.deepEqual(
    r.layers.map((l) => l.compressedBytes),
    raw.layers.map((l) => l.size),
  );
  // tar -tzvf of each blob: entry count, content bytes, whiteouts.
  for (const [i, l] of raw.layers.entries()) {
    const lines = run("tar", ["-tzvf", join(L, "blobs", "sha256", l.digest.slice(7))])
      .stdout.split("\n")
      .filter((x) => x !== "");
    assert.equal(r.layers[i]!.entries, lines.length, `layer ${i} entries`);
    const bytes = lines.filter((x) => x.startsWith("-")).reduce((a, x) => a + Number(x.split(/\s+/)[2]), 0);
    assert.equal(r.layers[i]!.contentBytes, bytes, `layer ${i} bytes`);
    const wh = lines
      .map((x) =>
        x
          .split(/\s+/)
          .slice(5)
          .join(" ")
          .replace(/^\.?\//, ""),
      )
      .filter((p) => /(^|\/)\.wh\.[^/]+$/.test(p) && !p.endsWith(".wh..wh..opq"))
      .map((p) => `/${p.replace(/\.wh\.([^/]+)$/, "$1")}`)
      .sort();
    assert.deepEqual([...r.layers[i]!.removedPaths].sort(), wh, `layer ${i} whiteouts`);
  }
  assert.deepEqual([...r.layers[1]!.removedPaths].sort(), ["/data/sub", "/etc/x"]);
  assert.equal(r.waste.wastedBytes, 3000 + 3 + 100);
  assert.deepEqual(r.waste.byReason, {
    overwritten: 100,
    deleted: 3003,
    opaque: 0,
    duplicate: 0,
    "replaced-by-directory": 0,
  });
  assert.deepEqual(
    r.audit.setuid.map((s) => s.path),
    ["/bin/sh"],
  );
  assert.deepEqual(r.audit.shells, ["/bin/sh"]);
  assert.deepEqual(r.audit.packageManagers, ["/usr/bin/apt"]);

  // umoci unpack of the final image: the same paths, kinds and sizes as our merged tree.
  run("umoci", ["unpack", "--image", ref, join(work, "final")]);
  const root = join(work, "final", "rootfs");
  const theirs: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const st = lstatSync(join(d, n));
      const p = `${rel}/${n}`;
      theirs.push(
        `${p} ${st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "file"} ${st.isFile() ? st.size : 0} ${(st.mode & 0o7777).toString(8)}`,
      );
      if (st.isDirectory()) walk(join(d, n), p);
    }
  };
  walk(root, "");
  const ours = [...index.walk()].map(
    (n) => `${nodePath(n)} ${n.kind} ${n.kind === "file" ? n.size : 0} ${n.mode.toString(8)}`,
  );
  assert.deepEqual(ours.sort(), theirs.sort());
});
