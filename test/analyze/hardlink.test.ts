import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { needs } from "../helpers/env.js";
import { gnuTarDir } from "../oci/image-for-tests.js";
import { buildImage, fill, tarListing } from "./images.js";

test("a hard link keeps the bytes of a deleted path alive: not waste (GNU tar layers, umoci-free)", {
  skip: needs({ tools: ["tar"] }),
}, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "zerodep-hardlink-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // Layer 0: usr/bin/a (1000 bytes) and usr/bin/b, a hard link to it (GNU tar stores b as a link).
  const root = join(work, "l0");
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  writeFileSync(join(root, "usr/bin/a"), fill(1000));
  linkSync(join(root, "usr/bin/a"), join(root, "usr/bin/b"));
  const tar0 = gnuTarDir(root, join(work, "l0.tar"));
  const listing = tarListing(tar0);
  assert.equal(listing.get("usr/bin/a")?.size, 1000);
  assert.equal(listing.get("usr/bin/b")?.type, "h", "GNU tar wrote b as a hard link to a");
  // Layer 1 deletes a; layer 2 deletes nothing. Then the same, but the link is deleted too.
  const img = await buildImage(work, "hl", [{ raw: readFileSync(tar0) }, { files: { "usr/bin/.wh.a": "" } }]);
  const r = await analyze(img.ref, { noAudit: true });
  assert.equal(r.totals.contentBytes, 1000);
  assert.equal(r.totals.finalBytes, 1000, "b still shows a's bytes");
  assert.equal(r.waste.wastedBytes, 0);
  assert.equal(r.totals.contentBytes, r.totals.finalBytes + r.waste.wastedBytes);

  const both = await buildImage(work, "hl2", [
    { raw: readFileSync(tar0) },
    { files: { "usr/bin/.wh.a": "", "usr/bin/.wh.b": "" } },
  ]);
  const r2 = await analyze(both.ref, { noAudit: true });
  assert.equal(r2.totals.finalBytes, 0);
  assert.equal(r2.waste.wastedBytes, 1000, "once the last link goes, the bytes are waste, counted once");
});
