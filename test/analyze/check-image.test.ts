import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { podmanRun } from "../helpers/podman.js";

// Lower case: podman derives an image name from the oci: path.
const work = join(tmpdir(), `zd-check-image-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

function podman(image: string) {
  const r = podmanRun(join(work, "podman"), image);
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

describe("check IMAGE: the verdict on an image's entrypoint agrees with podman running it", () => {
  const skip = needs({
    tools: ["podman", "runc", "skopeo"],
    fixtures: ["go-static", "go-cgo", "c-hardened"],
  });

  test("static Go runs; cgo forced onto scratch does not (no interpreter); cgo with --bundle-libs runs", {
    skip,
  }, () => {
    const cases: { name: string; args: string[]; runs: boolean; code?: string }[] = [
      { name: "static", args: [fixture("go-static")], runs: true },
      { name: "cgo", args: [fixture("go-cgo"), "--force"], runs: false, code: "MISSING_INTERPRETER" },
      { name: "bundled", args: [fixture("go-cgo"), "--bundle-libs"], runs: true },
    ];
    for (const c of cases) {
      const dir = join(work, c.name);
      const p = zerodep(["pack", ...c.args, "--out", `oci:${dir}:t`]);
      assert.equal(p.code, 0, p.stderr);
      // Also through an archive: the same verdict from the same bytes in another medium.
      const archive = join(work, `${c.name}.tar`);
      run("skopeo", ["copy", "--quiet", `oci:${dir}:t`, `oci-archive:${archive}:t`]);
      for (const spec of [`oci:${dir}:t`, `oci-archive:${archive}`]) {
        const r = zerodep(["check", "--json", spec]);
        assert.equal(r.code, c.runs ? 0 : 1, `${spec}: ${r.stderr}${r.stdout}`);
        const j = JSON.parse(r.stdout) as { runnable: boolean; problems: { code: string }[]; argv: string[] };
        assert.equal(j.runnable, c.runs, spec);
        if (c.code)
          assert.ok(
            j.problems.some((p) => p.code === c.code),
            JSON.stringify(j.problems),
          );
      }
      const real = podman(`oci:${dir}:t`);
      if (c.runs) {
        assert.equal(real.code, 0, real.out);
        assert.match(real.out, /hello from zerodep/);
      } else {
        assert.notEqual(real.code, 0, real.out);
        assert.match(real.out, /no such file or directory/);
      }
    }
  });

  test("an image without its entrypoint, and usage errors", { skip }, () => {
    const dir = join(work, "static");
    const r = zerodep(["check", "--json", `oci:${dir}:nope`]);
    assert.equal(r.code, 3);
    assert.match(r.stderr + r.stdout, /no image tagged \\?"nope/);
    const u = zerodep(["check", `oci:${dir}:t`, "--root", "/"]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /is an image/);
  });
});
