import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ParseError } from "../../src/errors.js";
import { readRawGoBuildInfo } from "../../src/go/build-info.js";
import { goVersionFromBinary, type Pclntab, readPclntab } from "../../src/go/pclntab.js";
import { BufferSource, FileSource } from "../../src/io/reader.js";
import { needs, repoRoot, run } from "../helpers/env.js";
import { layoutForTests } from "./elf-layout-for-tests.js";
import { buildGoTestBinaries, differentialCorpus } from "./go-binaries-for-tests.js";

const skipNoGo = needs({ tools: ["go"] });

async function dump(tab: Pclntab): Promise<string> {
  let s = "";
  for await (const f of tab.funcs()) s += `${f.entry.toString(16)} ${f.size} ${f.name}\n`;
  return s;
}

describe("pclntab vs debug/gosym", { skip: skipNoGo }, () => {
  let dumper = "";
  before(() => {
    // The anchor: Go's own debug/gosym over the same table (test/go/testdata/pclntab-dump).
    dumper = join(mkdtempSync(join(tmpdir(), "zerodep-gosym-")), "pclntab-dump");
    run("sh", [
      "-c",
      'cd "$1" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$2" .',
      "sh",
      join(repoRoot, "test/go/testdata/pclntab-dump"),
      dumper,
    ]);
  });

  test("every function (entry, size, name) matches on every Go binary gosym can read", async () => {
    let compared = 0;
    const diffs: string[] = [];
    for (const f of differentialCorpus()) {
      const want = run(dumper, [f], { allowFail: true }).stdout;
      if (want === "none\n" || want === "" || want.startsWith("error")) continue;
      const src = FileSource.open(f);
      const layout = await layoutForTests(src);
      const tab = layout ? await readPclntab(src, layout) : null;
      const got = tab ? await dump(tab) : "none\n";
      await src.close();
      compared++;
      if (got !== want) diffs.push(f);
    }
    console.log(
      `pclntab agreement with debug/gosym: ${compared - diffs.length}/${compared} binaries identical`,
    );
    assert.deepEqual(diffs, []);
    assert.ok(compared >= 15);
  });

  test("stripped PE and fat Mach-O: found (by scan in PE) and complete", async () => {
    const out = buildGoTestBinaries();
    for (const [name, where] of [
      ["go-windows-arm64-stripped.exe", "scan"],
      ["go-windows-386.exe", "scan"],
      ["go-darwin-fat", "__gopclntab"],
    ] as const) {
      const src = FileSource.open(join(out, name));
      const tab = await readPclntab(src, (await layoutForTests(src))!);
      assert.ok(tab, name);
      assert.equal(tab.foundIn, where);
      assert.equal(tab.goVersionRange, ">=1.20");
      const names = new Set<string>();
      for await (const n of tab.funcNames()) names.add(n);
      assert.equal(names.size > 1000, true, name);
      assert.ok(names.has("main.main") && names.has("runtime.main"), name);
      await src.close();
    }
  });
});

describe("goVersionFromBinary", { skip: skipNoGo }, () => {
  test("build info first, then the runtime.buildVersion string, then the pclntab range", async () => {
    const path = join(buildGoTestBinaries(), "go-stripped");
    const version = run("go", ["version", path]).stdout.trim().split(" ").at(-1)!;
    const bytes = new Uint8Array(readFileSync(path));
    const layout = (await layoutForTests(new BufferSource(bytes)))!;

    assert.deepEqual(await goVersionFromBinary(new BufferSource(bytes), layout), {
      version,
      range: ">=1.20",
      source: "build-info",
    });

    // Erase the build info header, as a packer or a hand-edited binary would.
    const raw = (await readRawGoBuildInfo(new BufferSource(bytes), layout))!;
    const noInfo = bytes.slice();
    noInfo.fill(0, raw.offset, raw.offset + 14);
    assert.deepEqual(await goVersionFromBinary(new BufferSource(noInfo), layout), {
      version,
      range: ">=1.20",
      source: "version-string",
    });

    // Erase every "go1." too: only the pclntab format remains.
    const bare = noInfo.slice();
    const needle = Buffer.from("go1.");
    const buf = Buffer.from(bare.buffer, bare.byteOffset, bare.byteLength);
    for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) buf[i] = 0x58;
    assert.deepEqual(await goVersionFromBinary(new BufferSource(bare), layout), {
      version: null,
      range: ">=1.20",
      source: "pclntab",
    });
  });
});

describe("pclntab hostile input", { skip: skipNoGo }, () => {
  test("corrupted headers and tables: a table, null or ParseError — never another error", async () => {
    const path = join(buildGoTestBinaries(), "go-static");
    const bytes = new Uint8Array(readFileSync(path));
    const layout = (await layoutForTests(new BufferSource(bytes)))!;
    const tab = (await readPclntab(new BufferSource(bytes), layout))!;
    let seed = 99;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let iter = 0; iter < 60; iter++) {
      const copy = bytes.slice();
      // Hit the header most of the time, sometimes the function table or the names.
      const span = iter % 3 === 0 ? 72 : iter % 3 === 1 ? 64 * 1024 : tab.size;
      for (let k = 0; k < 1 + rand(6); k++) copy[tab.offset + rand(span)] = rand(256);
      try {
        const t = await readPclntab(new BufferSource(copy), layout);
        if (t) {
          let n = 0;
          for await (const f of t.funcs()) {
            assert.equal(typeof f.name, "string");
            if (++n > t.nfunc) assert.fail("more functions than nfunc");
          }
        }
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
      }
    }
  });

  test("absurd nfunc is rejected by the header check; a truncated file yields null", async () => {
    const path = join(buildGoTestBinaries(), "go-static");
    const bytes = new Uint8Array(readFileSync(path));
    const layout = (await layoutForTests(new BufferSource(bytes)))!;
    const tab = (await readPclntab(new BufferSource(bytes), layout))!;
    const copy = bytes.slice();
    new DataView(copy.buffer).setBigUint64(tab.offset + 8, 0xffff_ffff_ffffn, true);
    assert.equal(await readPclntab(new BufferSource(copy), layout), null);
    const cut = bytes.subarray(0, tab.offset + 40);
    assert.equal(await readPclntab(new BufferSource(cut), layout), null);
  });
});
