import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { layout, tar } from "../hostile/corpus.js";

test("copy and push refuse a local manifest listing more layers than the cap, before any blob is copied", () => {
  const work = mkdtempSync(join(tmpdir(), "zd-caps-"));
  // One over MAX_MANIFEST_LAYERS, each layer a real one-file tar.
  const src = layout(
    join(work, "src"),
    Array.from({ length: 1001 }, (_, i) => ({
      tar: tar([{ path: `l/${i}`, body: Buffer.from("x") }]),
    })),
  );
  const dest = join(work, "dest");
  const r = zerodep(["copy", `oci:${src}:v1`, `oci:${dest}:v1`]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /1001 layers, more than the 1000 allowed/);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  assert.equal(existsSync(join(dest, "index.json")), false, "nothing committed");
});
