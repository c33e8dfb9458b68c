/**
 * test/helpers/qemu.ts: ensureBinfmt makes foreign-architecture programs run here, inside podman
 * containers too (binfmt_misc flag F), which the build tests need to run their arm64 and arm images.
 * Proof: a static Go hello built here for the foreign architecture, packed by `zerodep pack`, run by
 * podman+runc, prints the GOARCH it was compiled for — only that architecture's code can print it.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { needs, run, skipNow } from "../helpers/env.js";
import { podmanRun } from "../helpers/podman.js";
import { ensureBinfmt, type QemuArch } from "../helpers/qemu.js";

// podman names an oci: image after its directory, and a reference must be lower case: no mkdtemp.
const work = join(tmpdir(), `zerodep-qemu-${process.pid}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

const src = join(work, "src");
mkdirSync(src);
writeFileSync(join(src, "go.mod"), "module example.invalid/hello\n\ngo 1.21\n");
writeFileSync(
  join(src, "main.go"),
  'package main\n\nimport (\n\t"fmt"\n\t"runtime"\n)\n\nfunc main() { fmt.Println(runtime.GOARCH) }\n',
);

const CASES: { arch: QemuArch; env: Record<string, string>; goarch: string; elfMachine: number }[] = [
  { arch: "aarch64", env: { GOARCH: "arm64" }, goarch: "arm64", elfMachine: 183 /* EM_AARCH64 */ },
  { arch: "arm", env: { GOARCH: "arm", GOARM: "7" }, goarch: "arm", elfMachine: 40 /* EM_ARM */ },
];

describe("ensureBinfmt: foreign static Go programs run in podman through qemu-user-static", {
  skip:
    (process.arch !== "x64" ? "needs an amd64 machine" : false) || needs({ tools: ["go", "podman", "runc"] }),
}, () => {
  for (const c of CASES) {
    test(`qemu-${c.arch}: a GOARCH=${c.goarch} hello packed by zerodep prints ${c.goarch} under podman`, (t) => {
      const state = ensureBinfmt(c.arch);
      t.diagnostic(`ensureBinfmt(${c.arch}): ${JSON.stringify(state)}`);
      if (!state.ok) return skipNow(t, `qemu-${c.arch} cannot be registered: ${state.why}`);
      const entry = `/proc/sys/fs/binfmt_misc/qemu-${c.arch}`;
      assert.match(readFileSync(entry, "utf8"), /^enabled$/m);
      assert.match(readFileSync(entry, "utf8"), /^flags: .*F/m);
      // Idempotent: a second call finds the registration and changes nothing.
      const again = ensureBinfmt(c.arch);
      assert.equal(again.ok, true, again.why);
      assert.match(again.why, /^already registered/);

      const bin = join(work, `hello-${c.goarch}`);
      const env = { ...process.env, GOTOOLCHAIN: "local", GOPROXY: "off", CGO_ENABLED: "0", ...c.env };
      run("sh", ["-c", 'cd "$1" && exec go build -o "$2" .', "sh", src, bin], { env });
      // The program really is foreign: e_machine (offset 18, 2 bytes LE) names the target, not x86-64.
      assert.equal(readFileSync(bin).readUInt16LE(18), c.elfMachine);

      const image = `oci:${join(work, `img-${c.goarch}`)}:t`;
      const packed = zerodep(["pack", bin, "--out", image]);
      assert.equal(packed.code, 0, packed.stderr);
      // podman warns that the image's platform is not the host's and runs it: no --arch needed for a
      // single-platform oci: image.
      const r = podmanRun(join(work, "podman"), image);
      assert.equal(r.code, 0, `podman run ${image}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), c.goarch);
      assert.ok(existsSync(entry));
    });
  }
});
