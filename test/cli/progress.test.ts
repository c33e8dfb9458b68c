import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgressBar, ProgressBars } from "../../src/cli/progress.js";

function sink() {
  const out: string[] = [];
  return { out, w: { write: (s: string) => out.push(s) } };
}

test("progress bar: redraws in place, at most every 100 ms, always at 100 %, and clears itself", () => {
  const { out, w } = sink();
  const bar = new ProgressBar(w);
  bar.update("layer", 0, 1000, 1000);
  bar.update("layer", 500, 1000, 1050); // too soon: skipped
  bar.update("layer", 500, 1000, 1101);
  bar.update("layer", 1000, 1000, 1102); // the end is always drawn
  assert.equal(out.length, 3);
  assert.ok(out.every((s) => s.startsWith("\r\x1b[2K")));
  // The same style as the per-blob bars of push and pull (one look for every command).
  assert.match(out[1]!, /layer \[#{12}-{12}\] 500 B \/ 1000 B\s+50%$/);
  assert.match(out[2]!, /\[#{24}\] 1000 B \/ 1000 B\s+100%$/);
  bar.finish();
  assert.equal(out.at(-1), "\r\x1b[2K");
  bar.finish();
  assert.equal(out.length, 4, "finish twice clears once");
});

test("per-blob bars: one line per blob, redrawn in place, final states kept on screen", () => {
  const { out, w } = sink();
  const bars = new ProgressBars(w, "uploading");
  const a = `sha256:${"a".repeat(64)}` as const;
  const b = `sha256:${"b".repeat(64)}` as const;
  bars.onEvent({ type: "blob-start", digest: a, size: 2048, mediaType: "x" });
  bars.onEvent({ type: "blob-start", digest: b, size: 10, mediaType: "x" }); // within 100 ms: deferred
  bars.onEvent({ type: "blob-done", digest: b, size: 10, action: "exists" });
  bars.onEvent({ type: "blob-progress", digest: a, bytes: 1024, size: 2048 });
  bars.done();
  const last = out.at(-1)!;
  // Redraw: cursor up over the lines drawn before, then one line per blob.
  assert.match(last, /^\x1b\[\d+A/);
  const lines = last.split("\n").filter(Boolean);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /aaaaaaaaaaaa \[#{12}-{12}\] 1\.0 KiB \/ 2\.0 KiB\s+uploading/);
  // Already in the registry: nothing moved, so the bar stays empty and says why.
  assert.match(lines[1]!, /bbbbbbbbbbbb \[-{24}\] 0 B \/ 10 B\s+exists/);
});
