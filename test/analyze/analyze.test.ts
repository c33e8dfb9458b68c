import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { fixture, needs } from "../helpers/env.js";
import { buildWasteImage, tarListing } from "./images.js";

describe("analyze: a three-layer image with known waste (GNU tar layers)", () => {
  const skip = needs({ tools: ["tar"], fixtures: ["go-static"] });
  test("exact figures, ours and dive's", { skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-analyze-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const img = await buildWasteImage(work);
    const hello = readFileSync(fixture("go-static"));
    // Independent figures: GNU tar's own listing of each layer.
    const listings = img.layers.map((l) => tarListing(l.tar));
    const content = listings.map((m) =>
      [...m.values()].filter((e) => e.type === "-").reduce((a, e) => a + e.size, 0),
    );
    const S = hello.length;
    const r = await analyze(img.ref);

    assert.deepEqual(
      r.layers.map((l) => l.contentBytes),
      content,
    );
    assert.deepEqual(
      r.layers.map((l) => l.compressedBytes),
      img.layers.map((l) => l.blob.size),
    );
    assert.deepEqual(
      r.layers.map((l) => l.tarBytes),
      img.layers.map((l) => statSync(l.tar).size),
    );
    assert.deepEqual(
      r.layers.map((l) => l.history?.createdBy),
      ["base", "RUN apt-get clean && add data", "COPY hello"],
    );
    // Ours: 100 overwritten, 5000 + 5000 deleted (a directory and a file), 1000 hidden by the opaque dir.
    assert.equal(r.waste.wastedBytes, 11100);
    assert.deepEqual(r.waste.byReason, {
      overwritten: 100,
      deleted: 10000,
      opaque: 1000,
      duplicate: 0,
      "replaced-by-directory": 0,
    });
    const total = content.reduce((a, b) => a + b, 0);
    assert.equal(r.totals.contentBytes, total);
    assert.equal(r.totals.finalBytes, total - 11100);
    assert.equal(r.waste.efficiency, (total - 11100) / total);
    assert.deepEqual(
      r.layers.map((l) => l.wastedBytes),
      [100 + 5000 + 1000, 5000, 0],
    );
    // dive, by its definition (hand-computed in the test's comment above the file).
    const cum = content[0]! + 250 + 5000 + 5000 + 300 + S;
    assert.equal(r.waste.dive.wastedBytes, 350 + 5000);
    assert.equal(r.waste.dive.efficiency, (cum - 250 - 5000) / cum);
    assert.equal(r.waste.dive.userSizeBytes, 5250 + 300 + S);
    assert.equal(r.waste.dive.wastedUserPercent, 5350 / (5550 + S));
    // Audit.
    assert.deepEqual(r.audit.shells, ["/bin/sh"]);
    assert.deepEqual(
      r.audit.setuid.map((s) => s.path),
      ["/usr/bin/passwd"],
    );
    assert.deepEqual(
      r.audit.worldWritable.map((s) => s.path),
      ["/srv/ww"],
    );
    assert.deepEqual(r.audit.stickyWorldWritableDirs, ["/tmp"]);
    assert.deepEqual(r.audit.unreadable.paths, ["/srv/secret"]);
    assert.equal(r.audit.user.root, false);
    assert.deepEqual(
      r.audit.elfFiles.map((e) => e.path),
      ["/app/hello"],
    );
    assert.equal(r.audit.goBinaries.length, 1);
    assert.equal(r.audit.entrypoint.resolved, "/app/hello");
    assert.equal(r.audit.entrypoint.runnable, true);
    assert.deepEqual(
      r.findings.map((f) => f.code),
      [
        "UNREADABLE_FILES",
        "SETUID_FILES",
        "WORLD_WRITABLE",
        "SHELL_PRESENT",
        "WASTED_BYTES",
        "UNSTRIPPED_BINARIES",
      ],
    );
    // Per-layer changes: layer 1 rewrites config.json, adds big.dat (and its parents' metadata), deletes /var/cache/apt.
    assert.deepEqual(r.layers[1]!.removedPaths, ["/var/cache/apt"]);
    assert.deepEqual(r.layers[2]!.removedPaths, ["/app/big.dat"]);
    assert.deepEqual(r.layers[2]!.opaqueDirs, ["/opt/data"]);
    assert.deepEqual(r.layers[1]!.largestFiles, [
      { path: "/app/big.dat", size: 5000 },
      { path: "/app/config.json", size: 250 },
    ]);
    const ev = r.waste.events.map((e) => [e.path, e.reason, e.byLayer, e.bytes]);
    assert.deepEqual(ev, [
      ["/var/cache/apt", "deleted", 1, 5000],
      ["/app/big.dat", "deleted", 2, 5000],
      ["/opt/data/two", "opaque", 2, 600],
      ["/opt/data/one", "opaque", 2, 400],
      ["/app/config.json", "overwritten", 1, 100],
    ]);
  });
});
