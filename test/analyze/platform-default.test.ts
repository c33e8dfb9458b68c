/**
 * An index without --platform (issue #13 front door): analyze, diff and inspect IMAGE pick this
 * machine's image and say so, instead of refusing; the digest they report is the amd64 entry that
 * skopeo reads from the same index.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const work = mkdtempSync(join(tmpdir(), "zd-platdef-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("an index without --platform: this machine's image, said so; skopeo agrees on the digest", {
  skip:
    (process.arch !== "x64" ? "needs an amd64 machine" : false) ||
    needs({ tools: ["skopeo"], fixtures: ["go-static", "go-arm64"] }),
}, () => {
  const spec = `oci:${join(work, "idx")}:t`;
  assert.equal(zerodep(["pack", fixture("go-static"), fixture("go-arm64"), "--out", spec]).code, 0);
  const index = JSON.parse(run("skopeo", ["inspect", "--raw", spec]).stdout) as {
    manifests: { digest: string; platform: { architecture: string } }[];
  };
  const amd64 = index.manifests.find((m) => m.platform.architecture === "amd64")!.digest;

  const a = zerodep(["analyze", "--json", spec]);
  assert.equal(a.code, 0, a.stderr);
  const j = JSON.parse(a.stdout) as { platform: string; platformChoice: string; digest: string };
  assert.deepEqual([j.platform, j.platformChoice, j.digest], ["linux/amd64", "this machine", amd64]);
  const human = zerodep(["analyze", spec]);
  assert.match(human.stdout, /linux\/amd64 \(this machine's, from the index; --platform to choose\)/);

  const arm = JSON.parse(zerodep(["analyze", "--json", "--platform", "linux/arm64", spec]).stdout) as {
    platform: string;
    platformChoice: string;
  };
  assert.deepEqual([arm.platform, arm.platformChoice], ["linux/arm64/v8", "requested"]);

  const d = zerodep(["diff", spec, spec]);
  assert.equal(d.code, 0, d.stderr);
  const i = zerodep(["inspect", "--json", spec]);
  assert.equal(i.code, 0, i.stderr);
  assert.equal((JSON.parse(i.stdout.split("\n")[0]!) as { arch: string }).arch, "amd64");
});
