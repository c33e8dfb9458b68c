import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { diffImages } from "../../src/analyze/diff.js";
import { zerodep } from "../helpers/cli.js";
import { needs } from "../helpers/env.js";
import { buildImage, buildWasteImage, fill } from "./images.js";

test("diff: exactly the files and config fields we changed, with size deltas", {
  skip: needs({ tools: ["tar"], fixtures: ["go-static"] }),
}, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "zerodep-diff-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const a = await buildWasteImage(work, "a");
  // B: another image — /app/config.json with other bytes of the same size, /bin/sh with another mode,
  // /new and /x added, everything else of A absent — and another user.
  const b = await buildImage(
    work,
    "b",
    [
      { files: { "x/one": fill(10) } },
      {
        files: {
          "x/one": fill(10, "z"),
          "app/config.json": fill(250, "y"),
          new: fill(42),
          "srv/.wh.ww": "",
          "bin/sh": { content: fill(1000), mode: 0o700 },
        },
      },
    ],
    { User: "0", Entrypoint: ["/app/hello"] },
  );
  const self = await diffImages(a.ref, a.ref);
  assert.deepEqual(
    [self.added, self.removed, self.changed, self.config, self.sizeDelta],
    [[], [], [], [], 0],
  );
  assert.equal(zerodep(["diff", a.ref, a.ref]).code, 0);

  const r = await diffImages(a.ref, b.ref);
  const paths = (l: { path: string }[]) => l.map((c) => c.path).sort();
  assert.deepEqual(paths(r.added), ["/new", "/x", "/x/one"]);
  assert.ok(r.removed.some((c) => c.path === "/srv/ww" && c.delta === -10));
  assert.ok(r.removed.some((c) => c.path === "/app/hello"));
  const cfg = r.changed.find((c) => c.path === "/app/config.json");
  assert.deepEqual(cfg, {
    path: "/app/config.json",
    kind: "file",
    sizeA: 250,
    sizeB: 250,
    delta: 0,
    changes: ["content"],
  });
  assert.deepEqual(r.changed.find((c) => c.path === "/bin/sh")?.changes, ["mode"]);
  assert.deepEqual(
    r.config.find((c) => c.field === "config.User"),
    { field: "config.User", a: "65532:65532", b: "0" },
  );
  assert.equal(r.sizeDelta, r.b.finalBytes - r.a.finalBytes);
  assert.equal(r.b.finalBytes, 10 + 250 + 42 + 1000);
  const cli = zerodep(["diff", a.ref, b.ref, "--json"]);
  assert.equal(cli.code, 1);
  assert.equal(JSON.parse(cli.stdout).schemaVersion, 1);
});
