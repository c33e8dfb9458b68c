import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import type { BinaryLayout } from "../../src/binary/layout.js";
import { ParseError } from "../../src/errors.js";
import {
  formatGoVersionM,
  type GoBuildInfo,
  parseModInfo,
  readGoBuildInfo,
  readRawGoBuildInfo,
  readUvarint,
} from "../../src/go/build-info.js";
import { quoteGo, unquoteGo } from "../../src/go/go-quote.js";
import { BufferSource, FileSource } from "../../src/io/reader.js";
import { needs, run } from "../helpers/env.js";
import { layoutForTests } from "./elf-layout-for-tests.js";
import { buildGoTestBinaries, differentialCorpus } from "./go-binaries-for-tests.js";

const skipNoGo = needs({ tools: ["go"] });

/** What `go version -m` would print for `path` according to us ("" when we say it is not Go). */
async function ours(path: string): Promise<string> {
  const src = FileSource.open(path);
  try {
    const layout = await layoutForTests(src);
    const info = layout ? await readGoBuildInfo(src, layout) : null;
    return info ? formatGoVersionM(info, path) : "";
  } catch (err) {
    // Malformed input must surface as our ParseError, never as a TypeError or RangeError.
    assert.ok(err instanceof ParseError, `${path}: unexpected ${String(err)}`);
    return "";
  } finally {
    await src.close();
  }
}

describe("go version -m differential", { skip: skipNoGo }, () => {
  test("formatGoVersionM output is byte-identical to go version -m on every file", async () => {
    const files = differentialCorpus();
    const diffs: string[] = [];
    let goFiles = 0;
    for (const f of files) {
      // A non-Go file: go prints nothing on stdout (the complaint goes to stderr, exit status 1).
      const want = run("go", ["version", "-m", f], { allowFail: true }).stdout;
      const got = await ours(f);
      if (want !== "") goFiles++;
      if (got !== want) diffs.push(`${f}\n--- go version -m\n${want}--- ours\n${got}`);
    }
    console.log(
      `go version -m agreement: ${files.length - diffs.length}/${files.length} files identical (${goFiles} Go binaries)`,
    );
    assert.deepEqual(diffs, []);
    assert.ok(goFiles >= 15, `expected at least 15 Go binaries, saw ${goFiles}`);
  });

  test("the scan without a layout finds the same blob in ELF, PE and Mach-O binaries", async () => {
    const out = buildGoTestBinaries();
    for (const name of ["go-static", "go-mips", "go-windows.exe", "go-darwin-arm64", "go-darwin-fat"]) {
      const src = FileSource.open(`${out}/${name}`);
      const layout = await layoutForTests(src);
      const a = await readGoBuildInfo(src, layout);
      const b = await readGoBuildInfo(src, null);
      assert.ok(a, name);
      assert.deepEqual(b, a, name);
      await src.close();
    }
  });

  test("structured fields: replaced dependency, settings by key", async () => {
    const src = FileSource.open(`${buildGoTestBinaries()}/go-ldflags-x`);
    const info = (await readGoBuildInfo(src, await layoutForTests(src)))!;
    await src.close();
    assert.match(info.version, /^go1\.\d+/);
    assert.equal(info.path, "example.com/hello");
    assert.equal(info.main.path, "example.com/hello");
    assert.deepEqual(info.deps, [
      {
        path: "example.com/dep",
        version: "v1.2.3",
        sum: "",
        replace: { path: "./dep", version: "(devel)", sum: "" },
      },
    ]);
    assert.equal(info.settings["-ldflags"], '-X "main.v=a b\\t`q`" -s');
    assert.equal(info.settings["-gcflags"], "all=-N -l");
    assert.equal(info.settings["GOOS"], "linux");
  });
});

describe("parseModInfo (runtime/debug.ParseBuildInfo)", () => {
  const text = [
    "path\texample.com/cmd",
    "mod\texample.com/cmd\tv1.0.0\th1:abc=",
    "dep\tgolang.org/x/sys\tv0.1.0\th1:def=",
    "dep\texample.com/old\tv1.0.0",
    "=>\texample.com/new\tv2.0.0\th1:ghi=",
    'build\t-ldflags="-s -w"',
    'build\t"we ird"=`raw value`',
    "build\tempty=",
    "build\tCGO_ENABLED=1",
    "unknown line is ignored",
    "build\tlast=without-newline",
  ].join("\n");

  test("fields, replacement, quoted keys and values, last line without newline dropped", () => {
    const info = parseModInfo(text);
    assert.equal(info.path, "example.com/cmd");
    assert.deepEqual(info.main, { path: "example.com/cmd", version: "v1.0.0", sum: "h1:abc=" });
    assert.equal(info.deps.length, 2);
    assert.deepEqual(info.deps[1]!.replace, { path: "example.com/new", version: "v2.0.0", sum: "h1:ghi=" });
    assert.deepEqual(info.settingList, [
      { key: "-ldflags", value: "-s -w" },
      { key: "we ird", value: "raw value" },
      { key: "empty", value: "" },
      { key: "CGO_ENABLED", value: "1" },
    ]);
    assert.equal(info.settings["we ird"], "raw value");
  });

  test("format round trip, including Go's blank line after a replacement", () => {
    const info: GoBuildInfo = { version: "go1.22.0", ...parseModInfo(`${text}\n`) };
    assert.equal(
      formatGoVersionM(info, "bin"),
      [
        "bin: go1.22.0",
        "\tpath\texample.com/cmd",
        "\tmod\texample.com/cmd\tv1.0.0\th1:abc=",
        "\tdep\tgolang.org/x/sys\tv0.1.0\th1:def=",
        "\tdep\texample.com/old\tv1.0.0",
        "\t=>\texample.com/new\tv2.0.0\th1:ghi=",
        "\t",
        '\tbuild\t-ldflags="-s -w"',
        '\tbuild\t"we ird"="raw value"',
        "\tbuild\tempty=",
        "\tbuild\tCGO_ENABLED=1",
        "\tbuild\tlast=without-newline",
        "",
      ].join("\n"),
    );
    assert.equal(formatGoVersionM({ version: "go1.20", ...parseModInfo("") }, "x"), "x: go1.20\n");
  });

  test("a __proto__ key stays an own property", () => {
    const info = parseModInfo("build\t__proto__=x\n");
    assert.equal(Object.getPrototypeOf(info.settings), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(info.settings, "__proto__")?.value, "x");
  });

  for (const [line, why] of [
    ["mod\ta", "1 column"],
    ["dep\ta\tb\tc\td", "4 columns"],
    ["=>\ta\tb\tc", "replacement without module"],
    ["mod\ta\tb\n=>\tx\ty", "2-column replacement"],
    ["build\t", "empty build line"],
    ["build\t=x", "missing key"],
    ["build\tnoequals", "no ="],
    ['build\t"unterminated=x', "bad quoted key"],
    ['build\t"k"x', "junk after quoted key"],
    ['build\tk="bad\\q"', "bad escape in value"],
    ["build\tk=a b", "unquoted space in value"],
  ] as const) {
    test(`syntax error → ParseError GO_MODINFO_SYNTAX (${why})`, () => {
      assert.throws(
        () => parseModInfo(`${line}\n`),
        (e: unknown) => e instanceof ParseError && e.code === "GO_MODINFO_SYNTAX",
      );
    });
  }
});

describe("Go quoting (strconv.Quote / Unquote)", () => {
  const cases: Array<[string, string]> = [
    ["a b", '"a b"'],
    ['q"\\', '"q\\"\\\\"'],
    ["\t\n\r\x07\x08\x0b\x0c", '"\\t\\n\\r\\a\\b\\v\\f"'],
    ["\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'],
    ["é€😀", '"é€😀"'],
    ["\u00a0\u2028", '"\\u00a0\\u2028"'],
    ["\u{e0001}", '"\\U000e0001"'],
  ];
  for (const [s, q] of cases) {
    test(`quote ${JSON.stringify(s)}`, () => {
      assert.equal(quoteGo(s), q);
      assert.equal(unquoteGo(q), s);
    });
  }
  test("unquote: octal, \\x bytes forming UTF-8, raw strings drop \\r, errors", () => {
    assert.equal(unquoteGo('"\\101\\xe2\\x82\\xac"'), "A€");
    assert.equal(unquoteGo("`a\rb`"), "ab");
    assert.equal(unquoteGo('"\\400"'), null);
    assert.equal(unquoteGo('"\\ud800"'), null);
    assert.equal(unquoteGo('"\\\'"'), null);
    assert.equal(unquoteGo('"a"b'), null);
    assert.equal(unquoteGo('"a\nb"'), null);
  });
});

// Go's modload sentinels (cmd/go/internal/modload: infoStart / infoEnd).
const INFO_START = Buffer.from("3077af0c9274080241e1c107e6d618e6", "hex");
const INFO_END = Buffer.from("f932433186182072008242104116d8f2", "hex");
const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");

function frame(text: string): Buffer {
  return Buffer.concat([INFO_START, Buffer.from(text), INFO_END]);
}

/** One writable segment at `base` covering `bytes`, with a .go.buildinfo section at its start. */
function imageLayout(bytes: Uint8Array, base: number, ptrSize: 4 | 8, little: boolean): BinaryLayout {
  return {
    format: "elf",
    littleEndian: little,
    ptrSize,
    baseOffset: 0,
    segments: [
      {
        addr: base,
        offset: 0,
        fileSize: bytes.byteLength,
        memSize: bytes.byteLength,
        readable: true,
        writable: true,
        executable: false,
      },
    ],
    sections: [
      {
        name: ".go.buildinfo",
        addr: base,
        offset: 0,
        fileSize: 32,
        memSize: 32,
        flags: 3,
        writable: true,
        executable: false,
      },
    ],
  };
}

/**
 * SYNTHETIC pointer-format (Go < 1.18) image: only Go 1.26 is available offline here, so no real
 * pre-1.18 binary can be built. Layout as written by the Go 1.13-1.17 linker: header with flags bit 1
 * clear, then two pointers to Go string headers {ptr, len} elsewhere in the image.
 */
function pointerImage(
  ptrSize: 4 | 8,
  little: boolean,
  base: number,
  version: string,
  mod: Buffer,
): Uint8Array {
  const img = Buffer.alloc(0x400);
  MAGIC.copy(img, 0);
  img[14] = ptrSize;
  img[15] = little ? 0 : 1;
  const put = (at: number, v: number) => {
    if (ptrSize === 8) {
      if (little) img.writeBigUInt64LE(BigInt(v), at);
      else img.writeBigUInt64BE(BigInt(v), at);
    } else if (little) img.writeUInt32LE(v, at);
    else img.writeUInt32BE(v, at);
  };
  put(16, base + 0x40); // &runtime.buildVersion
  put(16 + ptrSize, base + 0x60); // &runtime.modinfo
  put(0x40, base + 0x100);
  put(0x40 + ptrSize, version.length);
  put(0x60, base + 0x200);
  put(0x60 + ptrSize, mod.length);
  img.write(version, 0x100, "latin1");
  mod.copy(img, 0x200);
  return img;
}

describe("pointer format (< Go 1.18), synthetic", () => {
  const mod = frame("path\texample.com/old\nmod\texample.com/old\tv1.0.0\th1:x=\nbuild\tGOOS=linux\n");
  for (const [ptrSize, little] of [
    [8, true],
    [4, false],
    [4, true],
  ] as const) {
    test(`ptrSize ${ptrSize}, ${little ? "little" : "big"}-endian`, async () => {
      const base = 0x8000_0000;
      const img = pointerImage(ptrSize, little, base, "go1.17.13", mod);
      const src = new BufferSource(img);
      const raw = await readRawGoBuildInfo(src, imageLayout(img, base, ptrSize, little));
      assert.equal(raw?.inline, false);
      const info = await readGoBuildInfo(src, imageLayout(img, base, ptrSize, little));
      assert.equal(info?.version, "go1.17.13");
      assert.equal(info?.main.version, "v1.0.0");
      assert.deepEqual(info?.settings, { GOOS: "linux" });
      // Without a layout, addresses cannot be translated: the pointer format is out of reach.
      assert.equal(await readGoBuildInfo(src, null), null);
    });
  }

  test("pointers to unmapped addresses or absurd lengths → not Go", async () => {
    const base = 0x1000;
    const img = Buffer.from(pointerImage(8, true, base, "go1.16", mod));
    img.writeBigUInt64LE(0xffff_ffff_ffffn, 0x48); // version length past everything
    assert.equal(await readGoBuildInfo(new BufferSource(img), imageLayout(img, base, 8, true)), null);
    const img2 = Buffer.from(pointerImage(8, true, base, "go1.16", mod));
    img2.writeBigUInt64LE(0x7777_0000n, 16); // version header pointer outside the segment
    assert.equal(await readGoBuildInfo(new BufferSource(img2), imageLayout(img2, base, 8, true)), null);
  });

  test("modinfo without the sentinel newline is dropped, as Go does", async () => {
    const base = 0x1000;
    const img = pointerImage(8, true, base, "go1.15", frame("path\tx"));
    const info = await readGoBuildInfo(new BufferSource(img), imageLayout(img, base, 8, true));
    assert.equal(info?.version, "go1.15");
    assert.equal(info?.path, "");
  });
});

/** An inline (Go >= 1.18) blob: header then uvarint-prefixed strings. */
function inlineBlob(parts: Uint8Array[]): Buffer {
  const h = Buffer.alloc(32);
  MAGIC.copy(h, 0);
  h[14] = 8;
  h[15] = 2;
  return Buffer.concat([h, ...parts]);
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

describe("hostile input", () => {
  const mod = frame("path\tp\n");
  const good = inlineBlob([uvarint(6), Buffer.from("go1.99"), uvarint(mod.length), mod]);
  const layoutFor = (b: Uint8Array) => imageLayout(b, 0x10000, 8, true);

  test("well-formed synthetic inline blob parses", async () => {
    const info = await readGoBuildInfo(new BufferSource(good), layoutFor(good));
    assert.equal(info?.version, "go1.99");
    assert.equal(info?.path, "p");
  });

  test("truncated blobs → null at every cut", async () => {
    for (let cut = 0; cut < good.length; cut++) {
      const b = good.subarray(0, cut);
      assert.equal(await readGoBuildInfo(new BufferSource(b), layoutFor(b)), null, `cut at ${cut}`);
    }
  });

  test("a layout claiming more bytes than the file holds → null, not OUT_OF_BOUNDS", async () => {
    const b = good.subarray(0, 40);
    const layout = layoutFor(good); // sizes from the untruncated blob
    assert.equal(await readGoBuildInfo(new BufferSource(b), layout), null);
  });

  test("lengths past EOF and huge uvarints → null", async () => {
    const past = inlineBlob([uvarint(0xffff_ffff), Buffer.from("go1.99")]);
    assert.equal(await readGoBuildInfo(new BufferSource(past), layoutFor(past)), null);
    const huge = inlineBlob([Buffer.alloc(11, 0xff), Buffer.from("go1.99")]);
    assert.equal(await readGoBuildInfo(new BufferSource(huge), layoutFor(huge)), null);
    const over = inlineBlob([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])]);
    assert.equal(await readGoBuildInfo(new BufferSource(over), layoutFor(over)), null);
  });

  test("readUvarint matches encoding/binary.Uvarint", () => {
    assert.deepEqual(readUvarint(Uint8Array.from([0x96, 0x01])), { value: 150n, n: 2 });
    assert.equal(readUvarint(Uint8Array.from([0x80])).n, 0);
    assert.ok(readUvarint(new Uint8Array(10).fill(0xff)).n < 0);
    assert.deepEqual(
      readUvarint(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
      { value: 2n ** 64n - 1n, n: 10 },
    );
  });

  test("misaligned magic is skipped; empty data range → null", async () => {
    const b = Buffer.concat([Buffer.alloc(8), good]);
    assert.equal(await readGoBuildInfo(new BufferSource(b), layoutFor(b)), null);
    const layout = layoutFor(good);
    layout.sections[0]!.memSize = 0;
    assert.equal(await readGoBuildInfo(new BufferSource(good), layout), null);
  });

  test("random corruption of a real blob: result, null or ParseError — never another error", {
    skip: skipNoGo,
  }, async () => {
    const path = `${buildGoTestBinaries()}/go-static`;
    const bytes = new Uint8Array(readFileSync(path));
    const layout = (await layoutForTests(new BufferSource(bytes)))!;
    const raw = (await readRawGoBuildInfo(new BufferSource(bytes), layout))!;
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let iter = 0; iter < 300; iter++) {
      const copy = bytes.slice();
      for (let k = 0; k < 1 + rand(8); k++) copy[raw.offset + rand(64)] = rand(256);
      try {
        const info = await readGoBuildInfo(new BufferSource(copy), layout);
        if (info) formatGoVersionM(info, "x");
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
      }
    }
  });
});
