import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgressBar } from "../../src/cli/progress.js";

function sink() {
  const out: string[] = [];
  return { out, w: { write: (s: string) => out.push(s) } };
}

test("progress bar: redraws in place, at most every 100 ms, always at 100 %, and clears itself", () => {
  const { out, w } = sink();
  const bar = new ProgressBar(w, 10);
  bar.update("layer", 0, 1000, 1000);
  bar.update("layer", 500, 1000, 1050); // too soon: skipped
  bar.update("layer", 500, 1000, 1101);
  bar.update("layer", 1000, 1000, 1102); // the end is always drawn
  assert.equal(out.length, 3);
  assert.ok(out.every((s) => s.startsWith("\r\x1b[2K")));
  assert.match(out[1]!, /layer █████░░░░░ {2}50% /);
  assert.match(out[2]!, /██████████ 100% /);
  bar.finish();
  assert.equal(out.at(-1), "\r\x1b[2K");
  bar.finish();
  assert.equal(out.length, 4, "finish twice clears once");
});
