/**
 * Loaders and libraries that are present but wrong — of the other class, for another machine, not ELF,
 * cut short, without an execute bit — in chroot roots with the real glibc loader. For each, `check`
 * must say "will not run" exactly when the real run fails, with ONE error whose quoted text is what the
 * kernel or the loader really prints (not also a missing library that follows from the same cause).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs } from "../helpers/env.js";
import { chrootUnavailable, GLIBC_LOADER, host, MULTIARCH, place, put, RootSet } from "../helpers/roots.js";

const I386_LOADER = "/lib32/ld-linux.so.2";
const I386_LIBC = "/lib32/libc.so.6";
const HOST_LIBC = `${MULTIARCH}/libc.so.6`;

interface Case {
  name: string;
  /** Replaces parts of a working root (loader at /lib64, libc in the multiarch directory). */
  spoil: (root: string) => void;
}

/** A copy of a host ELF file with e_machine rewritten (183 = AArch64): same class, another CPU. */
function otherMachine(file: string): Buffer {
  const b = Buffer.from(readFileSync(file));
  b.writeUInt16LE(183, 18);
  return b;
}

function replace(root: string, inRoot: string, bytes: Buffer | string, mode = 0o755): void {
  rmSync(host(root, inRoot), { force: true });
  writeFileSync(host(root, inRoot), bytes);
  chmodSync(host(root, inRoot), mode);
}

const CASES: Case[] = [
  { name: "sound root (control)", spoil: () => {} },
  { name: "loader of the other class", spoil: (r) => put(r, I386_LOADER, GLIBC_LOADER, 0o755) },
  { name: "loader for another machine", spoil: (r) => replace(r, GLIBC_LOADER, otherMachine(GLIBC_LOADER)) },
  { name: "loader is a short text file", spoil: (r) => replace(r, GLIBC_LOADER, "garbage\n") },
  {
    name: "loader is a long text file",
    spoil: (r) => replace(r, GLIBC_LOADER, "not an ELF file\n".repeat(300)),
  },
  { name: "loader without an execute bit", spoil: (r) => put(r, GLIBC_LOADER, GLIBC_LOADER, 0o644) },
  { name: "libc of the other class", spoil: (r) => put(r, I386_LIBC, HOST_LIBC, 0o755) },
  { name: "libc for another machine", spoil: (r) => replace(r, HOST_LIBC, otherMachine(HOST_LIBC)) },
  { name: "libc is not ELF", spoil: (r) => replace(r, HOST_LIBC, "not an ELF file\n".repeat(300)) },
  { name: "libc shorter than an ELF header", spoil: (r) => replace(r, HOST_LIBC, "not an ELF file\n") },
];

const norm = (s: string) => s.replace(/[`‘’]/g, "'").toLowerCase();

describe("loaders and libraries present but wrong (chroot)", {
  skip: chrootUnavailable() || needs({ tools: ["chroot"], fixtures: ["c-hardened"] }),
}, () => {
  const roots = new RootSet("zd-loader-");
  after(() => roots.cleanup());

  for (const c of CASES) {
    it(c.name, () => {
      const root = roots.glibcRoot({ name: c.name.replace(/\W+/g, "-").slice(0, 24) });
      place(root, fixture("c-hardened"), "/app/c");
      c.spoil(root);
      const r = zerodep(["check", "--json", "--root", root, host(root, "/app/c")]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      const o = JSON.parse(r.stdout) as {
        runnable: boolean;
        problems: { code: string; severity: string; message: string }[];
      };
      const real = spawnSync("chroot", [root, "/app/c"], {
        encoding: "utf8",
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
        timeout: 10_000,
      });
      assert.ifError(real.error);
      const runs = real.status === 0 && real.signal === null;
      const shown = `real: exit ${real.status} ${JSON.stringify(real.stderr)}; check: ${JSON.stringify(o.problems)}`;
      assert.equal(o.runnable, runs, `${c.name}: verdict vs reality; ${shown}`);
      if (c.name.includes("control")) assert.ok(runs, `the control root must run; ${shown}`);
      if (runs) return;
      const errors = o.problems.filter((p) => p.severity === "error");
      assert.equal(errors.length, 1, `${c.name}: one cause, one problem; ${shown}`);
      const quoted = /"([^"]+)"/.exec(errors[0]!.message)?.[1];
      assert.ok(quoted, `${c.name}: the problem quotes the real error; ${shown}`);
      assert.ok(
        norm(real.stderr).includes(norm(quoted)),
        `${c.name}: quote ${JSON.stringify(quoted)}; ${shown}`,
      );
    });
  }
});
