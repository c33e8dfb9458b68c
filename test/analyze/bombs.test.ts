import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { diffImages } from "../../src/analyze/diff.js";
import { BOMBS } from "../helpers/bomb-files.js";
import { emptyFilesTar, filesTar, streamedImage, tinyElf, zeroElfTar } from "../helpers/bomb-images.js";
import { cliPath } from "../helpers/cli.js";

/**
 * Issue #12, memory bombs: a layer of a few MB that holds very large zero-filled files starting with
 * the ELF magic (each was held in memory whole, twice while being joined), and layers of very many
 * empty files (several records per entry). Peak memory is read from the child's own rusage
 * (`process.resourceUsage().maxRSS`, what `/usr/bin/time -v` reports as maximum resident set size).
 */
function peakRss(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; mib: number; stdout: string } {
  const hook = `data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss="+process.resourceUsage().maxRSS+"\\n"))`;
  const r = spawnSync(process.execPath, ["--import", hook, cliPath, ...args], {
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  const m = /maxrss=(\d+)/.exec(r.stderr);
  assert.ok(m, `no maxrss in: ${r.stderr}`);
  return { code: r.status, mib: Number(m[1]) / 1024, stdout: r.stdout };
}

test("analyze: 4 × 256 MiB zero-filled ELF files in a small layer stay far below their size in memory (temporary file past 64 MiB)", async () => {
  const work = mkdtempSync(join(tmpdir(), "zd-bomb-"));
  const spillDir = join(work, "tmp");
  try {
    const ref = await streamedImage(join(work, "img"), [() => zeroElfTar(tinyElf(), 4, 256 << 20)]);
    rmSync(spillDir, { recursive: true, force: true });
    spawnSync("mkdir", [spillDir]);
    const r = peakRss(["analyze", ref, "--json"], { TMPDIR: spillDir });
    assert.equal(r.code, 0);
    const audit = JSON.parse(r.stdout).audit.elfFiles as { path: string; linkage: string; arch: string }[];
    // tinyElf is an x86-64 ET_EXEC with no interpreter: static, and each copy was parsed.
    assert.deepEqual(
      audit.map((e) => [e.path, e.arch, e.linkage]),
      [0, 1, 2, 3].map((i) => [`/opt/bomb${i}`, "amd64", "static"]),
    );
    // Holding one file whole took 256 MiB (512 MiB while joining its chunks); the bound is the
    // 64 MiB in-memory limit plus Node's own ~100 MiB and a generous margin.
    assert.ok(r.mib < 320, `peak RSS ${r.mib.toFixed(0)} MiB`);
    assert.deepEqual(readdirSync(spillDir), [], "temporary files removed");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("analyze: an image holding the crafted CPU bombs (test/helpers/bomb-files.ts) is audited in bounded time", async () => {
  const work = mkdtempSync(join(tmpdir(), "zd-bomb-"));
  try {
    const files = Object.entries(BOMBS).map(([name, make]) => ({ path: `bin/${name}`, bytes: make() }));
    const ref = await streamedImage(join(work, "img"), [() => filesTar(files)]);
    const t0 = performance.now();
    const r = await analyze(ref);
    const ms = performance.now() - t0;
    // 2 s per MiB of content, as for single files; before the fix this took many minutes.
    const bound = 2000 * (files.reduce((n, f) => n + f.bytes.byteLength, 0) / (1 << 20));
    assert.ok(ms < bound, `analyze took ${ms.toFixed(0)} ms (bound ${bound} ms)`);
    // Every ELF bomb was audited (the PE is not ELF); the Go-looking one got its version string.
    const elf = new Map(r.audit.elfFiles.map((e) => [e.path, e]));
    assert.deepEqual(
      [...elf.keys()].sort(),
      files
        .filter((f) => f.path.includes("elf-"))
        .map((f) => `/${f.path}`)
        .sort(),
    );
    assert.equal(elf.get("/bin/elf-overlapping-sections")?.go?.version, "go1.22.1");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("diff: two images of 200 000 empty files each compare in bounded memory, one added file found", async () => {
  const work = mkdtempSync(join(tmpdir(), "zd-bomb-"));
  try {
    const a = await streamedImage(join(work, "a"), [() => emptyFilesTar(200_000)]);
    const b = await streamedImage(join(work, "b"), [() => emptyFilesTar(200_001)]);
    const r = await diffImages(a, b);
    // File 200 000 is the first of directory d200 (1 000 files a directory).
    assert.deepEqual(
      r.added.map((c) => c.path),
      ["/d200", "/d200/f200000"],
    );
    assert.equal(r.removed.length + r.changed.length, 0);
    const cli = peakRss(["diff", a, b, "--json"]);
    assert.equal(cli.code, 1); // a difference
    // About 1.7 KiB a path before (two 200 000-path images took ~750 MiB); about 0.6 KiB now.
    assert.ok(cli.mib < 560, `peak RSS ${cli.mib.toFixed(0)} MiB`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
