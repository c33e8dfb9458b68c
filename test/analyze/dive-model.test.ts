// dive's metrics, worked by hand from dive's definition (README "The two waste figures";
// filetree/efficiency.go): only leaves of each layer's tree are scored, a whiteout weighs the subtree it
// deletes when that was a directory with its own entry, wastedBytes sums every copy of a path seen twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DiveModel } from "../../src/analyze/dive-model.js";

function model(layers: [string, number, boolean?][][]) {
  const m = new DiveModel();
  for (const l of layers) {
    for (const [p, s, d] of l) m.add(p, s, d === true);
    m.endLayer();
  }
  return m.result();
}

test("dive's own example: implicit parent directories make a directory whiteout weigh 0 → 0.75", () => {
  // Layer 0: /etc/nginx/nginx.conf 2000, /etc/nginx/public 3000 (no directory entries).
  // Layer 1: nginx.conf again 5000, /etc/athing 10000. Layer 2: /etc/.wh.nginx.
  // /etc/nginx was never a directory entry, so the whiteout weighs 0:
  // Σmin = 2000 + 3000 + 10000 + 0 = 15000, Σcum = 7000 + 3000 + 10000 + 0 = 20000 → 0.75.
  const r = model([
    [
      ["etc/nginx/nginx.conf", 2000],
      ["etc/nginx/public", 3000],
    ],
    [
      ["etc/nginx/nginx.conf", 5000],
      ["etc/athing", 10000],
    ],
    [["etc/.wh.nginx", 0]],
  ]);
  assert.equal(r.efficiency, 0.75);
  assert.equal(r.wastedBytes, 7000); // nginx.conf, both copies (the kept one too)
  assert.deepEqual(r.inefficiencies, [{ path: "/etc/nginx/nginx.conf", cumulativeSize: 7000, count: 2 }]);
  assert.deepEqual(r.layerSizes, [5000, 15000, 0]);
  assert.equal(r.userSizeBytes, 15000);
  assert.equal(r.wastedUserPercent, 7000 / 15000);
});

test("with a real directory entry the deleted directory weighs its contents: no waste at all", () => {
  // /d (dir entry) with /d/f 1000; layer 1 deletes /d. /d/f: cum=min=1000; /d (whiteout leaf): 1000/1000.
  const r = model([
    [
      ["d", 0, true],
      ["d/f", 1000],
    ],
    [[".wh.d", 0]],
  ]);
  assert.equal(r.efficiency, 1);
  assert.equal(r.wastedBytes, 0);
});

test("a deleted file is waste: its only copy plus the whiteout at 0", () => {
  const r = model([
    [
      ["f", 4000],
      ["g", 1000],
    ],
    [[".wh.f", 0]],
  ]);
  // f: cum 4000, min 0; g: 1000/1000 → (0 + 1000) / (4000 + 1000)
  assert.equal(r.efficiency, 1000 / 5000);
  assert.equal(r.wastedBytes, 4000);
});

test("scratch-like image with only an empty file scores 1 (dive's scratch test)", () => {
  const r = model([[["nothing", 0]], [], []]);
  assert.equal(r.efficiency, 1);
  assert.equal(r.wastedBytes, 0);
  assert.equal(r.wastedUserPercent, null);
});

test("opaque markers are ignored by dive: the hidden files are not counted as waste", () => {
  const r = model([
    [
      ["o", 0, true],
      ["o/a", 700],
    ],
    [
      ["o", 0, true],
      ["o/.wh..wh..opq", 0],
      ["o/b", 300],
    ],
  ]);
  assert.equal(r.wastedBytes, 0);
  assert.equal(r.efficiency, 1);
});

test("a whiteout over nothing stops dive's scoring of the rest of that layer (name order), and we say so", () => {
  // Layer 1 in dive's visiting order: "a" (scored), ".wh.ghost" would come before "z" — "." sorts before "a".
  const r = model([
    [["keep", 100]],
    [
      ["b", 50],
      [".wh.ghost", 0],
      ["z", 900],
    ],
  ]);
  assert.deepEqual(r.abortedLayers, [{ layer: 1, path: "/ghost" }]);
  // ".wh.ghost" is visited first (0x2e < 0x62), so neither b nor z is scored: only keep, plus the -1
  // smallest size dive leaves in /ghost's record (dive itself reports 99/100: dive-oracle.test.ts).
  assert.equal(r.efficiency, 99 / 100);
  assert.deepEqual(r.layerSizes, [100, 950]);
});
