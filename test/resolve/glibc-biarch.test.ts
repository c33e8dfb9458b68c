/**
 * A glibc loader rule found by the reality matrix (test/reality), proven here on a built root against
 * the real loader (chroot) as well as asserted on resolveDeps: Debian's biarch i386 loader
 * (libc6-i386) searches /lib32 and /usr/lib32 first.
 */
import assert from "node:assert/strict";
import { existsSync, realpathSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { FileSource } from "../../src/io/reader.js";
import { type DepsResult, resolveDeps } from "../../src/resolve/resolve.js";
import { DirRootFs } from "../../src/resolve/root-fs.js";
import { fixture, inCI, needs } from "../helpers/env.js";
import { chrootUnavailable, host, place, put, RootSet, runInRoot } from "../helpers/roots.js";

const I386_LOADER = "/lib/ld-linux.so.2";
const I386_LIBC = "/lib32/libc.so.6";
const skip =
  needs({ fixtures: ["c-32", "c-hardened"] }) ||
  (existsSync(I386_LIBC) || inCI ? false : "MISSING: /lib32/libc.so.6 (libc6-i386, gcc-multilib)");
const skipRun = chrootUnavailable();

async function deps(root: string, at: string): Promise<DepsResult> {
  const src = FileSource.open(host(root, at));
  try {
    return await resolveDeps(src, { root: new DirRootFs(root), location: at, procMounted: true });
  } finally {
    src.closeNow();
  }
}

describe("glibc biarch i386 loader", { skip }, () => {
  let roots: RootSet;
  before(() => {
    roots = new RootSet("zd-biarch-");
  });
  after(() => roots?.cleanup());

  it("an i386 program finds libc.so.6 in /lib32 (libc6-i386's loader), and really runs", async () => {
    const root = roots.emptyRoot("i386");
    put(root, realpathSync(I386_LOADER), I386_LOADER, 0o755);
    put(root, realpathSync(I386_LIBC), I386_LIBC);
    place(root, fixture("c-32"), "/app/c-32");
    const r = await deps(root, "/app/c-32");
    assert.deepEqual(r.problems, []);
    assert.equal(r.libraries.find((l) => l.name === "libc.so.6")?.path, I386_LIBC);
    if (!skipRun) {
      const real = runInRoot(root, ["/app/c-32"]);
      assert.equal(real.status, 0, real.stderr);
    }
  });
});
