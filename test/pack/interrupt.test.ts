/**
 * SIGINT/SIGTERM during a write (issue #13 front door, #12 leftovers): the staging directory and temp
 * files beside the output are removed, the existing output stays readable and unchanged (skopeo reads
 * it), and the run ends with one line and 130 / 143. The binary is a real Go program with 96 MiB of
 * random bytes appended (the kernel never maps them), so that compressing its layer takes seconds.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { cliPath, zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const work = mkdtempSync(join(tmpdir(), "zd-intr-"));
after(() => rmSync(work, { recursive: true, force: true }));

const staging = (dir: string) => readdirSync(dir).filter((n) => /zerodep-(tmp|layout)-/.test(n));

function exited(p: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  p.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((res) => p.on("close", (code) => res({ code, stderr })));
}

for (const [signal, code, dest] of [
  ["SIGINT", 130, "oci"],
  ["SIGTERM", 143, "oci-archive"],
] as const) {
  test(`${signal} while pack writes ${dest}: staging removed, old output intact, exit ${code}`, {
    skip: needs({ tools: ["skopeo"], fixtures: ["go-static"] }),
    timeout: 120_000,
  }, async () => {
    const dir = join(work, signal.toLowerCase());
    mkdirSync(dir);
    const big = join(dir, "big");
    copyFileSync(fixture("go-static"), big);
    for (let i = 0; i < 12; i++) appendFileSync(big, randomBytes(8 << 20));
    const out = dest === "oci" ? join(dir, "layout") : join(dir, "img.tar");
    const ref = (tag: string) => `${dest}:${out}:${tag}`;
    assert.equal(zerodep(["pack", fixture("go-static"), "--out", ref("old")]).code, 0);
    const before = run("skopeo", ["inspect", "--raw", ref("old")]).stdout;

    const p = spawn(process.execPath, [cliPath, "pack", big, "--out", ref("new")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const done = exited(p);
    // Wait until the run is writing (its staging path exists), then interrupt it.
    const t0 = Date.now();
    while (staging(dir).length === 0 && Date.now() - t0 < 60_000) await sleep(20);
    assert.ok(staging(dir).length > 0, "the run never started writing");
    await sleep(300);
    p.kill(signal);
    const r = await done;
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr.trim(), new RegExp(`^zerodep: interrupted \\(${signal}\\)`));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(staging(dir), [], "no staging directory or temp file is left");
    assert.equal(run("skopeo", ["inspect", "--raw", ref("old")]).stdout, before);
    assert.notEqual(run("skopeo", ["inspect", "--raw", ref("new")], { allowFail: true }).status, 0);
  });
}
