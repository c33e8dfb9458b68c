import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, hasFixture, needs, needsRoot, repoRoot, run } from "../helpers/env.js";
import { cli } from "./in-process.js";
import { assertInspectRecord } from "./schema.js";

// The fixtures build.sh lists (test/fixtures/out also holds the reality matrix's probe cache and report).
const allFixtures = hasFixture("manifest.json")
  ? (JSON.parse(readFileSync(fixture("manifest.json"), "utf8")) as { name: string }[])
      .map((f) => f.name)
      .sort()
  : [];
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, "no stack trace");

describe("zerodep inspect (CLI)", () => {
  test("--json: one schema-valid record per input, in input order, exit 0", {
    skip: needs({ fixtures: ["go-static"] }),
  }, () => {
    assert.ok(allFixtures.length >= 40, `expected the fixture set, found ${allFixtures.length}`);
    const files = allFixtures.map(fixture);
    const r = zerodep(["inspect", "--json", ...files]);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, files.length);
    lines.forEach((l, i) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      assert.equal(o.path, files[i]);
      assertInspectRecord(o);
    });
    const errors = lines.map((l) => JSON.parse(l) as { error?: string; path: string }).filter((o) => o.error);
    // The only fixture that is not parseable is the one made to be: 4 bytes of ELF magic.
    assert.deepEqual(
      errors.map((e) => e.path.split("/").pop()),
      ["elf-magic-only"],
    );
    assert.equal(r.code, 3);
  });

  test("a missing file and a valid one: both reported, one error line, exit 3", {
    skip: needs({ fixtures: ["go-static"] }),
  }, () => {
    const r = zerodep(["inspect", "/nonexistent/zd", fixture("go-static")]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /\/nonexistent\/zd {2}error: \/nonexistent\/zd: no such file or directory/);
    assert.match(r.stdout, /go-static {2}ELF 64-bit LSB EXEC · linux\/amd64 · static · none · go1\./);
    noStack(r.stdout + r.stderr);
  });

  test("usage errors exit 2 with one line on stderr", async () => {
    for (const args of [["inspect"], ["inspect", "--bogus", "x"], ["frobnicate"], ["scan"]]) {
      const r = await cli(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      noStack(r.stderr);
    }
    // One end to end: main.js maps the same error to the process's exit code.
    const e = zerodep(["inspect", "--bogus", "x"]);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /^zerodep inspect: unknown option --bogus\n$/);
  });

  test("help and version exit 0", async () => {
    assert.match((await cli(["--help"])).stdout, /Commands:\n\s+inspect/);
    assert.match((await cli(["inspect", "--help"])).stdout, /Usage: zerodep inspect/);
    assert.match((await cli(["--version"])).stdout, /^zerodep \d+\.\d+\.\d+/);
    const e = zerodep(["--help"]);
    assert.equal(e.code, 0);
    assert.match(e.stdout, /Commands:\n\s+inspect/);
  });

  test("special files: a FIFO does not block, a directory is refused, exit 3", () => {
    const dir = mkdtempSync(join(tmpdir(), "zd-cli-"));
    const fifo = join(dir, "fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    const r = zerodep(["inspect", fifo, dir], { timeoutMs: 20_000 });
    assert.equal(r.signal, null, "did not hang");
    assert.equal(r.code, 3);
    assert.match(r.stdout, /fifo {2}error: .*fifo: not a regular file \(a FIFO\)/);
    assert.match(r.stdout, /error: .*: not a regular file \(a directory\)/);
  });

  test("an unreadable file is one error line (run as an unprivileged user)", {
    skip: needsRoot("root to switch user") || needs({ tools: ["setpriv"] }),
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "zd-cli-"));
    chmodSync(dir, 0o755);
    const f = join(dir, "secret");
    writeFileSync(f, "\x7fELF");
    chmodSync(f, 0o000);
    // The checkout may sit where the unprivileged user cannot enter (a 0700 clone directory): run a
    // copy of the built CLI (inspect loads no runtime dependency) from the world-readable temp directory.
    cpSync(join(repoRoot, "dist", "src"), join(dir, "dist", "src"), { recursive: true });
    chmodSync(join(dir, "dist"), 0o755);
    const r = spawnSync(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        process.execPath,
        join(dir, "dist/src/cli/main.js"),
        "inspect",
        f,
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /secret {2}error: .*secret: permission denied/);
  });

  test("human output: aligned, no colour unless a TTY or FORCE_COLOR", {
    skip: needs({ fixtures: ["c-hardened"] }),
  }, () => {
    const plain = zerodep(["inspect", fixture("c-hardened")]);
    assert.doesNotMatch(plain.stdout, /\x1b\[/);
    assert.match(plain.stdout, /\n {2}interp {5}\/lib64\/ld-linux-x86-64\.so\.2\n/);
    assert.match(
      plain.stdout,
      /\n {2}hardening {2}PIE yes {2}RELRO full {2}NX yes {2}canary yes {2}FORTIFY yes\n/,
    );
    const colour = zerodep(["inspect", fixture("c-hardened")], { env: { FORCE_COLOR: "1" } });
    assert.match(colour.stdout, /\x1b\[32myes\x1b\[39m/);
    const off = zerodep(["inspect", fixture("c-hardened")], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    assert.doesNotMatch(off.stdout, /\x1b\[/);
  });

  test("--sections: the section table, largest first, sizes as readelf gives them", {
    skip: needs({ tools: ["readelf"], fixtures: ["go-static-stripped"] }),
  }, () => {
    const f = fixture("go-static-stripped");
    const sizes = new Map<string, number>();
    for (const m of run("readelf", ["-SW", f]).stdout.matchAll(
      /\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/g,
    )) {
      sizes.set(m[1]!, Number.parseInt(m[2]!, 16));
    }
    const r = zerodep(["inspect", "--sections", f]);
    const rows = [...r.stdout.matchAll(/^ {13}(\.\S+)\s+\S+\s+(\d+)\s+[\d.]+%$/gm)].map(
      (m) => [m[1]!, Number(m[2])] as const,
    );
    assert.ok(rows.length >= 8, r.stdout);
    for (const [name, bytes] of rows) assert.equal(bytes, sizes.get(name), name);
    const ordered = rows.map(([, b]) => b);
    assert.deepEqual(
      ordered,
      [...ordered].sort((a, b) => b - a),
    );
  });

  test("the bundled example of the README quick start", () => {
    const r = zerodep(["inspect", "examples/hello/hello-static", "examples/hello/hello-dynamic"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello-static {2}ELF 64-bit LSB .* · linux\/amd64 · static(-pie)? · musl/);
    assert.match(
      r.stdout,
      /hello-dynamic {2}ELF 64-bit LSB DYN · linux\/amd64 · dynamic \(PIE\) · glibc >= /,
    );
  });
});

describe("zerodep scan (CLI)", () => {
  test("walks a tree: binaries only, sorted, symlinks not followed by default, a FIFO never blocks", {
    skip: needs({ fixtures: ["go-static", "c-static", "libzd.so.1"] }),
  }, () => {
    const root = mkdtempSync(join(tmpdir(), "zd-scan-"));
    mkdirSync(join(root, "b/sub"), { recursive: true });
    mkdirSync(join(root, "a"));
    copyFileSync(fixture("go-static"), join(root, "b/sub/go"));
    copyFileSync(fixture("c-static"), join(root, "a/c"));
    copyFileSync(fixture("libzd.so.1"), join(root, "b/lib.so"));
    writeFileSync(join(root, "a/readme.txt"), "not a binary\n");
    spawnSync("mkfifo", [join(root, "a/pipe")]);
    spawnSync("ln", ["-s", "../a", join(root, "b/loop")]);
    spawnSync("ln", ["-s", "/nonexistent", join(root, "b/dangling")]);
    spawnSync("ln", ["-s", ".", join(root, "b/self")]);

    const r = zerodep(["scan", "--json", root], { timeoutMs: 30_000 });
    assert.equal(r.signal, null);
    assert.equal(r.code, 0, r.stderr);
    const paths = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { path: string }).path.slice(root.length + 1));
    assert.deepEqual(paths, ["a/c", "b/lib.so", "b/sub/go"]);

    // Following links: the loop back to a/ and the self link are cut, the dangling link ignored.
    const f = zerodep(["scan", "--json", "--follow", root], { timeoutMs: 30_000 });
    assert.equal(f.code, 0, f.stderr);
    const fpaths = f.stdout
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { path: string }).path.slice(root.length + 1));
    assert.deepEqual(fpaths, ["a/c", "b/lib.so", "b/sub/go"]);

    const h = zerodep(["scan", root]);
    assert.match(h.stdout, /^static +amd64 +glibc +- +partial +NX +.*\/a\/c$/m);
    const s = zerodep(["scan", "--summary", root]);
    assert.equal(s.stdout.trim(), "3 binaries: static 2, shared-library 1");
  });

  test("a missing root is an error line and exit 3; the other roots are still scanned", {
    skip: needs({ fixtures: ["go-static"] }),
  }, () => {
    const root = mkdtempSync(join(tmpdir(), "zd-scan-"));
    copyFileSync(fixture("go-static"), join(root, "go"));
    const r = zerodep(["scan", "/nonexistent/zd", root]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^error +\/nonexistent\/zd: \/nonexistent\/zd: no such file or directory$/m);
    assert.match(r.stdout, /\/go go1\./);
  });
});
