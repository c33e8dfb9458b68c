/**
 * check IMAGE judges on a target platform — --platform, else this machine — and podman on this machine
 * is the oracle: an index runs its amd64 entry, a single arm64 image fails with "exec format error"
 * (unless this machine emulates arm64 through binfmt, which the test then says and checks instead), an
 * index without an amd64 entry gives podman nothing to run.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs } from "../helpers/env.js";
import { podmanRun } from "../helpers/podman.js";

const work = join(tmpdir(), `zdcp-${process.pid}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

/** Whether binfmt_misc would hand an arm64 program to qemu here (then a foreign image does run). */
function emulatesArm64(): boolean {
  const f = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
  return existsSync(f) && readFileSync(f, "utf8").startsWith("enabled");
}

interface Verdict {
  runnable: boolean;
  problems: { code: string; severity: string; message: string }[];
  imagePlatform: string | null;
  target: { os: string; arch: string };
}

function check(spec: string, extra: string[] = []): Verdict {
  const r = zerodep(["check", "--json", spec, ...extra]);
  assert.ok(r.code === 0 || r.code === 1, `${spec}: ${r.stdout}${r.stderr}`);
  const v = JSON.parse(r.stdout) as Verdict;
  assert.equal(r.code, v.runnable ? 0 : 1);
  return v;
}

const quote = (v: Verdict) => /"([^"]+)"/.exec(v.problems.find((p) => p.severity === "error")!.message)?.[1];

describe("check IMAGE on this machine's platform, as podman runs it", {
  skip:
    (process.arch !== "x64" ? "needs an amd64 machine" : false) ||
    needs({ tools: ["podman", "runc"], fixtures: ["go-static", "go-arm64", "go-arm"] }),
}, () => {
  const state = join(work, "podman");
  const pack = (name: string, bins: string[]) => {
    const r = zerodep(["pack", ...bins.map(fixture), "--out", `oci:${join(work, name)}:t`]);
    assert.equal(r.code, 0, r.stderr);
    return `oci:${join(work, name)}:t`;
  };

  test("an index with an amd64 entry: that entry is judged, and podman runs it", () => {
    const spec = pack("multi", ["go-static", "go-arm64"]);
    const v = check(spec);
    assert.equal(v.imagePlatform, "linux/amd64");
    assert.equal(v.runnable, true, JSON.stringify(v.problems));
    const real = podmanRun(state, spec);
    assert.equal(real.code, 0, real.stderr);
    // --platform chooses the other entry; on its own platform it runs.
    const arm = check(spec, ["--platform", "linux/arm64"]);
    assert.equal(arm.imagePlatform, "linux/arm64/v8");
    assert.equal(arm.runnable, true, JSON.stringify(arm.problems));
  });

  test("a single arm64 image: WRONG_ARCH on this machine, and podman fails with the quoted error", () => {
    const spec = pack("arm64only", ["go-arm64"]);
    const v = check(spec);
    const real = podmanRun(state, spec);
    if (emulatesArm64()) {
      console.log("NOTE: this machine emulates arm64 through binfmt/qemu: the arm64 image runs here");
      assert.equal(real.code, 0, real.stderr);
    } else {
      assert.notEqual(real.code, 0, real.stdout);
      assert.equal(v.runnable, false);
      assert.equal(v.problems[0]!.code, "WRONG_ARCH");
      assert.ok(real.stderr.includes(quote(v)!), `quote ${quote(v)} vs ${real.stderr}`);
    }
    assert.equal(check(spec, ["--platform", "linux/arm64"]).runnable, true);
  });

  test("an index without an amd64 entry: PLATFORM_NOT_IN_INDEX, and podman finds nothing to run", () => {
    const spec = pack("armonly", ["go-arm64", "go-arm"]);
    const v = check(spec);
    assert.equal(v.runnable, false);
    assert.deepEqual(
      v.problems.map((p) => p.code),
      ["PLATFORM_NOT_IN_INDEX"],
    );
    const real = podmanRun(state, spec);
    assert.notEqual(real.code, 0);
    assert.ok(real.stderr.includes(quote(v)!), `quote ${quote(v)} vs ${real.stderr}`);
    assert.equal(check(spec, ["--platform", "linux/arm/v7"]).runnable, true);
  });
});
