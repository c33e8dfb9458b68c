/**
 * The Rust builder against the real cargo, rustc and crates.io (issue #14): static musl binaries checked
 * with our ELF reader and with readelf/file, byte-identical builds from two clones with different
 * CARGO_HOME and target directories, and one clear error line for each kind of bad input. The built
 * binaries are never run here (the image tests run them under podman).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { buildRust, isCargoProject, rustTriple } from "../../src/build/rust.js";
import type { BuiltBinary } from "../../src/build/types.js";
import { ZerodepError } from "../../src/errors.js";
import { inspectFile } from "../../src/inspect/inspect.js";
import type { Platform } from "../../src/oci/types.js";
import { needs, repoRoot, run, skipNow } from "../helpers/env.js";

const skip = needs({ tools: ["cargo", "rustc", "readelf", "file"] });
const SRC = join(repoRoot, "test", "fixtures", "build-src");
const AMD64: Platform = { os: "linux", architecture: "amd64" };
const work = mkdtempSync(join(tmpdir(), "zerodep-rust-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A copy of a fixture in a fresh directory, with its own target directory (the repo is never written). */
function copyFixture(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const root = join(work, `${name}-${++n}`);
  const dir = join(root, name);
  cpSync(join(SRC, name), dir, { recursive: true });
  return { dir, env: { ...process.env, CARGO_TARGET_DIR: join(root, "target"), RUSTFLAGS: "" } };
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The sysroot's installed targets, read without our code (rustc's own answer plus the directory). */
function installed(triple: string): boolean {
  const sysroot = run("rustc", ["--print", "sysroot"]).stdout.trim();
  return existsSync(join(sysroot, "lib", "rustlib", triple, "lib"));
}

async function buildError(p: Promise<unknown>): Promise<ZerodepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ZerodepError, `a ZerodepError, got ${String(e)}`);
    return e;
  }
  assert.fail("the build should have failed");
}

/** Facts from binutils' readelf and file(1), not from our reader. */
function toolFacts(file: string) {
  const dyn = run("readelf", ["-dW", file]).stdout;
  const phdrs = run("readelf", ["-lW", file]).stdout;
  const sections = run("readelf", ["-SW", file]).stdout;
  return {
    needed: [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]),
    interp: /\bINTERP\b/.test(phdrs),
    machine: /Machine:\s+(.+)/.exec(run("readelf", ["-hW", file]).stdout)?.[1]?.trim(),
    symtab: /\s\.symtab\s/.test(sections),
    depV0: /\s\.dep-v0\s/.test(sections),
    file: run("file", ["-b", file]).stdout.trim(),
  };
}

const hasAuditable = spawnSync("cargo", ["auditable", "--version"], { stdio: "ignore" }).status === 0;

describe("buildRust", { skip }, () => {
  it("builds a static, stripped x86-64 musl binary from a crate with a crates.io dependency", async () => {
    const { dir, env } = copyFixture("rust-hello");
    const seen: string[][] = [];
    const built = await buildRust({
      dir,
      targets: [],
      platforms: [AMD64],
      opts: { processEnv: env, onCommand: (argv) => seen.push(argv) },
    });
    assert.equal(built.length, 1);
    const b = built[0]!;
    assert.equal(b.name, "rust-hello");
    assert.equal(b.language, "rust");
    assert.equal(b.platform, "linux/amd64");
    assert.equal(b.cgo, "off");
    assert.equal(b.file, join(env.CARGO_TARGET_DIR!, "x86_64-unknown-linux-musl", "release", "rust-hello"));
    assert.deepEqual(seen, [b.command]);
    // the committed Cargo.lock is honoured; the dependency list is kept when cargo-auditable is there
    assert.ok(b.command.includes("--locked"), b.command.join(" "));
    assert.equal(b.command[1] === "auditable", hasAuditable, b.command.join(" "));

    const ours = await inspectFile(b.file);
    assert.equal(ours.arch, "amd64");
    assert.ok(ours.linkage === "static" || ours.linkage === "static-pie", String(ours.linkage));
    assert.equal(ours.interpreter, null);
    assert.deepEqual(ours.needed, []);
    assert.equal(ours.libc, "musl");
    assert.equal(ours.stripped, true);
    assert.ok(
      ours.toolchain.some((t) => t.startsWith("rustc")),
      ours.toolchain.join(", "),
    );

    const t = toolFacts(b.file);
    assert.deepEqual(t.needed, []);
    assert.equal(t.interp, false);
    assert.equal(t.machine, "Advanced Micro Devices X86-64");
    assert.equal(t.symtab, false, "-C strip=symbols removes .symtab");
    assert.equal(t.depV0, hasAuditable, "cargo auditable's .dep-v0 section is there exactly when it ran");
    assert.match(t.file, /x86-64/);
    assert.match(t.file, /static(-pie)? linked|statically linked/);
    assert.doesNotMatch(t.file, /interpreter/);
  });

  it("two clones in different directories with different CARGO_HOME and target dirs give identical bytes", async (t: TestContext) => {
    // the first clone uses the user's CARGO_HOME, the second an empty one (cargo fetches fastrand from
    // crates.io into it), so the dependency's source lives under two different absolute paths
    const a = copyFixture("rust-hello");
    const b = copyFixture("rust-hello");
    const home = join(work, "cargo-home-2");
    mkdirSync(home);
    b.env.CARGO_HOME = home;
    const build = (c: { dir: string; env: NodeJS.ProcessEnv }, noTrimpath = false) =>
      buildRust({ dir: c.dir, targets: [], platforms: [AMD64], opts: { processEnv: c.env, noTrimpath } });
    let one: BuiltBinary[];
    let two: BuiltBinary[];
    try {
      one = await build(a);
      two = await build(b);
    } catch (e) {
      if (e instanceof ZerodepError && /crates\.io|index|download|network|resolve/i.test(e.message)) {
        return skipNow(t, `crates.io not reachable: ${e.message}`);
      }
      throw e;
    }
    assert.notEqual(one[0]!.file, two[0]!.file);
    assert.ok(existsSync(join(home, "registry", "src")), "the second build fetched into its own CARGO_HOME");
    assert.equal(sha256(two[0]!.file), sha256(one[0]!.file));
    // the dependency's panic location is in the binary, under the remapped prefix only
    const text = readFileSync(one[0]!.file).toString("latin1");
    assert.match(text, /\/cargo\/registry\/src\/[^/]+\/fastrand-2\.3\.0\/src\/lib\.rs/);
    assert.ok(!text.includes(home) && !text.includes(a.dir) && !text.includes(b.dir));

    // and the test can fail: without the remapping the same two clones differ
    const rawA = copyFixture("rust-hello");
    const rawB = copyFixture("rust-hello");
    rawB.env.CARGO_HOME = home;
    const [x] = await build(rawA, true);
    const [y] = await build(rawB, true);
    assert.notEqual(sha256(x!.file), sha256(y!.file));
    assert.ok(
      readFileSync(y!.file)
        .toString("latin1")
        .includes(join(home, "registry", "src")),
    );
  });

  it("builds every [[bin]] of a package by default, and one by name", async () => {
    const all = copyFixture("rust-two");
    const both = await buildRust({
      dir: all.dir,
      targets: [],
      platforms: [AMD64],
      opts: { processEnv: all.env },
    });
    assert.deepEqual(both.map((b) => b.name).sort(), ["server", "worker"]);
    for (const b of both) {
      assert.ok(existsSync(b.file), b.file);
      assert.equal(toolFacts(b.file).interp, false);
    }
    const one = copyFixture("rust-two");
    const worker = await buildRust({
      dir: one.dir,
      targets: ["worker"],
      platforms: [AMD64],
      opts: { processEnv: one.env },
    });
    assert.deepEqual(
      worker.map((b) => b.name),
      ["worker"],
    );
    assert.ok(!existsSync(join(one.env.CARGO_TARGET_DIR!, "x86_64-unknown-linux-musl", "release", "server")));
  });

  it("a virtual workspace builds its members' bins; a library-only member is NO_BINARY_TARGET", async () => {
    const root = join(work, `ws-${++n}`);
    cpSync(join(SRC, "rust-two"), join(root, "two"), { recursive: true });
    rmSync(join(root, "two", "Cargo.lock"));
    mkdirSync(join(root, "lib-only", "src"), { recursive: true });
    writeFileSync(
      join(root, "lib-only", "Cargo.toml"),
      '[package]\nname = "lib-only"\nversion = "0.1.0"\nedition = "2021"\n',
    );
    writeFileSync(join(root, "lib-only", "src", "lib.rs"), "pub fn f() {}\n");
    writeFileSync(join(root, "Cargo.toml"), '[workspace]\nmembers = ["two", "lib-only"]\nresolver = "2"\n');
    const env = { ...process.env, CARGO_TARGET_DIR: join(root, "target"), RUSTFLAGS: "" };
    const e = await buildError(
      buildRust({ dir: join(root, "lib-only"), targets: [], platforms: [AMD64], opts: { processEnv: env } }),
    );
    assert.equal(e.code, "NO_BINARY_TARGET");
    assert.match(e.message, /in this package$/);
    const built = await buildRust({ dir: root, targets: [], platforms: [AMD64], opts: { processEnv: env } });
    assert.deepEqual(built.map((b) => b.name).sort(), ["server", "worker"]);
    assert.ok(!built[0]!.command.includes("--locked"), "no Cargo.lock, so no --locked");
    for (const b of built) assert.ok(existsSync(b.file), b.file);
  });

  it("an unknown binary name is NO_BINARY_TARGET listing the known ones, before anything is compiled", async () => {
    const { dir, env } = copyFixture("rust-two");
    const e = await buildError(
      buildRust({ dir, targets: ["client"], platforms: [AMD64], opts: { processEnv: env } }),
    );
    assert.equal(e.code, "NO_BINARY_TARGET");
    assert.match(e.message, /"client"/);
    assert.match(e.message, /known: server, worker/);
    assert.ok(!existsSync(env.CARGO_TARGET_DIR!), "nothing was built");
  });

  it("a platform whose rustup target is not installed is RUST_TARGET_MISSING with the rustup fix", async (t: TestContext) => {
    if (installed("riscv64gc-unknown-linux-musl"))
      return skipNow(t, "riscv64gc-unknown-linux-musl is installed here");
    const { dir, env } = copyFixture("rust-hello");
    const e = await buildError(
      buildRust({
        dir,
        targets: [],
        platforms: [{ os: "linux", architecture: "riscv64" }],
        opts: { processEnv: env },
      }),
    );
    assert.equal(e.code, "RUST_TARGET_MISSING");
    assert.match(e.message, /fix: rustup target add riscv64gc-unknown-linux-musl$/);
    assert.doesNotMatch(e.message, /\n/);
    assert.ok(!existsSync(env.CARGO_TARGET_DIR!), "nothing was built");
  });

  it("linux/arm64 links with rust-lld and musl's own crt when the target is installed, else says how to add it", async () => {
    const { dir, env } = copyFixture("rust-hello");
    const p = buildRust({
      dir,
      targets: [],
      platforms: [{ os: "linux", architecture: "arm64" }],
      opts: { processEnv: env },
    });
    if (!installed("aarch64-unknown-linux-musl")) {
      const e = await buildError(p);
      assert.equal(e.code, "RUST_TARGET_MISSING");
      assert.match(e.message, /fix: rustup target add aarch64-unknown-linux-musl$/);
      return;
    }
    const [b] = await p;
    assert.equal(b!.env.CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER, "rust-lld");
    const ours = await inspectFile(b!.file);
    assert.equal(ours.arch, "arm64");
    assert.equal(ours.interpreter, null);
    assert.equal(ours.libc, "musl");
    const f = toolFacts(b!.file);
    assert.equal(f.machine, "AArch64");
    assert.deepEqual(f.needed, []);
    assert.equal(f.interp, false);
  });

  it("cgo bundle builds the gnu target: dynamic, glibc's loader, cgo recorded as bundle", async () => {
    const { dir, env } = copyFixture("rust-hello");
    const [b] = await buildRust({
      dir,
      targets: [],
      platforms: [AMD64],
      opts: { processEnv: env, cgo: "bundle" },
    });
    assert.equal(b!.cgo, "bundle");
    assert.equal(b!.file, join(env.CARGO_TARGET_DIR!, "x86_64-unknown-linux-gnu", "release", "rust-hello"));
    const f = toolFacts(b!.file);
    assert.equal(f.interp, true);
    assert.ok(f.needed.includes("libc.so.6"), f.needed.join(", "));
    assert.equal((await inspectFile(b!.file)).libc, "glibc");
  });

  it("a compile error is COMPILE_FAILED with rustc's own error code and place, on one line", async () => {
    const { dir, env } = copyFixture("rust-hello");
    const main = join(dir, "src", "main.rs");
    writeFileSync(
      main,
      readFileSync(main, "utf8").replace("let mut ok = true;", "let mut ok = no_such_value;"),
    );
    const e = await buildError(
      buildRust({ dir, targets: [], platforms: [AMD64], opts: { processEnv: env } }),
    );
    assert.equal(e.code, "COMPILE_FAILED");
    assert.match(e.message, /error\[E0425\]: cannot find value `no_such_value`/);
    assert.match(e.message, /src\/main\.rs:\d+:\d+/);
    assert.doesNotMatch(e.message, /\n/);
    assert.ok(e.message.startsWith(`${dir}: cargo build failed`), e.message);
    assert.ok(!existsSync(join(env.CARGO_TARGET_DIR!, "x86_64-unknown-linux-musl", "release", "rust-hello")));
  });

  it("a directory without Cargo.toml is NO_PROJECT", async () => {
    const dir = mkdtempSync(join(work, "empty-"));
    assert.equal(isCargoProject(dir), false);
    assert.equal(isCargoProject(join(SRC, "rust-hello")), true);
    const e = await buildError(buildRust({ dir, targets: [], platforms: [AMD64], opts: {} }));
    assert.equal(e.code, "NO_PROJECT");
    assert.match(e.message, /no Cargo\.toml/);
  });
});

describe("rustTriple", { skip: needs({ tools: ["rustc"] }) }, () => {
  it("maps OCI platforms to targets rustc knows", () => {
    const known = new Set(run("rustc", ["--print", "target-list"]).stdout.split("\n"));
    const cases: [Platform, "musl" | "gnu", RegExp][] = [
      [AMD64, "musl", /^x86_64-.*-linux-musl$/],
      [{ os: "linux", architecture: "arm64" }, "musl", /^aarch64-.*-linux-musl$/],
      [{ os: "linux", architecture: "arm64", variant: "v8" }, "gnu", /^aarch64-.*-linux-gnu$/],
      [{ os: "linux", architecture: "arm", variant: "v7" }, "musl", /^armv7-.*-linux-musleabihf$/],
      [{ os: "linux", architecture: "arm", variant: "v6" }, "gnu", /^arm-.*-linux-gnueabihf$/],
      [{ os: "linux", architecture: "386" }, "musl", /^i686-.*-linux-musl$/],
      [{ os: "linux", architecture: "riscv64" }, "musl", /^riscv64gc-.*-linux-musl$/],
      [{ os: "linux", architecture: "ppc64le" }, "gnu", /^powerpc64le-.*-linux-gnu$/],
    ];
    for (const [p, libc, want] of cases) {
      const triple = rustTriple(p, libc);
      assert.match(triple, want);
      assert.ok(known.has(triple), `${triple} is in rustc --print target-list`);
    }
  });

  it("anything else is PLATFORM_UNSUPPORTED, before any toolchain runs", async () => {
    for (const p of [
      { os: "windows", architecture: "amd64" },
      { os: "linux", architecture: "mips" },
      { os: "linux", architecture: "arm", variant: "v5" },
    ]) {
      assert.throws(() => rustTriple(p, "musl"), { code: "PLATFORM_UNSUPPORTED" });
    }
    assert.throws(() => rustTriple({ os: "linux", architecture: "s390x" }, "musl"), /no Rust musl target/);
    const e = await buildError(
      buildRust({
        dir: join(SRC, "rust-hello"),
        targets: [],
        platforms: [{ os: "linux", architecture: "mips" }],
        opts: { processEnv: { PATH: "/nonexistent" } },
      }),
    );
    assert.equal(e.code, "PLATFORM_UNSUPPORTED");
  });
});
