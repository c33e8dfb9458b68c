import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { goSizeByPackage } from "../../src/analyze/go-size.js";
import { check } from "../../src/check/check.js";
import { goFunctionEvidence } from "../../src/check/runtime-needs.js";
import { readElf } from "../../src/elf/elf-file.js";
import { ParseError } from "../../src/errors.js";
import { inspectSource } from "../../src/inspect/inspect.js";
import { BufferSource } from "../../src/io/reader.js";
import {
  neededElf,
  overlappingSectionsElf,
  overlappingSectionsPe,
  pclntabNamesElf,
  segmentsElf,
  stringTablesElf,
} from "../helpers/bomb-files.js";

/**
 * Issue #12, CPU bombs: small crafted files whose metadata made a parser revisit the same bytes
 * (each took 9 to 65 s before the fix). The bound is a hang/quadratic detector, not a benchmark:
 * 2 s per MiB of input, where a healthy parse of these 4 MiB files takes well under a second.
 */
const MS_PER_MIB = 2000;

async function timed<T>(what: string, bytes: Uint8Array, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  const ms = performance.now() - t0;
  const bound = Math.max(1, bytes.byteLength / (1 << 20)) * MS_PER_MIB;
  assert.ok(ms < bound, `${what}: took ${ms.toFixed(0)} ms (bound ${bound} ms)`);
  return r;
}

describe("issue #12: CPU bombs are inspected in linear time", () => {
  test("16 384 ELF section headers over one 3 MiB range: each scan reads the range once", async () => {
    const b = overlappingSectionsElf();
    const r = await timed("inspect", b, () => inspectSource(new BufferSource(b, "sections")));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.sections.length, 16383);
    // The data repeats "\xffgo1.22.1\0": a stand-alone version string (no build info, no pclntab).
    assert.equal(r.go?.version, "go1.22.1");
    assert.equal(r.go?.source, "version-string");
  });

  test("4 096 PT_LOADs mapping the file again at each next address, 4 096 PT_NOTEs over 1 MiB", async () => {
    const b = segmentsElf();
    const r = await timed("inspect", b, () => inspectSource(new BufferSource(b, "segments")));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.linkage, "static");
    assert.equal(r.go, null);
    assert.equal(r.os, "linux"); // no ABI tag note among the empty notes
  });

  test("names and 65 000 symbols pointing into a NUL-less 1 MiB string table; a .comment of 100 000 strings", async () => {
    const b = stringTablesElf();
    const r = await timed("inspect", b, () => inspectSource(new BufferSource(b, "strings")));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.stripped, false);
    assert.equal(r.sections.find((s) => s.type === "SYMTAB")?.name, ".symtab");
    // Unterminated within 4 KiB: no name (not a 1 MiB one).
    assert.equal(r.sections[4]?.name, "");
    assert.equal(r.toolchain.length, 64);
    assert.equal(r.toolchain[0], "GCC: 0000000");
    assert.equal(r.toolchain[63], "GCC: 000003f");
    const syms = await (await readElf(new BufferSource(b, "strings"))).staticSymbols();
    assert.ok(syms.length > 65_000, `${syms.length} symbols`);
    assert.ok(
      syms.every((s) => s.name === ""),
      "no symbol name ends within 4 KiB",
    );
  });

  test("PE with 8 192 sections mapping the same data, the first with a 4 GiB VirtualSize", async () => {
    const b = overlappingSectionsPe();
    const r = await timed("inspect", b, () => inspectSource(new BufferSource(b, "pe")));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.format, "pe");
    assert.equal(r.go?.version, "go1.22.1");
  });

  test("60 000 DT_NEEDED entries repeating 64 missing names: each name searched once, one problem each", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zd-needed-"));
    try {
      const file = join(dir, "needed");
      const b = neededElf();
      writeFileSync(file, b);
      // The host root: a real ld.so.cache and search path, where each search costs lstat calls.
      const r = await timed("check", b, () => check(file, { root: "/" }));
      const missing = r.problems.filter((p) => p.code === "MISSING_LIBRARY");
      assert.deepEqual(
        missing.map((p) => p.message.split(" ")[0]),
        Array.from({ length: 64 }, (_, k) => `libx${k}.so`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("pclntab whose 258 027 functions name ever new offsets of one 60 KiB name", async () => {
    const b = pclntabNamesElf();
    const src = new BufferSource(b, "pclntab");
    // check's run-time needs walk the function names: the walk stops at the overlap, no evidence.
    const found = await timed("goFunctionEvidence", b, () => goFunctionEvidence(src));
    assert.deepEqual(found && [...found], []);
    // analyze's size by package walks them too: a typed parse error, not minutes of decoding.
    const elf = await readElf(src);
    await timed("goSizeByPackage", b, () =>
      assert.rejects(goSizeByPackage(src, elf.layout, null), (e: unknown) => {
        assert.ok(e instanceof ParseError);
        assert.equal(e.code, "GO_PCLNTAB_CORRUPT");
        assert.match(e.message, /function names overlap/);
        return true;
      }),
    );
  });
});
