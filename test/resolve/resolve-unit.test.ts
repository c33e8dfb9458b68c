/**
 * Unit tests of the resolver (src/resolve) on small roots built in a temp directory: real libraries
 * built with gcc / musl-gcc or copied from the host (the loader, libc), symbolic links, and files
 * that are not what their names say. Every resolution goes through RecordingRootFs, a proxy around
 * DirRootFs that records each path the resolver asks for, and each test asserts that none of them
 * leaves the root.
 *
 * What the glibc loader does with an unusable candidate was checked on this machine (glibc 2.36,
 * LD_LIBRARY_PATH=a:b, a real library in b):
 *   a/libq.so.1 is text ("hello")          → "libq.so.1: file too short", the program does not start
 *   a/libq.so.1 is the first 100 bytes     → "cannot read file data"
 *   a/libq.so.1 is a directory             → "cannot read file data: Error 21" (EISDIR)
 * In every case glibc stops at that candidate: it never goes on to b.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { after, before, describe, it } from "node:test";
import { IoError } from "../../src/errors.js";
import type { ByteSource } from "../../src/io/reader.js";
import { FileSource } from "../../src/io/reader.js";
import { parseLdSoCache } from "../../src/resolve/ld-so-cache.js";
import { readLdSoConf } from "../../src/resolve/ld-so-conf.js";
import { type DepsResult, expandTokens, LibraryCache, resolveDeps } from "../../src/resolve/resolve.js";
import { DirRootFs, type EntryStat, type RootFs, resolvePath } from "../../src/resolve/root-fs.js";
import { fixture, needs } from "../helpers/env.js";

const LOADER = "/lib64/ld-linux-x86-64.so.2";
/** `${NAME}` as the loader spells a braced token (built so no string literal looks like a template). */
const braced = (name: string) => `$${"{"}${name}}`;
const TRIPLET = "/lib/x86_64-linux-gnu";
const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
const skipGcc = needs({ tools: ["gcc", "readelf"] });
const skipMusl = needs({ tools: ["musl-gcc"], files: [MUSL_LOADER] });

/** A RootFs proxy that records every in-root path asked for and can deny some (EACCES). */
class RecordingRootFs implements RootFs {
  readonly seen: string[] = [];
  constructor(
    readonly inner: DirRootFs,
    readonly denied: (p: string) => boolean = () => false,
  ) {}
  get description(): string {
    return this.inner.description;
  }
  private note(p: string) {
    this.seen.push(p);
  }
  lstat(p: string): EntryStat | null {
    this.note(p);
    return this.inner.lstat(p);
  }
  readlink(p: string): string | null {
    this.note(p);
    return this.inner.readlink(p);
  }
  readdir(p: string): string[] | null {
    this.note(p);
    return this.denied(p) ? null : this.inner.readdir(p);
  }
  open(p: string): ByteSource {
    this.note(p);
    if (this.denied(p)) throw new IoError("EACCES", `${p}: permission denied`);
    return this.inner.open(p);
  }
  /** Every path asked for is absolute, normalised (no `..`): joined to the root it stays inside. */
  assertInside(): void {
    assert.ok(this.seen.length > 0, "the resolver looked at nothing");
    for (const p of this.seen) {
      assert.ok(p.startsWith("/"), `relative in-root path ${p}`);
      assert.equal(posix.normalize(p), p, `unnormalised in-root path ${p}`);
      assert.ok(!p.split("/").includes(".."), `.. in ${p}`);
      const host = join(this.inner.hostRoot, p);
      assert.ok(
        host === this.inner.hostRoot || host.startsWith(`${this.inner.hostRoot}/`),
        `${host} escapes`,
      );
    }
  }
}

let tmp = "";
let stubs = "";
let rootN = 0;

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** -l:NAME flags against a stub without DT_SONAME, so DT_NEEDED is exactly NAME. */
function neededFlags(names: string[]): string[] {
  for (const n of names) if (!existsSync(join(stubs, n))) symlinkSync("stub.so", join(stubs, n));
  return names.length ? ["-L", stubs, "-Wl,--no-as-needed", ...names.map((n) => `-l:${n}`)] : [];
}

interface LinkOpts {
  needed?: string[];
  rpath?: string;
  runpath?: string;
  soname?: string;
}
function linkFlags(o: LinkOpts): string[] {
  const f = neededFlags(o.needed ?? []);
  if (o.rpath) f.push(`-Wl,--disable-new-dtags,-rpath,${o.rpath}`);
  if (o.runpath) f.push(`-Wl,--enable-new-dtags,-rpath,${o.runpath}`);
  return f;
}

/** A glibc root: the host's loader at /lib64, libc in /lib/x86_64-linux-gnu, /app for binaries. */
function glibcRoot(): string {
  const root = join(tmp, `g${rootN++}`);
  for (const d of ["lib64", TRIPLET, "usr/lib", "etc", "app"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(realpathSync(LOADER), join(root, LOADER));
  copyFileSync(realpathSync(`${TRIPLET}/libc.so.6`), join(root, TRIPLET, "libc.so.6"));
  return root;
}

function lib(root: string, at: string, o: LinkOpts = {}, cc = "gcc"): string {
  mkdirSync(join(root, dirname(at)), { recursive: true });
  const soname = o.soname ?? at.slice(at.lastIndexOf("/") + 1);
  sh(cc, [
    "-shared",
    "-fPIC",
    "-o",
    join(root, at),
    join(tmp, "empty.c"),
    `-Wl,-soname,${soname}`,
    ...linkFlags(o),
  ]);
  return join(root, at);
}

function exe(root: string, o: LinkOpts = {}, at = "/app/main", cc = "gcc"): string {
  mkdirSync(join(root, dirname(at)), { recursive: true });
  sh(cc, ["-o", join(root, at), join(tmp, "main.c"), ...linkFlags(o)]);
  return join(root, at);
}

async function resolveIn(
  root: string,
  at = "/app/main",
  o: { ldLibraryPath?: string; denied?: (p: string) => boolean; procMounted?: boolean } = {},
): Promise<{ r: DepsResult; fs: RecordingRootFs }> {
  const fs = new RecordingRootFs(new DirRootFs(root), o.denied);
  const src = FileSource.open(join(root, at));
  try {
    // These roots stand for container images, where /proc is always mounted.
    const r = await resolveDeps(src, {
      root: fs,
      location: at,
      ldLibraryPath: o.ldLibraryPath,
      procMounted: o.procMounted ?? true,
    });
    fs.assertInside();
    return { r, fs };
  } finally {
    src.closeNow();
  }
}

const libPath = (r: DepsResult, name: string) => r.libraries.find((l) => l.name === name)?.path;
const codes = (r: DepsResult) => r.problems.map((p) => p.code);

before(() => {
  tmp = mkdtempSync(join(tmpdir(), "zd-resolve-"));
  stubs = join(tmp, "stubs");
  mkdirSync(stubs);
  writeFileSync(join(tmp, "empty.c"), "int zd_stub;\n");
  writeFileSync(join(tmp, "main.c"), "int main(void) { return 0; }\n");
  if (!skipGcc) sh("gcc", ["-shared", "-fPIC", "-o", join(stubs, "stub.so"), join(tmp, "empty.c")]);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("resolvePath: links stay inside the root", () => {
  let root = "";
  before(() => {
    root = join(tmp, "links");
    mkdirSync(join(root, "opt/real"), { recursive: true });
    mkdirSync(join(root, "lib"), { recursive: true });
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "opt/real/libfoo.so.1"), "x");
    writeFileSync(join(root, "etc/passwd"), "in-root passwd\n");
    symlinkSync("/opt/real/libfoo.so.1", join(root, "lib/abs.so"));
    symlinkSync("../../../../etc/passwd", join(root, "lib/up.so"));
    symlinkSync("loop-b", join(root, "lib/loop-a"));
    symlinkSync("loop-a", join(root, "lib/loop-b"));
    symlinkSync("self", join(root, "lib/self"));
    symlinkSync("/nowhere/libgone.so", join(root, "lib/dangling.so"));
    symlinkSync("/", join(root, "lib/rootlink"));
    symlinkSync("/opt/real/libfoo.so.1", join(root, "lib/notdir"));
  });

  it("re-roots an absolute link", () => {
    const fs = new RecordingRootFs(new DirRootFs(root));
    const r = resolvePath(fs, "/lib/abs.so");
    assert.ok(r.ok);
    assert.equal(r.path, "/opt/real/libfoo.so.1");
    assert.equal(r.stat.kind, "file");
    fs.assertInside();
  });

  it("clamps .. at the root: ../../../../etc/passwd is ROOT/etc/passwd, never the host's", () => {
    const fs = new RecordingRootFs(new DirRootFs(root));
    const r = resolvePath(fs, "/lib/up.so");
    assert.ok(r.ok);
    assert.equal(r.path, "/etc/passwd");
    assert.equal(r.stat.size, readFileSync(join(root, "etc/passwd")).length);
    const viaRootLink = resolvePath(fs, "/lib/rootlink/../../../etc/passwd");
    assert.ok(viaRootLink.ok && viaRootLink.path === "/etc/passwd");
    fs.assertInside();
  });

  it("reports ELOOP for link loops and self links, without hanging", () => {
    const fs = new RecordingRootFs(new DirRootFs(root));
    for (const p of ["/lib/loop-a", "/lib/self", "/lib/loop-b/x"]) {
      const r = resolvePath(fs, p);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, "ELOOP", p);
    }
    fs.assertInside();
  });

  it("reports ENOENT for a dangling link and ENOTDIR through a file", () => {
    const fs = new RecordingRootFs(new DirRootFs(root));
    const d = resolvePath(fs, "/lib/dangling.so");
    assert.ok(!d.ok && d.reason === "ENOENT");
    const n = resolvePath(fs, "/lib/notdir/more");
    assert.ok(!n.ok && n.reason === "ENOTDIR");
    const nofollow = resolvePath(fs, "/lib/dangling.so", { followLast: false });
    assert.ok(nofollow.ok && nofollow.stat.kind === "symlink");
    fs.assertInside();
  });
});

describe("resolveDeps on built glibc roots", { skip: skipGcc }, () => {
  it("finds a library through an absolute link re-rooted inside the root", async () => {
    const root = glibcRoot();
    lib(root, "/opt/real/libfoo.so.1");
    symlinkSync("/opt/real/libfoo.so.1", join(root, TRIPLET, "libfoo.so.1"));
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root);
    assert.deepEqual(codes(r), []);
    assert.equal(libPath(r, "libfoo.so.1"), "/opt/real/libfoo.so.1");
    assert.equal(libPath(r, "libc.so.6"), `${TRIPLET}/libc.so.6`);
    assert.equal(r.libraries[0]?.via, "interpreter");
  });

  it("a ../../../../etc/passwd link is the root's /etc/passwd (an ELF here), not the host's", async () => {
    const root = glibcRoot();
    lib(root, "/etc/passwd", { soname: "libpw.so.1" });
    symlinkSync("../../../../../../etc/passwd", join(root, TRIPLET, "libpw.so.1"));
    exe(root, { needed: ["libpw.so.1"] });
    const { r } = await resolveIn(root);
    assert.deepEqual(codes(r), []);
    assert.equal(libPath(r, "libpw.so.1"), "/etc/passwd");
  });

  it("a link loop or a dangling link is a missing library, and the search goes on", async () => {
    const root = glibcRoot();
    symlinkSync("libloop.so.1", join(root, TRIPLET, "libloop.so.1"));
    symlinkSync("/gone/libdang.so.1", join(root, TRIPLET, "libdang.so.1"));
    lib(root, "/usr/lib/libdang.so.1");
    exe(root, { needed: ["libloop.so.1", "libdang.so.1"] });
    const started = Date.now();
    const { r } = await resolveIn(root);
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(codes(r), ["MISSING_LIBRARY"]);
    assert.match(r.problems[0]!.message, /^libloop\.so\.1 /);
    assert.equal(libPath(r, "libdang.so.1"), "/usr/lib/libdang.so.1");
  });

  it("an interpreter link loop is MISSING_INTERPRETER (symbolic link loop)", async () => {
    const root = glibcRoot();
    rmSync(join(root, LOADER));
    symlinkSync("ld-linux-x86-64.so.2", join(root, LOADER));
    exe(root, {});
    const { r } = await resolveIn(root);
    // libc's own DT_NEEDED ld-linux-x86-64.so.2 is then missing too: only the first problem matters.
    assert.equal(codes(r)[0], "MISSING_INTERPRETER");
    assert.match(r.problems[0]!.message, /symbolic link loop/);
  });

  it("a non-ELF libfoo.so.1 is INVALID_LIBRARY and glibc stops there (no later directory)", async () => {
    const root = glibcRoot();
    writeFileSync(join(root, TRIPLET, "libfoo.so.1"), "this is not an ELF file\n");
    lib(root, "/usr/lib/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root);
    assert.deepEqual(codes(r), ["INVALID_LIBRARY"]);
    // glibc open_verify reads the ELF header first: 24 bytes are "file too short" (seen with the real loader in test/check/loader-faults).
    assert.match(r.problems[0]!.message, /file too short/);
    assert.equal(libPath(r, "libfoo.so.1"), undefined);
  });

  it("a truncated ELF (first 100 bytes of a library) is INVALID_LIBRARY", async () => {
    const root = glibcRoot();
    const full = lib(root, "/usr/lib/libfoo.so.1");
    writeFileSync(join(root, TRIPLET, "libfoo.so.1"), readFileSync(full).subarray(0, 100));
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root);
    assert.deepEqual(codes(r), ["INVALID_LIBRARY"]);
  });

  it('a directory named libfoo.so.1 stops glibc ("cannot read file data: Error 21")', async () => {
    const root = glibcRoot();
    mkdirSync(join(root, TRIPLET, "libfoo.so.1"));
    lib(root, "/usr/lib/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root);
    assert.equal(libPath(r, "libfoo.so.1"), undefined);
    assert.deepEqual(codes(r), ["INVALID_LIBRARY"]);
  });

  it("an enormous DT_NEEDED list (200 entries) resolves in order, quickly", async () => {
    const root = glibcRoot();
    const names = Array.from({ length: 200 }, (_, i) => `libn${i}.so.1`);
    for (const n of names) {
      // One real library per name: copies of the stub (no SONAME, so each answers only to its name).
      copyFileSync(join(stubs, "stub.so"), join(root, TRIPLET, n));
    }
    lib(root, `${TRIPLET}/libmany.so.1`, { needed: names });
    const needed = sh("readelf", ["-dW", join(root, TRIPLET, "libmany.so.1")])
      .split("\n")
      .map((l) => /\(NEEDED\)\s+Shared library: \[(.*)\]/.exec(l)?.[1])
      .filter((x): x is string => !!x);
    assert.deepEqual(
      needed.filter((n) => n !== "libc.so.6"),
      names,
    );
    exe(root, { needed: ["libmany.so.1"] });
    const started = Date.now();
    const { r } = await resolveIn(root);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.deepEqual(codes(r), []);
    const order = r.libraries.map((l) => l.name).filter((n) => n.startsWith("libn"));
    assert.deepEqual(order, names);
    assert.equal(r.libraries.length, 1 + 1 + 1 + 200); // loader, libmany, libc, 200
  });

  // Checked: `runuser -u nobody` with LD_LIBRARY_PATH=a:b and a/libq.so.1 mode 000 (or a/ mode 000)
  // starts and loads b/libq.so.1 (glibc open_path goes on after ENOENT and EACCES).
  it("a file or directory it may not open is passed over (EACCES), the search goes on", async () => {
    const root = glibcRoot();
    lib(root, "/opt/locked/libfoo.so.1");
    lib(root, "/opt/open/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"] });
    const { r, fs } = await resolveIn(root, "/app/main", {
      ldLibraryPath: "/opt/locked:/opt/open",
      denied: (p) => p === "/opt/locked" || p.startsWith("/opt/locked/"),
    });
    assert.ok(fs.seen.includes("/opt/locked/libfoo.so.1"));
    assert.equal(libPath(r, "libfoo.so.1"), "/opt/open/libfoo.so.1", JSON.stringify(r.problems));
  });

  // Checked with LD_DEBUG=libs: glibc 2.36 (Debian 12) still tries the legacy hwcaps subdirectories
  // DIR/tls/x86_64/x86_64, DIR/tls/x86_64, DIR/tls, DIR/x86_64/x86_64, DIR/x86_64 before DIR, and
  // loads a/x86_64/libq.so.1 over a/libq.so.1. glibc 2.37 removed them.
  it("glibc 2.36 prefers DIR/x86_64/NAME (legacy hwcaps subdirectory) over DIR/NAME", async () => {
    const root = glibcRoot();
    lib(root, "/opt/a/libfoo.so.1");
    lib(root, "/opt/a/x86_64/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root, "/app/main", { ldLibraryPath: "/opt/a" });
    assert.equal(libPath(r, "libfoo.so.1"), "/opt/a/x86_64/libfoo.so.1");
  });

  it("without /proc the main program's $ORIGIN entries are dropped (glibc needs /proc/self/exe)", async () => {
    const root = glibcRoot();
    lib(root, "/app/lib/liba.so.1");
    exe(root, { needed: ["liba.so.1"], runpath: "$ORIGIN/lib" });
    const { r } = await resolveIn(root, "/app/main", { procMounted: false });
    assert.deepEqual(codes(r), ["MISSING_LIBRARY"]);
    const { r: r2 } = await resolveIn(root, "/app/main", { procMounted: true });
    assert.deepEqual(codes(r2), []);
  });

  it("$ORIGIN, braced ORIGIN, $LIB and braced PLATFORM in DT_RUNPATH", async () => {
    const root = glibcRoot();
    lib(root, "/app/lib/liba.so.1");
    lib(root, "/app/sub/libb.so.1");
    lib(root, "/opt/lib64/libc2.so.1");
    lib(root, "/opt/x86_64/libd.so.1");
    exe(root, {
      needed: ["liba.so.1", "libb.so.1", "libc2.so.1", "libd.so.1"],
      runpath: `$ORIGIN/lib:${braced("ORIGIN")}/sub:/opt/$LIB:/opt/${braced("PLATFORM")}`,
    });
    const { r } = await resolveIn(root);
    assert.deepEqual(codes(r), []);
    assert.equal(libPath(r, "liba.so.1"), "/app/lib/liba.so.1");
    assert.equal(libPath(r, "libb.so.1"), "/app/sub/libb.so.1");
    assert.equal(libPath(r, "libc2.so.1"), "/opt/lib64/libc2.so.1");
    assert.equal(libPath(r, "libd.so.1"), "/opt/x86_64/libd.so.1");
    for (const n of ["liba.so.1", "libb.so.1", "libc2.so.1", "libd.so.1"])
      assert.equal(r.libraries.find((l) => l.name === n)?.via, "runpath");
  });

  it("expandTokens: tokens, braces, and names that only start like a token", () => {
    const x86 = { cls: 64, little: true, machine: 62 } as unknown as Parameters<typeof expandTokens>[2];
    const arm = { cls: 64, little: true, machine: 183 } as unknown as Parameters<typeof expandTokens>[2];
    assert.equal(expandTokens("$ORIGIN/../lib", "/app/bin", x86), "/app/bin/../lib");
    assert.equal(expandTokens(`${braced("ORIGIN")}/x:$ORIGIN`, "/o", x86), "/o/x:/o");
    assert.equal(expandTokens(`/usr/$LIB/${braced("LIB")}`, "/", x86), "/usr/lib64/lib64");
    assert.equal(expandTokens(`/p/$PLATFORM/${braced("PLATFORM")}`, "/", x86), "/p/x86_64/x86_64");
    assert.equal(expandTokens("/p/$PLATFORM", "/", arm), "/p/aarch64");
    assert.equal(expandTokens("/x/$ORIGINAL", "/o", x86), "/x/$ORIGINAL");
  });

  it("DT_RPATH is searched before LD_LIBRARY_PATH, DT_RUNPATH after it", async () => {
    const root = glibcRoot();
    lib(root, "/opt/a/libfoo.so.1");
    lib(root, "/opt/b/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"], rpath: "/opt/a" }, "/app/rp");
    exe(root, { needed: ["libfoo.so.1"], runpath: "/opt/a" }, "/app/rup");
    const rp = (await resolveIn(root, "/app/rp", { ldLibraryPath: "/opt/b" })).r;
    assert.equal(libPath(rp, "libfoo.so.1"), "/opt/a/libfoo.so.1");
    assert.equal(rp.libraries.find((l) => l.name === "libfoo.so.1")?.via, "rpath");
    const rup = (await resolveIn(root, "/app/rup", { ldLibraryPath: "/opt/b" })).r;
    assert.equal(libPath(rup, "libfoo.so.1"), "/opt/b/libfoo.so.1");
    assert.equal(rup.libraries.find((l) => l.name === "libfoo.so.1")?.via, "ld_library_path");
  });

  it("DT_RPATH is inherited down the loader chain, DT_RUNPATH is not; RUNPATH in the requester disables RPATH", async () => {
    const root = glibcRoot();
    lib(root, "/opt/r/libchild.so.1");
    lib(root, `${TRIPLET}/libmid.so.1`, { needed: ["libchild.so.1"] });
    lib(root, `${TRIPLET}/libmidrun.so.1`, { needed: ["libchild2.so.1"], runpath: "/nowhere" });
    lib(root, "/opt/r/libchild2.so.1");
    exe(root, { needed: ["libmid.so.1"], rpath: "/opt/r" }, "/app/rp");
    exe(root, { needed: ["libmid.so.1"], runpath: "/opt/r" }, "/app/rup");
    exe(root, { needed: ["libmidrun.so.1"], rpath: "/opt/r" }, "/app/rpx");
    const rp = (await resolveIn(root, "/app/rp")).r;
    assert.equal(libPath(rp, "libchild.so.1"), "/opt/r/libchild.so.1");
    const child = rp.tree.children.find((c) => c.name === "libmid.so.1")?.children[0];
    assert.equal(child?.via, "rpath");
    assert.equal(child?.viaObject, "/app/rp");
    const rup = (await resolveIn(root, "/app/rup")).r;
    assert.equal(libPath(rup, "libchild.so.1"), undefined);
    assert.deepEqual(codes(rup), ["MISSING_LIBRARY"]);
    const rpx = (await resolveIn(root, "/app/rpx")).r;
    assert.deepEqual(codes(rpx), ["MISSING_LIBRARY"]);
  });

  it("LD_LIBRARY_PATH is searched in order", async () => {
    const root = glibcRoot();
    lib(root, "/opt/a/libfoo.so.1");
    lib(root, "/opt/b/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"] });
    assert.equal(
      libPath((await resolveIn(root, "/app/main", { ldLibraryPath: "/opt/b:/opt/a" })).r, "libfoo.so.1"),
      "/opt/b/libfoo.so.1",
    );
    assert.equal(
      libPath((await resolveIn(root, "/app/main", { ldLibraryPath: "/opt/a:/opt/b" })).r, "libfoo.so.1"),
      "/opt/a/libfoo.so.1",
    );
    assert.equal(
      libPath((await resolveIn(root, "/app/main", { ldLibraryPath: "/nope::/opt/b" })).r, "libfoo.so.1"),
      "/opt/b/libfoo.so.1",
    );
  });

  it("ld.so.cache inside the root is used (built there by ldconfig -r), before the system dirs", async () => {
    const root = glibcRoot();
    lib(root, "/opt/c/libfoo.so.1");
    lib(root, "/usr/lib/libfoo.so.1");
    writeFileSync(join(root, "etc/ld.so.conf"), "/opt/c\n");
    sh("ldconfig", ["-X", "-r", root]);
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root);
    assert.equal(libPath(r, "libfoo.so.1"), "/opt/c/libfoo.so.1");
    assert.equal(r.libraries.find((l) => l.name === "libfoo.so.1")?.via, "ld.so.cache");
    rmSync(join(root, "etc/ld.so.cache"));
    const again = (await resolveIn(root)).r;
    assert.equal(libPath(again, "libfoo.so.1"), "/usr/lib/libfoo.so.1");
    assert.equal(again.libraries.find((l) => l.name === "libfoo.so.1")?.via, "default");
  });

  it("a wrong-class candidate is skipped, the search goes on", {
    skip: needs({ fixtures: ["c-32"] }),
  }, async () => {
    const root = glibcRoot();
    mkdirSync(join(root, "opt/w"), { recursive: true });
    // A 32-bit ELF under the wanted name: glibc open_verify skips it (wrong ELFCLASS).
    copyFileSync(fixture("c-32"), join(root, "opt/w/libfoo.so.1"));
    lib(root, "/usr/lib/libfoo.so.1");
    exe(root, { needed: ["libfoo.so.1"] });
    const { r } = await resolveIn(root, "/app/main", { ldLibraryPath: "/opt/w" });
    assert.equal(libPath(r, "libfoo.so.1"), "/usr/lib/libfoo.so.1");
    const node = r.tree.children.find((c) => c.name === "libfoo.so.1");
    assert.equal(node?.skipped?.[0]?.path, "/opt/w/libfoo.so.1");
  });
});

describe("readLdSoConf", () => {
  it("follows include globs (sorted, relative to the including file), survives include loops", async () => {
    const root = join(tmp, "conf");
    mkdirSync(join(root, "etc/ld.so.conf.d"), { recursive: true });
    writeFileSync(join(root, "etc/ld.so.conf"), "include ld.so.conf.d/*.conf\n/first # comment\n");
    writeFileSync(join(root, "etc/ld.so.conf.d/b.conf"), "/b1:/b2,/b3\ninclude /etc/ld.so.conf\n");
    writeFileSync(
      join(root, "etc/ld.so.conf.d/a.conf"),
      "/a1\n\n  /a2/ \nhwcap 0 nosegneg\n/usr/lib=libc6\n",
    );
    writeFileSync(join(root, "etc/ld.so.conf.d/self.conf"), "include self.conf\n/self\n");
    writeFileSync(join(root, "etc/ld.so.conf.d/skip.txt"), "/not-included\n");
    const fs = new RecordingRootFs(new DirRootFs(root));
    const r = await readLdSoConf(fs);
    assert.deepEqual(r.dirs, ["/a1", "/a2", "/usr/lib", "/b1", "/b2", "/b3", "/self", "/first"]);
    assert.deepEqual(r.files, [
      "/etc/ld.so.conf",
      "/etc/ld.so.conf.d/a.conf",
      "/etc/ld.so.conf.d/b.conf",
      "/etc/ld.so.conf.d/self.conf",
    ]);
    fs.assertInside();
  });

  it("an absolute include is read inside the root; a missing or unreadable one is ignored", async () => {
    const root = join(tmp, "conf2");
    mkdirSync(join(root, "etc/locked"), { recursive: true });
    writeFileSync(join(root, "etc/ld.so.conf"), "include /etc/locked/*.conf\ninclude /etc/none/*.conf\n/x\n");
    writeFileSync(join(root, "etc/locked/l.conf"), "/locked\n");
    const fs = new RecordingRootFs(new DirRootFs(root), (p) => p.startsWith("/etc/locked"));
    assert.deepEqual((await readLdSoConf(fs)).dirs, ["/x"]);
    fs.assertInside();
  });
});

describe("parseLdSoCache", { skip: needs({ tools: ["ldconfig"] }) }, () => {
  /** `ldconfig -p` lines: name, flags text, path; and its "N libs found" count. */
  function ldconfigP(args: string[]) {
    const out = sh("ldconfig", ["-p", ...args]);
    const count = Number(/^(\d+) libs found/.exec(out)?.[1]);
    const pairs = [...out.matchAll(/^\t(\S+) \(([^)]*)\) => (.*)$/gm)].map((m) => `${m[1]} => ${m[3]}`);
    return { count, pairs };
  }

  it("agrees with ldconfig -p on this machine's /etc/ld.so.cache", () => {
    const ours = parseLdSoCache(readFileSync("/etc/ld.so.cache"));
    assert.ok(ours);
    const { count, pairs } = ldconfigP([]);
    assert.equal(ours.length, count);
    assert.equal(pairs.length, count);
    const mine = new Map<string, number>();
    for (const e of ours) mine.set(`${e.name} => ${e.path}`, (mine.get(`${e.name} => ${e.path}`) ?? 0) + 1);
    for (const p of pairs) {
      const n = mine.get(p) ?? 0;
      assert.ok(n > 0, `ldconfig -p lists ${p}, our parse does not`);
      mine.set(p, n - 1);
    }
    // Same order too: ldconfig -p prints the entries as stored.
    assert.deepEqual(
      ours.map((e) => `${e.name} => ${e.path}`),
      pairs,
    );
  });

  it("agrees with ldconfig -p -C on a cache built in a temp root", () => {
    const root = join(tmp, "cache");
    mkdirSync(join(root, "etc"), { recursive: true });
    mkdirSync(join(root, "opt/c"), { recursive: true });
    if (!skipGcc)
      for (const n of ["liba.so.1", "libb.so.2"])
        sh("gcc", [
          "-shared",
          "-fPIC",
          "-o",
          join(root, "opt/c", n),
          join(tmp, "empty.c"),
          `-Wl,-soname,${n}`,
        ]);
    writeFileSync(join(root, "etc/ld.so.conf"), "/opt/c\n");
    sh("ldconfig", ["-X", "-r", root]);
    const ours = parseLdSoCache(readFileSync(join(root, "etc/ld.so.cache")));
    const { count, pairs } = ldconfigP(["-C", join(root, "etc/ld.so.cache")]);
    assert.ok(ours);
    assert.equal(ours.length, count);
    assert.deepEqual(
      ours.map((e) => `${e.name} => ${e.path}`),
      pairs,
    );
  });

  it("rejects garbage and truncation", () => {
    assert.equal(parseLdSoCache(new TextEncoder().encode("not a cache at all, really not")), null);
    const real = readFileSync("/etc/ld.so.cache");
    assert.equal(parseLdSoCache(real.subarray(0, 100)), null);
    assert.equal(parseLdSoCache(new Uint8Array(0)), null);
  });
});

describe("musl", { skip: skipMusl }, () => {
  function muslRoot(pathFile?: string): string {
    const root = join(tmp, `m${rootN++}`);
    mkdirSync(join(root, "lib"), { recursive: true });
    mkdirSync(join(root, "etc"), { recursive: true });
    copyFileSync(realpathSync(MUSL_LOADER), join(root, MUSL_LOADER));
    if (pathFile !== undefined) writeFileSync(join(root, "etc/ld-musl-x86_64.path"), pathFile);
    return root;
  }

  it("reads <prefix>/etc/ld-musl-x86_64.path; libc.so and libpthread.so.0 are the loader itself", async () => {
    const root = muslRoot("/opt/m1:/opt/m2\n/usr/lib\n");
    lib(root, "/opt/m2/libzm.so.1", {}, "musl-gcc");
    lib(root, "/lib/libzm.so.1", {}, "musl-gcc"); // default path: not searched when the path file exists
    exe(root, { needed: ["libzm.so.1", "libpthread.so.0"] }, "/app/main", "musl-gcc");
    const { r } = await resolveIn(root);
    assert.equal(r.loader, "musl");
    assert.deepEqual(codes(r), []);
    assert.equal(libPath(r, "libzm.so.1"), "/opt/m2/libzm.so.1");
    assert.equal(r.libraries.find((l) => l.name === "libzm.so.1")?.via, "musl-path");
    for (const n of ["libc.so", "libpthread.so.0"]) {
      const node = r.tree.children.find((c) => c.name === n);
      assert.equal(node?.via, "musl-builtin", n);
      assert.equal(node?.path, MUSL_LOADER);
    }
  });

  it("without a path file: /lib:/usr/local/lib:/usr/lib", async () => {
    const root = muslRoot();
    lib(root, "/usr/local/lib/libzm.so.1", {}, "musl-gcc");
    lib(root, "/usr/lib/libzm.so.1", {}, "musl-gcc");
    exe(root, { needed: ["libzm.so.1"] }, "/app/main", "musl-gcc");
    const { r } = await resolveIn(root);
    assert.equal(libPath(r, "libzm.so.1"), "/usr/local/lib/libzm.so.1");
  });

  it("musl takes the first existing file, even a bad one (no skipping)", async () => {
    const root = muslRoot();
    writeFileSync(join(root, "lib/libzm.so.1"), "text\n");
    lib(root, "/usr/lib/libzm.so.1", {}, "musl-gcc");
    exe(root, { needed: ["libzm.so.1"] }, "/app/main", "musl-gcc");
    const { r } = await resolveIn(root);
    assert.deepEqual(codes(r), ["INVALID_LIBRARY"]);
  });
});

describe("reuse", { skip: skipGcc }, () => {
  it("a LibraryCache shared across binaries gives the same answers", async () => {
    const root = glibcRoot();
    lib(root, `${TRIPLET}/libfoo.so.1`);
    exe(root, { needed: ["libfoo.so.1"] }, "/app/a");
    exe(root, {}, "/app/b");
    const cache = new LibraryCache();
    const fs = new RecordingRootFs(new DirRootFs(root));
    const out: DepsResult[] = [];
    for (const at of ["/app/a", "/app/b", "/app/a"]) {
      const src = FileSource.open(join(root, at));
      out.push(await resolveDeps(src, { root: fs, location: at, cache }));
      src.closeNow();
    }
    assert.deepEqual(out[0]!.libraries, out[2]!.libraries);
    assert.equal(libPath(out[1]!, "libc.so.6"), `${TRIPLET}/libc.so.6`);
    fs.assertInside();
  });
});
