/**
 * stripSavings and debug sizes against binutils itself: `strip` a copy and compare the size it
 * really saves; `objcopy --decompress-debug-sections` a copy and compare the debug sections' sizes
 * (readelf -S) with our debug.uncompressedBytes.
 *
 * Tolerance for stripSavings, from the anchors' own view of the file (readelf -h/-S before and after):
 * - 16 bytes per removed section: strip packs the kept non-ALLOC sections again, and each removed
 *   section can leave or take up to sh_addralign - 1 (at most 15 here) bytes of padding.
 * - plus 4096 bytes when the section header table sits before the section data (Go's internal
 *   linker writes it in the first page): strip moves it to the end, and the page padding between the
 *   last loaded byte and the first debug section disappears with it.
 * Anything beyond that is a real miss (a forgotten section, say) and fails.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { inspectFile } from "../../src/inspect/inspect.js";
import { fixture, hasFixture, needs, run } from "../helpers/env.js";
import { parseReadelf, type ReadelfFacts } from "../helpers/readelf-text.js";

/** Fixtures with symbols and/or debug info; the first three are required, the rest used when built. */
const REQUIRED = ["c-debug", "c-debug-compressed", "go-static"];
const OPTIONAL = ["go-cgo", "go-pie-external", "musl-static", "c-static", "rust-hello"];

function readelf(path: string): ReadelfFacts {
  return [...parseReadelf(run("readelf", ["-hlSW", path]).stdout, [path]).values()][0]!;
}

function shoff(path: string): number {
  const m = /Start of section headers:\s+(\d+)/.exec(run("readelf", ["-hW", path]).stdout);
  return Number(m?.[1] ?? 0);
}

const isDebug = (n: string) => n.startsWith(".debug_") || n.startsWith(".zdebug_");

describe("strip / objcopy vs stripSavings and debug sizes", {
  skip: needs({ tools: ["strip", "objcopy", "readelf"], fixtures: REQUIRED }),
}, () => {
  let tmp = "";
  let inputs: string[] = [];
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "zerodep-strip-"));
    inputs = [...REQUIRED, ...OPTIONAL.filter(hasFixture)].map(fixture);
    // GNU-style .zdebug_* sections ("ZLIB" + big-endian size), the other compressed format.
    const z = join(tmp, "c-debug-zdebug");
    run("objcopy", ["--compress-debug-sections=zlib-gnu", fixture("c-debug"), z]);
    inputs.push(z);
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // The optional fixtures are used when built; this makes their absence a loud skip locally and a
  // failure under CI=true, instead of a quietly smaller input list.
  it("every optional fixture is built", { skip: needs({ fixtures: OPTIONAL }) }, () => {
    assert.deepEqual(
      OPTIONAL.filter((f) => !hasFixture(f)),
      [],
    );
  });

  it("stripSavings is what strip removes, within alignment and relayout", async (t: TestContext) => {
    for (const src of inputs) {
      const name = src.split("/").pop()!;
      const copy = join(tmp, `${name}.stripped`);
      copyFileSync(src, copy);
      run("strip", [copy]);
      const saved = statSync(src).size - statSync(copy).size;
      const before = readelf(src);
      const afterStrip = readelf(copy);
      const removed = before.sections.length - afterStrip.sections.length;
      const firstData = Math.min(
        ...before.sections.filter((s) => s.index > 0 && s.type !== "NOBITS").map((s) => s.offset),
      );
      const relayout = shoff(src) < firstData ? 4096 : 0;
      const tolerance = 16 * removed + relayout;
      const ours = (await inspectFile(src)).stripSavings;
      assert.ok(ours !== null, `${name}: no stripSavings`);
      t.diagnostic(
        `${name}: strip saved ${saved}, ours ${ours} (off by ${ours - saved}, tolerance ${tolerance})`,
      );
      assert.ok(saved > 0, `${name}: strip saved nothing`);
      assert.ok(
        Math.abs(ours - saved) <= tolerance,
        `${name}: strip saved ${saved}, we said ${ours} (tolerance ${tolerance})`,
      );
      // And after strip there is nothing left to save.
      assert.equal((await inspectFile(copy)).stripSavings, 0, `${name}: stripped copy still has savings`);
    }
  });

  it("debug.fileBytes and uncompressedBytes match readelf -S before and after objcopy --decompress-debug-sections", async (t: TestContext) => {
    for (const src of inputs) {
      const name = src.split("/").pop()!;
      const plain = join(tmp, `${name}.decompressed`);
      run("objcopy", ["--decompress-debug-sections", src, plain]);
      const sum = (f: ReadelfFacts) =>
        f.sections.filter((s) => isDebug(s.name) && s.type !== "NOBITS").reduce((a, s) => a + s.size, 0);
      const fileBytes = sum(readelf(src));
      const full = sum(readelf(plain));
      const d = (await inspectFile(src)).debug;
      assert.ok(d, `${name}: no debug facts`);
      t.diagnostic(
        `${name}: debug ${fileBytes} bytes in the file, ${full} decompressed; ours ${d.fileBytes} / ${d.uncompressedBytes}`,
      );
      assert.equal(d.fileBytes, fileBytes, `${name}: fileBytes`);
      assert.equal(d.uncompressedBytes, full, `${name}: uncompressedBytes`);
      assert.equal(d.compressed, full !== fileBytes, `${name}: compressed`);
    }
  });
});
