import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ParseError } from "../../src/errors.js";
import { BufferSource, FileSource } from "../../src/io/reader.js";
import { isFatMacho, isMacho, readFatArches, readMachoLayout } from "../../src/macho/macho.js";
import { buildGoTestBinaries } from "../go/go-binaries-for-tests.js";
import { objdumpSections } from "../go/objdump-for-tests.js";
import { needs } from "../helpers/env.js";
import { makeFatMacho } from "./fat-for-tests.js";

const skip = needs({ tools: ["go", "llvm-objdump"] });

describe("readMachoLayout on Go-built Mach-O files", { skip }, () => {
  for (const [name, arch] of [
    ["go-darwin-amd64", "amd64"],
    ["go-darwin-arm64", "arm64"],
  ] as const) {
    test(`${name}: header, segments, sections as llvm-objdump lists them`, async () => {
      const path = join(buildGoTestBinaries(), name);
      const src = FileSource.open(path);
      assert.equal(isMacho(await src.read(0, 4)), true);
      const m = await readMachoLayout(src, 0);
      await src.close();
      assert.equal(m.arch, arch);
      assert.equal(m.os, "darwin");
      assert.equal(m.filetypeName, "execute");
      assert.equal(m.layout.ptrSize, 8);
      assert.equal(m.layout.littleEndian, true);
      const bi = m.layout.sections.find((s) => s.name === "__go_buildinfo");
      assert.equal(bi?.segment, "__DATA");
      const segs = m.segments.map((s) => s.name);
      for (const seg of ["__PAGEZERO", "__TEXT", "__DATA", "__LINKEDIT"]) assert.ok(segs.includes(seg), seg);
      const want = objdumpSections(path).map((s) => `${s.name} ${s.size.toString(16)}@${s.vma.toString(16)}`);
      assert.deepEqual(
        m.layout.sections.map((s) => `${s.name} ${s.memSize.toString(16)}@${s.addr.toString(16)}`),
        want,
      );
    });
  }

  test("fat: slices, and each slice's layout matches the thin file", async () => {
    const out = buildGoTestBinaries();
    const amd = readFileSync(join(out, "go-darwin-amd64"));
    const arm = readFileSync(join(out, "go-darwin-arm64"));
    const fat = new BufferSource(makeFatMacho([amd, arm]));
    assert.equal(isFatMacho(await fat.read(0, 8)), true);
    const arches = await readFatArches(fat);
    assert.deepEqual(
      arches.map((a) => [a.arch, a.size]),
      [
        ["amd64", amd.length],
        ["arm64", arm.length],
      ],
    );
    for (const [i, thin] of [amd, arm].entries()) {
      const a = arches[i]!;
      const slice = await readMachoLayout(fat, a.offset, a.size);
      const alone = await readMachoLayout(new BufferSource(thin), 0);
      assert.equal(slice.layout.baseOffset, a.offset);
      assert.deepEqual(slice.layout.sections, alone.layout.sections);
    }
  });
});

describe("Mach-O hostile input", () => {
  const codeOf = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
      return "ok";
    } catch (err) {
      assert.ok(err instanceof ParseError, String(err));
      return err.code;
    }
  };

  test("a Java class file is not a fat Mach-O", async () => {
    // CAFEBABE, minor 0, major 65 (Java 21): nfat_arch would read as 65.
    const cls = Buffer.from("cafebabe0000004100ff", "hex");
    assert.equal(isFatMacho(cls), false);
    assert.equal(await codeOf(() => readFatArches(new BufferSource(cls))), "MACHO_BAD_FAT_COUNT");
  });

  test("fat slices outside the file, absurd counts", async () => {
    const b = Buffer.alloc(64);
    b.writeUInt32BE(0xcafebabe, 0);
    b.writeUInt32BE(1, 4);
    b.writeUInt32BE(0x1000, 16); // offset past EOF
    b.writeUInt32BE(0x10, 20);
    assert.equal(await codeOf(() => readFatArches(new BufferSource(b))), "MACHO_BAD_FAT_ARCH");
    b.writeUInt32BE(0xffff_ffff, 4);
    assert.equal(await codeOf(() => readFatArches(new BufferSource(b))), "MACHO_BAD_FAT_COUNT");
    b.writeUInt32BE(0xcafebabf, 0);
    b.writeUInt32BE(2, 4); // 2 x 32-byte entries do not fit in 64 bytes with their slices
    assert.notEqual(await codeOf(() => readFatArches(new BufferSource(b))), "ok");
  });

  test("ncmds / sizeofcmds larger than the file", async () => {
    const h = Buffer.alloc(64);
    h.writeUInt32LE(0xfeedfacf, 0);
    h.writeUInt32LE(0xffff_ffff, 16);
    h.writeUInt32LE(0xffff_ffff, 20);
    assert.equal(await codeOf(() => readMachoLayout(new BufferSource(h))), "MACHO_BAD_LOAD_COMMANDS");
    h.writeUInt32LE(1, 16);
    h.writeUInt32LE(8, 20);
    h.writeUInt32LE(0x19, 32);
    h.writeUInt32LE(0x7fff_fff0, 36); // cmdsize past sizeofcmds
    assert.equal(await codeOf(() => readMachoLayout(new BufferSource(h))), "MACHO_BAD_LOAD_COMMANDS");
  });

  test("big-endian 32-bit header parses", async () => {
    const h = Buffer.alloc(28 + 56);
    h.writeUInt32BE(0xfeedface, 0);
    h.writeUInt32BE(18, 4); // PowerPC
    h.writeUInt32BE(2, 12);
    h.writeUInt32BE(1, 16);
    h.writeUInt32BE(56, 20);
    h.writeUInt32BE(1, 28); // LC_SEGMENT
    h.writeUInt32BE(56, 32);
    h.write("__TEXT", 36, "latin1");
    h.writeUInt32BE(0x1000, 52); // vmaddr
    const m = await readMachoLayout(new BufferSource(h));
    assert.equal(m.arch, "ppc");
    assert.equal(m.layout.littleEndian, false);
    assert.equal(m.layout.ptrSize, 4);
    assert.equal(m.segments[0]?.name, "__TEXT");
    assert.equal(m.segments[0]?.addr, 0x1000);
  });

  test("random corruption of real load commands: MachoInfo or ParseError", {
    skip: needs({ tools: ["go"] }),
  }, async () => {
    const bytes = new Uint8Array(readFileSync(join(buildGoTestBinaries(), "go-darwin-arm64")));
    let seed = 3;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const copy = bytes.slice(0, 0x4000);
      for (let k = 0; k < 1 + rand(6); k++) copy[rand(0x800)] = rand(256);
      await codeOf(() => readMachoLayout(new BufferSource(copy)));
    }
    for (let cut = 0; cut < 0x800; cut += 13)
      await codeOf(() => readMachoLayout(new BufferSource(bytes.subarray(0, cut))));
  });
});
