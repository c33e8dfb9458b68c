/**
 * Writes that the file system refuses (issue #12): a full disk (ENOSPC, a small tmpfs) and a read-only
 * one (EROFS, a read-only bind mount), under pack, copy and pack's own staging (TMPDIR). Each run ends
 * with one line and exit 3, the image already there stays readable by skopeo, and nothing is left.
 * Needs root for mount(8), as the reality tests do.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pack } from "../../src/pack/pack.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
};
const staging = (dir: string) => readdirSync(dir).filter((n) => /zerodep-(tmp|layout|pack)-/.test(n));

function oneLine(r: { code: number | null; stderr: string }, re: RegExp) {
  assert.equal(r.code, 3, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, no stack trace: ${r.stderr}`);
  assert.match(lines[0]!, re);
}

describe("disk faults: ENOSPC and EROFS end in one line, exit 3, the old image intact, nothing left", {
  skip: needs({ tools: ["skopeo", "mount", "umount"], fixtures: ["go-static", "go-x509"] }),
}, () => {
  let work: string;
  let full: string;
  let ro: string;
  const mounts: string[] = [];
  before(() => {
    work = mkdtempSync(join(tmpdir(), "zd-disk-"));
    full = join(work, "full");
    ro = join(work, "ro");
    mkdirSync(full);
    mkdirSync(ro);
    // 3 MiB: room for one small image (go-static, ~1.7 MiB layer), not for a second, larger one.
    sh("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", full]);
    mounts.push(full);
    assert.equal(zerodep(["pack", fixture("go-static"), "--out", `oci:${full}/layout:old`, ...nc()]).code, 0);
    assert.equal(zerodep(["pack", fixture("go-static"), "--out", `oci:${ro}/layout:old`, ...nc()]).code, 0);
    sh("mount", ["--bind", ro, ro]);
    mounts.push(ro);
    sh("mount", ["-o", "remount,bind,ro", ro]);
  });
  after(() => {
    for (const m of mounts.reverse()) spawnSync("umount", [m]);
    rmSync(work, { recursive: true, force: true });
  });
  const nc = () => ["--ca-certs", "none", "--tzdata", "none"];

  test("ENOSPC: pack and copy into a full file system", () => {
    const before = run("skopeo", ["inspect", "--raw", `oci:${full}/layout:old`]).stdout;
    const r = zerodep([
      "pack",
      fixture("go-x509"),
      "--ca-certs",
      "/etc/ssl/certs/ca-certificates.crt",
      "--out",
      `oci:${full}/layout:new`,
    ]);
    // The line names the disk that is full, not only Node's "ENOSPC: …, write" (the layer is staged
    // beside the layout, so the staging file may be what fills it).
    oneLine(r, new RegExp(`${full}/(layout|\\.layout\\.zerodep-pack-[^ ]*): .*(ENOSPC|no space)`, "i"));
    // A second image elsewhere on the same full disk: copy refuses the same way.
    const c = zerodep(["copy", `oci:${ro}/layout:old`, `oci:${full}/other:v1`]);
    oneLine(c, new RegExp(`${full}/.*(ENOSPC|no space)`, "i"));
    assert.equal(run("skopeo", ["inspect", "--raw", `oci:${full}/layout:old`]).stdout, before);
    assert.deepEqual(staging(full), []);
  });

  test("ENOSPC in pack's own staging (TMPDIR on the full disk, when only pushing)", () => {
    const out = join(work, "elsewhere");
    // Nothing listens on port 1: the layer is staged (and fails) before any connection is tried.
    const r = zerodep(["pack", fixture("go-x509"), "--push", "127.0.0.1:1/x/y:v1", ...nc()], {
      env: { TMPDIR: full },
    });
    oneLine(r, new RegExp(`${full}/zerodep-pack-.*staging the layer: (ENOSPC|no space)`, "i"));
    assert.deepEqual(staging(full), []);
    assert.deepEqual(staging(work), []);
    assert.equal(
      run("skopeo", ["inspect", "--raw", `oci:${out}:v1`], { allowFail: true }).status === 0,
      false,
    );
  });

  test("ENOSPC under pack --base in the library: every file handle is released (no descriptor left open)", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    const before = fds();
    for (let i = 0; i < 3; i++)
      await assert.rejects(
        pack({
          binaries: [fixture("go-x509")],
          base: `oci:${ro}/layout:old`,
          path: "/app/second",
          caCerts: "/etc/ssl/certs/ca-certificates.crt",
          out: `oci:${full}/based-${i}:v1`,
        }),
        /ENOSPC|no space/i,
      );
    assert.equal(fds(), before, "descriptors open after three failed runs");
  });

  test("EROFS: pack and copy into a read-only file system", () => {
    const before = run("skopeo", ["inspect", "--raw", `oci:${ro}/layout:old`]).stdout;
    oneLine(
      zerodep(["pack", fixture("go-static"), "--out", `oci:${ro}/layout:new`, ...nc()]),
      /EROFS|read-only/i,
    );
    oneLine(zerodep(["copy", `oci:${ro}/layout:old`, `oci:${ro}/copy:v1`]), /EROFS|read-only/i);
    oneLine(
      zerodep(["pack", fixture("go-static"), "--out", `oci-archive:${ro}/img.tar`, ...nc()]),
      /EROFS|read-only/i,
    );
    assert.equal(run("skopeo", ["inspect", "--raw", `oci:${ro}/layout:old`]).stdout, before);
    assert.deepEqual(staging(ro), []);
  });
});
